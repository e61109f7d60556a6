using Veltrix.Contracts.Storage;
using Veltrix.Contracts.V1;
using Veltrix.Storage;

namespace Veltrix.Resolver.Rollback;

/// <summary>What a rollback plan starts from: the log as it is now, and the world's earlier rollbacks.</summary>
public sealed record RollbackStart(IPartitionLog Log, long NextPosition, RollbackMark[] Earlier);

/// <summary>Reads, on the loop, what planning a rollback of one world needs; null when the world does not exist.</summary>
public sealed class RollbackStartWork(string worldId) : LoopWork<RollbackStart?>
{
    public override ValueTask<RollbackStart?> ExecuteOnLoopAsync(PartitionState state, IPartitionLog log, CancellationToken cancellationToken) =>
        ValueTask.FromResult(state.FindWorld(worldId) is null
            ? null
            : new RollbackStart(log, state.NextPosition, [.. state.Rollbacks.Where(m => m.WorldId == worldId)]));
}

/// <summary>
/// Finishes a planned rollback on the loop: applies the few entries logged since the plan was read,
/// compares the rewritten world with the live one, and (unless a dry run) puts it in place as the turn's
/// only log entry. Nothing changes before that last step, so a failure leaves the world as it was.
/// </summary>
public sealed class RollbackCommitWork(
    WorldRewrite rewrite, IPartitionLog plannedOn, RollbackRequest request, string actor, TimeProvider time)
    : LoopWork<RollbackReport>
{
    /// <summary>What was committed; null for a dry run or before the commit.</summary>
    public RollbackRecord? Committed { get; private set; }

    public override async ValueTask<RollbackReport> ExecuteOnLoopAsync(PartitionState state, IPartitionLog log, CancellationToken cancellationToken)
    {
        if (!ReferenceEquals(log, plannedOn))
        {
            throw new PartitionUnavailableException(state.Id, "the partition was rebuilt while the rollback was planned; try again");
        }
        await foreach (var entry in log.ReadTransientAsync(rewrite.Position, cancellationToken).ConfigureAwait(false))
        {
            rewrite.Apply(entry.Position, entry.Data.Span);
        }
        var live = state.FindWorld(request.WorldId);
        var report = new RollbackReport
        {
            WorldId = request.WorldId,
            DryRun = request.DryRun,
            EventsVoided = (ulong)rewrite.Voided,
            EventsReplayed = (ulong)rewrite.Replayed,
        };
        RollbackDiff.Fill(report, live, rewrite.World);
        if (request.DryRun)
        {
            return report;
        }

        var position = state.NextPosition;
        report.AuditId = $"{request.WorldId}@{state.Id}.{position}";
        var mark = new RollbackMark
        {
            WorldId = request.WorldId,
            FromMs = request.FromMs,
            ToMs = request.ToMs,
            Position = (ulong)position,
            AuditId = report.AuditId,
        };
        mark.PlayerIds.AddRange(request.PlayerIds);
        Committed = new RollbackRecord
        {
            Mark = mark,
            World = PartitionImages.CaptureWorld(rewrite.World),
            Actor = actor,
            Reason = request.Reason,
            CommittedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            Report = report,
        };
        state.CommitRollback(Committed);
        return report;
    }
}
