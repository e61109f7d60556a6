using System.Threading.Tasks.Sources;
using Veltrix.ServiceDefaults;

namespace Veltrix.Leaderboard;

/// <summary>
/// One Watch stream's waits (until the next frame may go; for the next change or the heartbeat, whichever comes
/// first), made once per stream instead of once per wait: one timer, one registration on the stream's
/// cancellation, and a reusable awaitable. At ten frames a second to 10,000 subscribers, a
/// <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/> per frame and a
/// <see cref="Task.WaitAsync(TimeSpan, TimeProvider, CancellationToken)"/> per change were a task, a timer and a
/// registration each time: most of what the leaderboard allocated per frame sent, and 100,000 timers a second
/// linked into the runtime's timer queue, which made every gen0 collection scan the cards of old timers.
/// Changes reach it as an <see cref="IChangeWaiter"/> of the board's <see cref="ChangeSignal"/>.
/// One waiter at a time (the stream's loop); not for concurrent use.
/// </summary>
internal sealed class WatchDelay : IValueTaskSource, IChangeWaiter, IDisposable
{
    private readonly TimeProvider _time;
    private readonly CancellationToken _cancellationToken;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _registration;
    private ManualResetValueTaskSourceCore<bool> _core;

    // 1 while a wait is outstanding: the timer, the signal and the cancellation race to end it, and only one may.
    private int _waiting;

    // The current wait's: when its time is up (a timer callback from an earlier wait, racing the re-arm, must not
    // end it), and whether a change also ends it (1) or it waits for time only (0).
    private long _dueAt;
    private int _endsAtChange;

    // Where this is registered: a registration stays until the change comes, so a board that stays quiet through
    // many heartbeats holds one per stream, not one per heartbeat.
    private ChangeSignal? _registeredOn;
    private long _registeredFor;

    public WatchDelay(TimeProvider time, CancellationToken cancellationToken)
    {
        // Continuations run on the pool, never inline on the timer thread that ends many waits at once.
        _core.RunContinuationsAsynchronously = true;
        _time = time;
        _cancellationToken = cancellationToken;
        _timer = DetachedTimer.Create(time, static state => ((WatchDelay)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _registration = cancellationToken.UnsafeRegister(static state => ((WatchDelay)state!).End(canceled: true), this);
    }

    /// <summary>
    /// Completes after <paramref name="delay"/> (positive), or, when a <paramref name="signal"/> is given, at its first
    /// change after generation <paramref name="seen"/> if that comes first (at once if it has come already); throws
    /// when the stream's cancellation comes first. A change may also end it a little early, with nothing changed
    /// since: the caller checks what it waits for, and waits again.
    /// </summary>
    public ValueTask WaitAsync(TimeSpan delay, ChangeSignal? signal = null, long seen = 0)
    {
        _core.Reset();
        _dueAt = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        Volatile.Write(ref _endsAtChange, signal is null ? 0 : 1);
        Volatile.Write(ref _waiting, 1);
        if (_cancellationToken.IsCancellationRequested)
        {
            End(canceled: true);
        }
        else if (signal is not null && !Register(signal, seen))
        {
            End(canceled: false);
        }
        else
        {
            _timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
        return new ValueTask(this, _core.Version);
    }

    void IChangeWaiter.OnChanged()
    {
        // A change this registered for while waiting for time only (the heartbeat ended that wait) ends nothing.
        if (Volatile.Read(ref _endsAtChange) == 1)
        {
            End(canceled: false);
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        _timer.Dispose();
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void OnTimer()
    {
        var early = Volatile.Read(ref _dueAt) - _time.GetTimestamp();
        if (early <= 0)
        {
            End(canceled: false);
        }
        else if (Volatile.Read(ref _waiting) == 1)
        {
            // Early (a callback of an earlier wait, or a coarse timer): wait out the rest.
            _timer.Change(TimeSpan.FromSeconds(Math.Max(early, 1) / (double)_time.TimestampFrequency), Timeout.InfiniteTimeSpan);
        }
    }

    // False when the change has come already.
    private bool Register(ChangeSignal signal, long seen)
    {
        if (ReferenceEquals(signal, _registeredOn) && _registeredFor == seen)
        {
            // Still registered from an earlier wait that the heartbeat ended: no change since.
            return signal.Generation == seen;
        }
        if (!signal.TryRegister(this, seen))
        {
            return false;
        }
        _registeredOn = signal;
        _registeredFor = seen;
        return true;
    }

    private void End(bool canceled)
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 0)
        {
            return;
        }
        if (canceled)
        {
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
        else
        {
            _core.SetResult(true);
        }
    }
}
