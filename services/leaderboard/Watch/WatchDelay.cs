using System.Threading.Tasks.Sources;

namespace Veltrix.Leaderboard;

/// <summary>
/// One Watch stream's waits (until the next frame may go; for the next change or the heartbeat, whichever comes
/// first), made once per stream instead of once per wait: one timer, one registration on the stream's
/// cancellation, and a reusable awaitable. At ten frames a second to 10,000 subscribers, a
/// <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/> per frame and a
/// <see cref="Task.WaitAsync(TimeSpan, TimeProvider, CancellationToken)"/> per change were a task, a timer and a
/// registration each time: most of what the leaderboard allocated per frame sent, and 100,000 timers a second
/// linked into the runtime's timer queue, which made every gen0 collection scan the cards of old timers.
/// One waiter at a time (the stream's loop); not for concurrent use.
/// </summary>
internal sealed class WatchDelay : IValueTaskSource, IDisposable
{
    private readonly TimeProvider _time;
    private readonly CancellationToken _cancellationToken;
    private readonly ITimer _timer;
    private readonly Action _onSignal;
    private readonly CancellationTokenRegistration _registration;
    private ManualResetValueTaskSourceCore<bool> _core;

    // 1 while a wait is outstanding: the timer, the signal and the cancellation race to end it, and only one may.
    private int _waiting;

    // The current wait's: when its time is up (a timer callback from an earlier wait, racing the re-arm, must not
    // end it), and the signal it also ends at (null when it waits for time only).
    private long _dueAt;
    private Task? _signal;

    // The last signal this waits on: a continuation cannot be taken off a task, so a board that stays quiet
    // through many heartbeats gets one from each stream, not one per heartbeat.
    private Task? _registeredOn;

    public WatchDelay(TimeProvider time, CancellationToken cancellationToken)
    {
        // Continuations run on the pool, never inline on the timer thread that ends many waits at once.
        _core.RunContinuationsAsynchronously = true;
        _time = time;
        _cancellationToken = cancellationToken;
        _onSignal = OnSignal;
        // The timer outlives this call: it must not keep the request's execution context (trace, log scopes).
        var restore = ExecutionContext.IsFlowSuppressed() ? default(AsyncFlowControl?) : ExecutionContext.SuppressFlow();
        try
        {
            _timer = time.CreateTimer(static state => ((WatchDelay)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            restore?.Undo();
        }
        _registration = cancellationToken.UnsafeRegister(static state => ((WatchDelay)state!).End(canceled: true), this);
    }

    /// <summary>
    /// Completes after <paramref name="delay"/> (positive), or as soon as <paramref name="signal"/> completes when
    /// one is given; throws when the stream's cancellation comes first.
    /// </summary>
    public ValueTask WaitAsync(TimeSpan delay, Task? signal = null)
    {
        _core.Reset();
        _dueAt = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        Volatile.Write(ref _signal, signal);
        Volatile.Write(ref _waiting, 1);
        if (_cancellationToken.IsCancellationRequested)
        {
            End(canceled: true);
        }
        else if (signal is { IsCompleted: true })
        {
            End(canceled: false);
        }
        else
        {
            // The signal is a task shared by every watcher of the board: a cached action as its continuation
            // costs nothing per wait beyond a slot in its continuation list.
            if (signal is not null && !ReferenceEquals(signal, _registeredOn))
            {
                _registeredOn = signal;
                signal.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onSignal);
            }
            _timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
        return new ValueTask(this, _core.Version);
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

    // A signal a wait gave up on (the heartbeat came first) still calls this when it completes, maybe during a
    // later wait: only the current wait's signal, completed, may end it.
    private void OnSignal()
    {
        if (Volatile.Read(ref _signal) is { IsCompleted: true })
        {
            End(canceled: false);
        }
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
