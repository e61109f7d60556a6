using System.Diagnostics.Metrics;

namespace Veltrix.Leaderboard;

/// <summary>
/// Counts kept as plain fields and published through observable instruments, so the writer's and the
/// watchers' hot paths pay an interlocked add and nothing else.
/// </summary>
internal sealed class LeaderboardMetrics
{
    public const string MeterName = "Veltrix.Leaderboard";

    private long _updatesApplied;
    private long _changesIgnored;
    private long _feedReconnects;
    private long _watchSubscribers;
    private long _framesSent;
    private long _watchCutOffs;

    public LeaderboardMetrics(IMeterFactory meters, BoardStore store)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter("veltrix.leaderboard.updates_applied", () => UpdatesApplied, "{update}",
            "Score changes read from the feed and applied to the boards");
        meter.CreateObservableCounter("veltrix.leaderboard.changes_ignored", () => ChangesIgnored, "{change}",
            "Score changes dropped because their ids were malformed");
        meter.CreateObservableCounter("veltrix.leaderboard.feed_reconnects", () => FeedReconnects, "{reconnect}",
            "Times the score feed subscription failed and was retried");
        meter.CreateObservableGauge("veltrix.leaderboard.boards", () => store.Count, "{board}",
            "Boards held in memory");
        meter.CreateObservableGauge("veltrix.leaderboard.watch_subscribers", () => WatchSubscribers, "{subscriber}",
            "Open Watch streams");
        meter.CreateObservableCounter("veltrix.leaderboard.frames_sent", () => FramesSent, "{frame}",
            "Watch frames written, heartbeats included");
        meter.CreateObservableCounter("veltrix.leaderboard.watch_cutoffs", () => WatchCutOffs, "{subscriber}",
            "Watch subscribers cut off because a write did not complete in time");
    }

    public long UpdatesApplied => Volatile.Read(ref _updatesApplied);
    public long ChangesIgnored => Volatile.Read(ref _changesIgnored);
    public long FeedReconnects => Volatile.Read(ref _feedReconnects);
    public long WatchSubscribers => Volatile.Read(ref _watchSubscribers);
    public long FramesSent => Volatile.Read(ref _framesSent);
    public long WatchCutOffs => Volatile.Read(ref _watchCutOffs);

    public void AddUpdatesApplied(int count) => Interlocked.Add(ref _updatesApplied, count);
    public void AddChangesIgnored(int count) => Interlocked.Add(ref _changesIgnored, count);
    public void FeedReconnected() => Interlocked.Increment(ref _feedReconnects);
    public void WatchStarted() => Interlocked.Increment(ref _watchSubscribers);
    public void WatchEnded() => Interlocked.Decrement(ref _watchSubscribers);
    public void FrameSent() => Interlocked.Increment(ref _framesSent);
    public void WatchCutOff() => Interlocked.Increment(ref _watchCutOffs);
}
