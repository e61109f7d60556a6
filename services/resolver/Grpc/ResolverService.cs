using Grpc.Core;
using Veltrix.Contracts.V1;
using Veltrix.Domain;

namespace Veltrix.Resolver.Grpc;

/// <summary>
/// Reads of resolved state. Each read runs on the owning partition's loop, in order with its writes; a world
/// another instance owns is read there, through <see cref="OwnerClients"/>.
/// </summary>
public sealed class ResolverService(PartitionSet partitions, OwnerClients owners) : Contracts.V1.Resolver.ResolverBase
{
    public override async Task<PlayerState> GetPlayer(GetPlayerRequest request, ServerCallContext context)
    {
        CheckId(request.WorldId, "world_id");
        CheckId(request.PlayerId, "player_id");
        var partition = partitions.For(request.WorldId, out var owner);
        if (partition is null)
        {
            return await owners.ForwardAsync(context, request.WorldId, owner, request,
                static (invoker, r, options) => new Contracts.V1.Resolver.ResolverClient(invoker).GetPlayerAsync(r, options));
        }
        var state = await partition.RunAsync(new GetPlayerWork(request.WorldId, request.PlayerId), context.CancellationToken);
        if (state is null)
        {
            Errors.NotFound($"player '{request.PlayerId}' has not joined world '{request.WorldId}'");
        }
        return state;
    }

    public override async Task<WorldState> GetWorld(GetWorldRequest request, ServerCallContext context)
    {
        CheckId(request.WorldId, "world_id");
        var partition = partitions.For(request.WorldId, out var owner);
        if (partition is null)
        {
            return await owners.ForwardAsync(context, request.WorldId, owner, request,
                static (invoker, r, options) => new Contracts.V1.Resolver.ResolverClient(invoker).GetWorldAsync(r, options));
        }
        var state = await partition.RunAsync(new GetWorldWork(request.WorldId), context.CancellationToken);
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
