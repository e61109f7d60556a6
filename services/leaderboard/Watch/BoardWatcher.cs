using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.V1;

namespace Veltrix.Leaderboard;

/// <summary>
/// Runs one Watch stream. The writer never touches a watcher: it bumps the board's top version and
/// signals. Each watcher pulls the latest top when it is ready to send, so a slow one coalesces
/// changes instead of queueing them, holds at most the frame it is writing, and a write that is not
/// taken within the write timeout cancels the call, which resets the stream. Frames go out as bytes: a top's
/// frame is encoded once and shared by every watcher that sends it (<see cref="TopView.Encoded"/>).
/// </summary>
internal sealed class BoardWatcher(
    BoardStore store,
    LeaderboardMetrics metrics,
    IOptions<LeaderboardOptions> options,
    TimeProvider time,
    ILogger<BoardWatcher> logger)
{
    private readonly TimeSpan _heartbeat = TimeSpan.FromMilliseconds(options.Value.HeartbeatMs);
    private readonly TimeSpan _writeTimeout = TimeSpan.FromMilliseconds(options.Value.WatchWriteTimeoutMs);

    /// <summary>Streams frames until the caller goes away or stops taking them.</summary>
    public async Task RunAsync(string boardName, int topN, int maxHz, IServerStreamWriter<FrameBytes> stream,
        CancellationToken cancellationToken)
    {
        metrics.WatchStarted();
        using var writeTimeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        try
        {
            await LoopAsync(boardName, topN, maxHz, stream, writeTimeout, cancellationToken);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The subscriber went away; whatever the pending wait or write threw says only that.
        }
        catch (Exception) when (writeTimeout.IsCancellationRequested)
        {
            metrics.WatchCutOff();
            Log.WatchCutOff(logger, boardName, (int)_writeTimeout.TotalMilliseconds);
        }
        finally
        {
            metrics.WatchEnded();
        }
    }

    private async Task LoopAsync(string boardName, int topN, int maxHz, IServerStreamWriter<FrameBytes> stream,
        CancellationTokenSource writeTimeout, CancellationToken cancellationToken)
    {
        var frame = new FrameBytes();
        store.TryGet(boardName, out var board);
        var sent = board?.ReadTop();
        var seenTopVersion = sent?.TopVersion ?? -1;
        // Frames are paced from when each began to go out, on a grid of 1 / max_hz (FramePacer), so neither a
        // write's own time nor a late timer stretches the interval: a subscriber at max_hz 10 gets ten frames a
        // second while the top keeps changing, not 1 / (100 ms + write + lateness).
        var lastSent = time.GetTimestamp();
        var pacer = new FramePacer(maxHz, time.TimestampFrequency, lastSent);
        using var delay = new WatchDelay(time, cancellationToken);
        pacer.Sent(lastSent);
        await SendAsync(stream, Frame(frame, boardName, sent, topN), writeTimeout);

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (board is null && store.TryGet(boardName, out var created))
            {
                board = created;
            }
            // Read the signal's generation before looking at the version, so a change in between still wakes us.
            var signal = board is null ? store.BoardAdded : board.TopChanged;
            var generation = signal.Generation;
            if (board is null || board.TopVersion == seenTopVersion)
            {
                var quiet = _heartbeat - time.GetElapsedTime(lastSent);
                if (quiet > TimeSpan.Zero)
                {
                    await delay.WaitAsync(quiet, signal, generation);
                    if (time.GetElapsedTime(lastSent) < _heartbeat)
                    {
                        // A change (or an early wake): look again.
                        continue;
                    }
                }
                lastSent = time.GetTimestamp();
                pacer.Sent(lastSent);
                await SendAsync(stream, Heartbeat(frame, boardName, sent), writeTimeout);
                continue;
            }

            // Changes arriving faster than max_hz are coalesced: wait until the next frame may go, then send the latest.
            var early = pacer.WaitFrom(time.GetTimestamp());
            if (early > 0)
            {
                await delay.WaitAsync(TimeSpan.FromTicks(early * TimeSpan.TicksPerSecond / time.TimestampFrequency));
            }
            var top = board.ReadTop();
            seenTopVersion = top.TopVersion;
            if (SameTop(sent, top, topN))
            {
                continue;
            }
            sent = top;
            lastSent = time.GetTimestamp();
            pacer.Sent(lastSent);
            await SendAsync(stream, Frame(frame, boardName, top, topN), writeTimeout);
        }
    }

    private async Task SendAsync(IServerStreamWriter<FrameBytes> stream, FrameBytes frame, CancellationTokenSource writeTimeout)
    {
        frame.SentAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        writeTimeout.CancelAfter(_writeTimeout);
        await stream.WriteAsync(frame, writeTimeout.Token);
        writeTimeout.CancelAfter(Timeout.InfiniteTimeSpan);
        if (writeTimeout.IsCancellationRequested)
        {
            // The timer fired as the write completed: it took the whole timeout, which is too slow all the same.
            throw new OperationCanceledException(writeTimeout.Token);
        }
        metrics.FrameSent();
    }

    private static FrameBytes Frame(FrameBytes frame, string boardName, TopView? top, int topN)
    {
        var bytes = top is null ? FrameBytes.Encode(new BoardFrame { Board = boardName }) : top.Encoded(boardName, topN);
        frame.Set(bytes, bytes.Length);
        return frame;
    }

    // Rare (one per quiet heartbeat interval), so encoded for the occasion.
    private static FrameBytes Heartbeat(FrameBytes frame, string boardName, TopView? sent)
    {
        var bytes = FrameBytes.Encode(new BoardFrame { Board = boardName, Version = (ulong)(sent?.Version ?? 0), Heartbeat = true });
        frame.Set(bytes, bytes.Length);
        return frame;
    }

    // Whether the first topN entries a subscriber saw are the ones it would see now.
    private static bool SameTop(TopView? sent, TopView now, int topN)
    {
        var before = sent?.Entries ?? [];
        var after = now.Entries;
        var count = Math.Min(topN, after.Length);
        if (Math.Min(topN, before.Length) != count)
        {
            return false;
        }
        for (var i = 0; i < count; i++)
        {
            if (before[i].Score != after[i].Score || !string.Equals(before[i].PlayerId, after[i].PlayerId, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}
