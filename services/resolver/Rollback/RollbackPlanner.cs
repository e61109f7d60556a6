using Veltrix.Contracts.Storage;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Veltrix.Storage;

namespace Veltrix.Resolver.Rollback;

/// <summary>
/// Plans a rollback off the partition loop, so the partition's other worlds keep being served: finds a
/// snapshot taken before the window, replays the world's log from there without the voided events, and
/// catches up with what is appended meanwhile until only a few entries are left for the loop to apply.
/// </summary>
public static class RollbackPlanner
{
    // The loop applies at most about this many entries itself; the rest is read off the loop.
    private const int TailForTheLoop = 64;
    private const int CatchUpRounds = 8;

    public static async Task<WorldRewrite> PlanAsync(int partition, RollbackStart start, RollbackRequest request, CancellationToken cancellationToken)
    {
        var window = new RollbackWindow(request.WorldId, request.PlayerIds, request.FromMs, request.ToMs, long.MaxValue);
        var rewrite = await FromBaseAsync(partition, start, window, cancellationToken).ConfigureAwait(false);
        for (var round = 0; round < CatchUpRounds; round++)
        {
            var applied = 0;
            await foreach (var entry in start.Log.ReadTransientAsync(rewrite.Position, cancellationToken).ConfigureAwait(false))
            {
                rewrite.Apply(entry.Position, entry.Data.Span);
                applied++;
            }
            if (applied <= TailForTheLoop)
            {
                break;
            }
        }
        return rewrite;
    }

    /// <summary>
    /// The newest snapshot every voided event comes after: its latest stamp is before the window and before
    /// the window of every later rollback of the world (their voids must be replayed too). Without one,
    /// the start of the log, if it was never trimmed.
    /// </summary>
    private static async Task<WorldRewrite> FromBaseAsync(int partition, RollbackStart start, RollbackWindow window, CancellationToken cancellationToken)
    {
        var log = start.Log;
        var positions = await log.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        for (var i = positions.Count - 1; i >= 0; i--)
        {
            var position = positions[i];
            if (position > start.NextPosition)
            {
                continue;
            }
            Snapshot? snapshot;
            try
            {
                snapshot = await log.ReadSnapshotAsync(position, cancellationToken).ConfigureAwait(false);
            }
            catch (LogCorruptedException)
            {
                // A damaged snapshot is no base; an older one (or the start of the log) still is.
                continue;
            }
            if (snapshot is null || SnapshotHeader.MaxStampMs(snapshot.State.Span) is not { } maxStamp)
            {
                continue;
            }
            if (maxStamp >= window.FromMs || start.Earlier.Any(m => (long)m.Position >= position && m.FromMs <= maxStamp))
            {
                continue;
            }
            var image = PartitionImage.Parser.ParseFrom(snapshot.State.Span);
            var worldImage = image.Worlds.FirstOrDefault(w => w.WorldId == window.WorldId);
            var world = worldImage is null ? new World(window.WorldId, WorldRules.Default) : PartitionImages.RestoreWorld(worldImage);
            var flags = image.Flags is null ? FlagSet.Defaults() : PartitionImages.FromImage(image.Flags);
            return new WorldRewrite(world, flags, position, window, start.Earlier.Where(m => (long)m.Position >= position));
        }
        if (log.FirstPosition == 1)
        {
            return new WorldRewrite(new World(window.WorldId, WorldRules.Default), FlagSet.Defaults(), 1, window, start.Earlier);
        }
        throw new RollbackHorizonException(partition, window.FromMs);
    }
}

/// <summary>No snapshot in the retained log precedes the window: it reaches past the rollback horizon.</summary>
public sealed class RollbackHorizonException(int partition, long fromMs)
    : Exception($"partition {partition} keeps no state from before {fromMs}: the window reaches past the rollback horizon");
