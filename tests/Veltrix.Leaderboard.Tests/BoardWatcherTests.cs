using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Veltrix.Leaderboard.Tests;

public sealed class BoardWatcherTests : IDisposable
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan TenHz = TimeSpan.FromMilliseconds(100);

    private readonly ObservedTimeProvider _time = new();
    private readonly CancellationTokenSource _call = new();
    private readonly BoardStore _store;
    private readonly ScoreApplier _applier;
    private readonly LeaderboardMetrics _metrics;
    private readonly BoardWatcher _watcher;

    public BoardWatcherTests()
    {
        (_store, _applier, _metrics) = Meters.NewWriter();
        _watcher = new BoardWatcher(_store, _metrics, Options.Create(new LeaderboardOptions()), _time,
            NullLogger<BoardWatcher>.Instance);
        _applier.Apply("w1", "a", 30, 1);
        _applier.Apply("w1", "b", 20, 2);
        _applier.Apply("w1", "c", 10, 3);
        _applier.Apply("w1", "d", 5, 4);
    }

    public void Dispose()
    {
        _call.Cancel();
        _call.Dispose();
    }

    [Fact]
    public async Task Watch_Subscribe_SendsFullTopN()
    {
        var stream = new RecordingStream();
        _ = _watcher.RunAsync("world:w1", 3, 10, stream, _call.Token);

        var frame = await stream.NextAsync();

        Assert.False(frame.Heartbeat);
        Assert.Equal("world:w1", frame.Board);
        Assert.Equal(["a", "b", "c"], frame.Entries.Select(e => e.PlayerId));
        Assert.Equal([1UL, 2UL, 3UL], frame.Entries.Select(e => e.Rank));
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), frame.SentAtMs);
    }

    [Fact]
    public async Task Watch_ChangeInTopN_FrameOnlyAfterTheMaxHzInterval()
    {
        var stream = new RecordingStream();
        _ = _watcher.RunAsync("world:w1", 3, 10, stream, _call.Token);
        var first = await stream.NextAsync();
        await _time.WaitForTimerAsync(Heartbeat);

        _applier.Apply("w1", "d", 100, 5);
        await _time.WaitForTimerAsync(TenHz);
        Assert.False(stream.HasPending);
        _time.Advance(TenHz);
        var frame = await stream.NextAsync();

        Assert.Equal(["d", "a", "b"], frame.Entries.Select(e => e.PlayerId));
        Assert.True(frame.Version > first.Version);
    }

    [Fact]
    public async Task Watch_ChangesWithinOneInterval_CoalescedIntoOneFrameWithTheLatest()
    {
        var stream = new RecordingStream();
        _ = _watcher.RunAsync("world:w1", 2, 10, stream, _call.Token);
        await stream.NextAsync();
        await _time.WaitForTimerAsync(Heartbeat);

        _applier.Apply("w1", "c", 40, 5);
        await _time.WaitForTimerAsync(TenHz);
        _applier.Apply("w1", "d", 50, 6);
        _applier.Apply("w1", "b", 60, 7);
        _time.Advance(TenHz);
        var frame = await stream.NextAsync();

        Assert.Equal(["b", "d"], frame.Entries.Select(e => e.PlayerId));
        // The next wait is the heartbeat's: the writes above left nothing else to send.
        await _time.WaitForTimerAsync(Heartbeat);
        Assert.False(stream.HasPending);
    }

    [Fact]
    public async Task Watch_ChangeBelowTopN_SendsNoFrame()
    {
        var stream = new RecordingStream();
        _ = _watcher.RunAsync("world:w1", 2, 10, stream, _call.Token);
        await stream.NextAsync();
        await _time.WaitForTimerAsync(Heartbeat);

        _applier.Apply("w1", "d", 7, 5);
        await _time.WaitForTimerAsync(TenHz);
        _time.Advance(TenHz);

        // Having compared the tops and found them equal, the watcher goes back to waiting out the heartbeat.
        await _time.WaitForTimerAsync(Heartbeat - TenHz);
        Assert.False(stream.HasPending);
        Assert.Equal(1, _metrics.FramesSent);
    }

    [Fact]
    public async Task Watch_NothingChanges_HeartbeatEveryFifteenSeconds()
    {
        var stream = new RecordingStream();
        _ = _watcher.RunAsync("world:w1", 3, 10, stream, _call.Token);
        var first = await stream.NextAsync();

        for (var i = 0; i < 2; i++)
        {
            await _time.WaitForTimerAsync(Heartbeat);
            _time.Advance(Heartbeat - TimeSpan.FromMilliseconds(1));
            Assert.False(stream.HasPending);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            var beat = await stream.NextAsync();

            Assert.True(beat.Heartbeat);
            Assert.Empty(beat.Entries);
            Assert.Equal(first.Version, beat.Version);
        }
    }

    [Fact]
    public async Task Watch_BoardNobodyIsOnYet_EmptyFrameThenFrameWhenPlayersArrive()
    {
        var stream = new RecordingStream();
        _ = _watcher.RunAsync("world:new", 3, 10, stream, _call.Token);
        var first = await stream.NextAsync();
        Assert.Empty(first.Entries);
        await _time.WaitForTimerAsync(Heartbeat);

        _applier.Apply("new", "z", 1, 1);
        await _time.WaitForTimerAsync(TenHz);
        _time.Advance(TenHz);
        var frame = await stream.NextAsync();

        Assert.Equal(["z"], frame.Entries.Select(e => e.PlayerId));
    }

    [Fact]
    public async Task Watch_SubscriberStopsReading_CutOffAfterWriteTimeoutWhileOthersGetFrames()
    {
        var stuck = new StuckStream();
        var healthy = new RecordingStream();
        var stuckRun = _watcher.RunAsync("world:w1", 3, 10, stuck, _call.Token);
        _ = _watcher.RunAsync("world:w1", 3, 10, healthy, _call.Token);
        await stuck.Writing;
        await healthy.NextAsync();
        await _time.WaitForTimerAsync(Heartbeat);

        // The writer goes on while the stuck subscriber's write is pending.
        for (var i = 0; i < 1000; i++)
        {
            _applier.Apply("w1", "p" + i, i, i);
        }
        await _time.WaitForTimerAsync(TenHz);
        _time.Advance(TenHz);
        var frame = await healthy.NextAsync();
        Assert.Equal(["p999", "p998", "p997"], frame.Entries.Select(e => e.PlayerId));
        Assert.False(stuckRun.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(10) - TenHz);
        await stuckRun.WaitAsync(Limits.Signal);

        Assert.Equal(1, _metrics.WatchCutOffs);
        Assert.Equal(1, _metrics.WatchSubscribers);
    }

    [Fact]
    public async Task Watch_CallerLeaves_RunEndsAndSubscriberCountDrops()
    {
        var stream = new RecordingStream();
        var run = _watcher.RunAsync("world:w1", 3, 10, stream, _call.Token);
        await stream.NextAsync();
        Assert.Equal(1, _metrics.WatchSubscribers);

        await _call.CancelAsync();
        await run.WaitAsync(Limits.Signal);

        Assert.Equal(0, _metrics.WatchSubscribers);
        Assert.Equal(0, _metrics.WatchCutOffs);
    }
}
