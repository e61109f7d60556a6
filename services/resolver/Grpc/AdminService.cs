using Grpc.Core;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Veltrix.Resolver.Rollback;
using Veltrix.Storage;

namespace Veltrix.Resolver.Grpc;

/// <summary>Admin operations. Rollback voids chosen events of one world and replays the rest (DESIGN.md section 4).</summary>
public sealed class AdminService(PartitionSet partitions, OwnerClients owners, RollbackAudit audit) : Admin.AdminBase
{
    /// <summary>Who asks, as the admin tool declares it, until the gateway passes on an authenticated caller.</summary>
    public const string ActorHeader = "veltrix-actor";
    private const int MaxPlayers = 10_000;
    private const int MaxReasonLength = 1_000;

    public override async Task<RollbackReport> Rollback(RollbackRequest request, ServerCallContext context)
    {
        Validate(request);
        var actor = ActorOf(context);
        var partition = partitions.For(request.WorldId, out var owner);
        if (partition is null)
        {
            // Another instance owns the world; it audits the rollback under the same actor.
            return await owners.ForwardAsync(context, request.WorldId, owner, request, (invoker, r, options) =>
            {
                options.Headers!.Add(ActorHeader, actor);
                return new Admin.AdminClient(invoker).RollbackAsync(r, options);
            });
        }
        RollbackReport? report;
        try
        {
            report = await partition.RollbackAsync(request, actor, audit, context.CancellationToken);
        }
        catch (RollbackHorizonException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (RollbackConflictException ex)
        {
            throw new RpcException(new Status(StatusCode.Aborted, ex.Message));
        }
        catch (LogCorruptedException ex)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, ex.Message));
        }
        if (report is null)
        {
            Errors.NotFound($"world '{request.WorldId}' does not exist");
        }
        return report;
    }

    private static void Validate(RollbackRequest request)
    {
        if (!EventValidator.IsValidId(request.WorldId))
        {
            Errors.InvalidArgument("world_id must be 1-64 characters of A-Z a-z 0-9 _ -");
        }
        if (request.PlayerIds.Count > MaxPlayers)
        {
            Errors.InvalidArgument($"at most {MaxPlayers} player_ids; leave it empty for every player");
        }
        foreach (var player in request.PlayerIds)
        {
            if (!EventValidator.IsValidId(player))
            {
                Errors.InvalidArgument("each player_id must be 1-64 characters of A-Z a-z 0-9 _ -");
            }
        }
        if (request.FromMs < 0 || request.ToMs < request.FromMs)
        {
            Errors.InvalidArgument("the window needs 0 <= from_ms <= to_ms");
        }
        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > MaxReasonLength)
        {
            Errors.InvalidArgument($"reason is required, at most {MaxReasonLength} characters: it goes into the audit record");
        }
    }

    // Who asked, for the audit: the authenticated caller once the gateway passes one on, else what the
    // admin tool declared.
    private static string ActorOf(ServerCallContext context)
    {
        var user = context.GetHttpContext().User.Identity;
        if (user is { IsAuthenticated: true, Name: { Length: > 0 } name })
        {
            return name;
        }
        var declared = context.RequestHeaders.GetValue(ActorHeader);
        return string.IsNullOrWhiteSpace(declared) ? "unknown" : declared[..Math.Min(declared.Length, 128)];
    }
}
