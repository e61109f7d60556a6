using Veltrix.Resolver.Rollback;
using Veltrix.Storage;

namespace Veltrix.Resolver;

/// <summary>
/// Writes a partition's snapshots in the background and then trims the log past the rollback horizon. The
/// loop copies its own state between two turns (<see cref="PartitionCopy.Take"/>: the state is exactly that
/// of the log up to the turn's end) and hands the copy over; sorting, encoding and writing happen here. The
/// loop stops only for the copy, and nothing replays the log to rebuild a second copy of the state. (The replay this
/// replaced cost a tenth of a core, and its copy of the state lived long enough to be promoted: it brought
/// on the resolver's gen2 collections under load.) The partitions of one resolver write in turns (<c>gate</c>).
/// </summary>
internal sealed class SnapshotCompactor(
    int partition, StorageOptions storage, TimeProvider time, ILogger logger,
    Func<long, CancellationToken, Task> trimOnLoop, SemaphoreSlim? gate = null)
{
    // Latest stamps of the snapshots seen so far, so the horizon check reads each snapshot once.
    private readonly Dictionary<long, long?> _stamps = [];
    private Task _running = Task.CompletedTask;

    public bool Running => !_running.IsCompleted;

    /// <summary>
    /// Starts writing the snapshot at <paramref name="position"/> of <paramref name="copy"/>, the state the loop
    /// copied at that position; it is encoded (<see cref="PartitionImages.Write"/>) and written here, off the loop,
    /// and disposed once written. The caller checks <see cref="Running"/> first: one snapshot of a partition at a time.
    /// </summary>
    public void Start(IPartitionLog log, PartitionCopy copy, long position, long events, long copyMs, CancellationToken stopping)
    {
        if (Running)
        {
            copy.Dispose();
            throw new InvalidOperationException("a snapshot of this partition is still being written");
        }
        _running = Task.Run(() => WriteAsync(log, copy, position, events, copyMs, stopping), CancellationToken.None);
    }

    /// <summary>Waits for a snapshot in progress to end (the caller cancelled it).</summary>
    public Task WaitAsync() => _running;

    private async Task WriteAsync(IPartitionLog log, PartitionCopy copy, long position, long events, long copyMs, CancellationToken stopping)
    {
        using (copy)
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
                await WriteNowAsync(log, copy, position, events, copyMs, stopping).ConfigureAwait(false);
            }
            finally
            {
                gate?.Release();
            }
        }
    }

    private async Task WriteNowAsync(IPartitionLog log, PartitionCopy copy, long position, long events, long copyMs, CancellationToken stopping)
    {
        try
        {
            var started = Environment.TickCount64;
            var (image, length) = PartitionImages.Write(copy, position);
            try
            {
                await log.WriteSnapshotAsync(position, image.AsMemory(0, length), stopping).ConfigureAwait(false);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(image);
            }
            _stamps[position] = copy.MaxStampMs;
            Log.SnapshotWritten(logger, partition, position, events, copyMs, Environment.TickCount64 - started);
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
