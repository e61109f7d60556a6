using System.Threading.Tasks.Sources;

namespace Veltrix.Leaderboard;

/// <summary>
/// One Watch stream's wait between frames, made once per stream instead of once per frame: one timer, one
/// registration on the stream's cancellation, and a reusable awaitable. At ten frames a second to 10,000
/// subscribers, a <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/> per frame was a task, a
/// timer and a registration each time: 160 of the 440 bytes the leaderboard allocated per frame sent.
/// One waiter at a time (the stream's loop); not for concurrent use.
/// </summary>
internal sealed class WatchDelay : IValueTaskSource, IDisposable
{
    private readonly CancellationToken _cancellationToken;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _registration;
    private ManualResetValueTaskSourceCore<bool> _core;

    // 1 while a wait is outstanding: the timer and the cancellation race to end it, and only one may.
    private int _waiting;

    public WatchDelay(TimeProvider time, CancellationToken cancellationToken)
    {
        // Continuations run on the pool, never inline on the timer thread that ends many waits at once.
        _core.RunContinuationsAsynchronously = true;
        _cancellationToken = cancellationToken;
        // The timer outlives this call: it must not keep the request's execution context (trace, log scopes).
        var restore = ExecutionContext.IsFlowSuppressed() ? default(AsyncFlowControl?) : ExecutionContext.SuppressFlow();
        try
        {
            _timer = time.CreateTimer(static state => ((WatchDelay)state!).End(canceled: false), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            restore?.Undo();
        }
        _registration = cancellationToken.UnsafeRegister(static state => ((WatchDelay)state!).End(canceled: true), this);
    }

    /// <summary>Completes after <paramref name="delay"/>, or throws when the stream's cancellation comes first.</summary>
    public ValueTask WaitAsync(TimeSpan delay)
    {
        _core.Reset();
        Volatile.Write(ref _waiting, 1);
        if (_cancellationToken.IsCancellationRequested)
        {
            End(canceled: true);
        }
        else
        {
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
