namespace Veltrix.Storage;

/// <summary>The parts of the snapshot history both stores share: the retention rule and the fallback read.</summary>
internal static class SnapshotHistory
{
    /// <summary>
    /// 32 snapshots over a 24 h log put one about every 45 minutes, so a rollback replays at most that much
    /// before its window; the count costs one file or Redis hash each.
    /// </summary>
    public const int DefaultKept = 32;

    /// <summary>The fewest a store may keep: the retention rule needs an oldest and a newest.</summary>
    public const int MinimumKept = 2;

    // Relisting when the newest listed snapshot vanished: only a newer write drops it (as an interior one), so
    // each retry sees a newer snapshot; the bound keeps a reader from chasing a fast writer for ever.
    private const int Relists = 4;

    /// <summary>
    /// The index into <paramref name="positions"/> (ascending, more than two) of the snapshot to drop: the interior
    /// one whose removal leaves the smallest gap between its neighbours, the older one on a tie. Dropping the
    /// snapshot in the densest spot keeps the rest evenly spread; never dropping the oldest keeps the history
    /// reaching back as far as the log does.
    /// </summary>
    public static int PickToDrop(ReadOnlySpan<long> positions)
    {
        var (drop, smallest) = (1, long.MaxValue);
        for (var i = 1; i < positions.Length - 1; i++)
        {
            var gap = positions[i + 1] - positions[i - 1];
            if (gap < smallest)
            {
                (drop, smallest) = (i, gap);
            }
        }

        return drop;
    }

    /// <summary>
    /// The newest intact snapshot of <paramref name="log"/>, passing over damaged ones; throws the newest one's
    /// corruption when every held snapshot is damaged. A snapshot that vanishes between listing and reading was
    /// dropped concurrently: an interior one is skipped, the newest makes the list be read again.
    /// </summary>
    public static async ValueTask<Snapshot?> ReadLatestAsync(IPartitionLog log, CancellationToken cancellationToken)
    {
        LogCorruptedException? damaged = null;
        for (var attempt = 0; ; attempt++)
        {
            var held = await log.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
            var relist = false;
            for (var i = held.Count - 1; i >= 0; i--)
            {
                Snapshot? snapshot;
                try
                {
                    snapshot = await log.ReadSnapshotAsync(held[i], cancellationToken).ConfigureAwait(false);
                }
                catch (LogCorruptedException e)
                {
                    damaged ??= e;
                    continue;
                }

                if (snapshot is not null)
                {
                    return snapshot;
                }

                if (i == held.Count - 1 && attempt < Relists)
                {
                    relist = true;
                    break;
                }
            }

            if (!relist)
            {
                return damaged is null ? null : throw damaged;
            }
        }
    }
}
