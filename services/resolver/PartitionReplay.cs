using Veltrix.Storage;

namespace Veltrix.Resolver;

/// <summary>Rebuilds a partition's state from its store: the newest snapshot, then every log entry after it.</summary>
internal static class PartitionReplay
{
    /// <summary>
    /// Fills <paramref name="state"/> (fresh, <see cref="PartitionState.Replaying"/>) with the state after
    /// every entry the log held when the call started.
    /// </summary>
    /// <returns>Where the snapshot was (0: none), how many entries were replayed, and the position reached.</returns>
    public static async Task<(long Snapshot, long Replayed, long Position)> RebuildAsync(
        PartitionState state, IPartitionLog log, CancellationToken cancellationToken)
    {
        var from = log.FirstPosition;
        var snapshot = await log.ReadLatestSnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (snapshot is not null)
        {
            PartitionImages.Restore(state, snapshot.State.Span);
            from = snapshot.Position;
        }
        else if (log.FirstPosition > 1)
        {
            throw new InvalidDataException($"the log starts at entry {log.FirstPosition} and no snapshot covers what came before");
        }
        long replayed = 0;
        var position = from;
        await foreach (var entry in log.ReadTransientAsync(from, cancellationToken).ConfigureAwait(false))
        {
            Apply(state, entry.Data.Span);
            replayed++;
            position = entry.Position + 1;
        }
        return (snapshot?.Position ?? 0, replayed, position);
    }

    /// <summary>One logged entry's effect, exactly as the loop had it.</summary>
    public static void Apply(PartitionState state, ReadOnlySpan<byte> entry)
    {
        var logged = state.Logged;
        logged.Read(entry);
        if (logged.Flags is not null)
        {
            state.Flags = PartitionImages.FromImage(logged.Flags);
        }
        foreach (var batch in logged.Batches)
        {
            ApplyWork.ApplyInputs(state, entry[batch], reply: null);
        }
        if (logged.Rollback is not null)
        {
            state.CommitRollback(logged.Rollback);
        }
    }
}
