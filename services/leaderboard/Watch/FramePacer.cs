namespace Veltrix.Leaderboard;

/// <summary>
/// When a Watch stream's next frame may go, so that a top that keeps changing is sent at max_hz and never faster.
/// <para>
/// Frames keep to a grid of one interval: a frame that went a little late (timers fire late on a busy machine)
/// does not push every later one back, so a subscriber at 10 Hz gets ten frames a second rather than one per
/// interval plus lateness. A frame more than an interval late (after a quiet spell) starts a new grid. And no
/// second holds more than max_hz frames: the frame max_hz frames back must be at least a second old.
/// </para>
/// Times are <see cref="TimeProvider.GetTimestamp"/> values. One per stream; not thread-safe.
/// </summary>
internal sealed class FramePacer
{
    private readonly long _interval;
    private readonly long _second;
    private readonly long[] _recent;
    private long _sent;
    private long _dueAt;

    public FramePacer(int maxHz, long timestampFrequency, long firstDueAt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHz, 1);
        _second = timestampFrequency;
        _interval = timestampFrequency / maxHz;
        _recent = new long[maxHz];
        _dueAt = firstDueAt;
    }

    /// <summary>How long, in timestamp units, until a frame may go at <paramref name="now"/>; zero or less: now.</summary>
    public long WaitFrom(long now)
    {
        var earliest = _dueAt;
        if (_sent >= _recent.Length)
        {
            earliest = Math.Max(earliest, _recent[_sent % _recent.Length] + _second);
        }
        return earliest - now;
    }

    /// <summary>A frame (or heartbeat) began to go out at <paramref name="at"/>.</summary>
    public void Sent(long at)
    {
        _dueAt = at - _dueAt < _interval ? _dueAt + _interval : at + _interval;
        _recent[_sent % _recent.Length] = at;
        _sent++;
    }
}
