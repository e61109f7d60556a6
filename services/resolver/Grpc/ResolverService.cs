using Grpc.Core;
using Veltrix.Contracts.V1;
using Veltrix.Domain;

namespace Veltrix.Resolver.Grpc;

/// <summary>Reads of resolved state. Each read runs on the owning partition's loop, in order with its writes.</summary>
public sealed class ResolverService(PartitionSet partitions) : Contracts.V1.Resolver.ResolverBase
{
    public override async Task<PlayerState> GetPlayer(GetPlayerRequest request, ServerCallContext context)
    {
        CheckId(request.WorldId, "world_id");
        CheckId(request.PlayerId, "player_id");
        var state = await partitions.For(request.WorldId).RunAsync(new GetPlayerWork(request.WorldId, request.PlayerId), context.CancellationToken);
        if (state is null)
        {
            Errors.NotFound($"player '{request.PlayerId}' has not joined world '{request.WorldId}'");
        }
        return state;
    }

    public override async Task<WorldState> GetWorld(GetWorldRequest request, ServerCallContext context)
    {
        CheckId(request.WorldId, "world_id");
        var state = await partitions.For(request.WorldId).RunAsync(new GetWorldWork(request.WorldId), context.CancellationToken);
        if (state is null)
        {
            Errors.NotFound($"world '{request.WorldId}' does not exist");
        }
        return state;
    }

    private static void CheckId(string id, string field)
    {
        if (!EventValidator.IsValidId(id))
        {
            Errors.InvalidArgument($"{field} must be 1-64 characters of A-Z a-z 0-9 _ -");
        }
    }
}
