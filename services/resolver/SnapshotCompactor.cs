using Veltrix.Resolver.Rollback;
using Veltrix.Storage;

namespace Veltrix.Resolver;

/// <summary>
/// Takes a partition's snapshots in the background, so the loop never stops for one: rebuilds the state
/// from the newest snapshot plus the log after it (the same replay recovery does), writes that as the next
/// snapshot, then trims the log past the rollback horizon. The replay needs no lock on the live state;
/// it costs the background thread a replay of the events since the last snapshot. The replay builds a
/// second copy of the partition's state, so the partitions of one resolver take turns (<c>gate</c>): at
/// most one extra partition's state is in memory, and at most one replay competes with the loops for CPU.
/// </summary>
internal sealed class SnapshotCompactor(
    int partition, ResolverOptions options, StorageOptions storage, TimeProvider time, ILogger logger,
    Func<long, CancellationToken, Task> trimOnLoop, SemaphoreSlim? gate = null)
{
    // Latest stamps of the snapshots seen so far, so the horizon check reads each snapshot once.
    private readonly Dictionary<long, long?> _stamps = [];
    private Task _running = Task.CompletedTask;

    public bool Running => !_running.IsCompleted;

    /// <summary>Starts a snapshot of <paramref name="log"/> unless one is being taken.</summary>
    public void Start(IPartitionLog log, CancellationToken stopping)
    {
        if (!Running)
        {
            _running = Task.Run(() => CompactAsync(log, stopping), CancellationToken.None);
        }
    }

    /// <summary>Waits for a snapshot in progress to end (the caller cancelled it).</summary>
    public Task WaitAsync() => _running;

    private async Task CompactAsync(IPartitionLog log, CancellationToken stopping)
    {
        if (gate is not null)
        {
            try
            {
                await gate.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        try
        {
            await CompactNowAsync(log, stopping).ConfigureAwait(false);
        }
        finally
        {
            gate?.Release();
        }
    }

    private async Task CompactNowAsync(IPartitionLog log, CancellationToken stopping)
    {
        try
        {
            var started = Environment.TickCount64;
            var state = new PartitionState(partition, options) { Replaying = true };
            var (_, replayed, position) = await PartitionReplay.RebuildAsync(state, log, stopping).ConfigureAwait(false);
            if (replayed == 0)
            {
                return;
            }
            state.ForgetRollbacksBefore(log.FirstPosition);
            var (image, length) = PartitionImages.CapturePooled(state, position);
            try
            {
                await log.WriteSnapshotAsync(position, image.AsMemory(0, length), stopping).ConfigureAwait(false);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(image);
            }
            _stamps[position] = state.MaxStampMs;
            Log.SnapshotWritten(logger, partition, position, replayed, Environment.TickCount64 - started);
            await TrimPastHorizonAsync(log, stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            // The log still holds everything; a failed snapshot only makes the next recovery longer.
            // A log closed under it (the partition was rebuilt) lands here too.
            Log.SnapshotFailed(logger, partition, ex);
        }
    }

    /// <summary>
    /// Drops the entries before the newest snapshot whose every input is older than the horizon: a rollback
    /// window inside the horizon starts after that snapshot, so it is all any rollback needs.
    /// </summary>
    private async Task TrimPastHorizonAsync(IPartitionLog log, CancellationToken stopping)
    {
        var horizon = time.GetUtcNow().ToUnixTimeMilliseconds() - storage.RetentionHours * 3_600_000L;
        var positions = await log.ListSnapshotsAsync(stopping).ConfigureAwait(false);
        foreach (var gone in _stamps.Keys.Where(p => !positions.Contains(p)).ToArray())
        {
            _stamps.Remove(gone);
        }
        for (var i = positions.Count - 1; i >= 0; i--)
        {
            var position = positions[i];
            if (!_stamps.TryGetValue(position, out var stamp))
            {
                var snapshot = await log.ReadSnapshotAsync(position, stopping).ConfigureAwait(false);
                _stamps[position] = stamp = snapshot is null ? null : SnapshotHeader.MaxStampMs(snapshot.State.Span);
            }
            if (stamp < horizon)
            {
                if (position > log.FirstPosition)
                {
                    await trimOnLoop(position, stopping).ConfigureAwait(false);
                    Log.Trimmed(logger, partition, position, log.FirstPosition);
                }
                return;
            }
        }
    }
}

/// <summary>Drops log entries before a position; on the loop, the log's only writer.</summary>
internal sealed class TrimWork(long before) : LoopWork<bool>
{
    public override async ValueTask<bool> ExecuteOnLoopAsync(PartitionState state, IPartitionLog log, CancellationToken cancellationToken)
    {
        await log.TrimAsync(before, cancellationToken).ConfigureAwait(false);
        state.ForgetRollbacksBefore(log.FirstPosition);
        return true;
    }
}
