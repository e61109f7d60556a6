using Microsoft.Extensions.Time.Testing;

namespace Veltrix.Leaderboard.Tests;

public sealed class WatchDelayTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    private readonly FakeTimeProvider _time = new();
    private readonly CancellationTokenSource _call = new();
    private readonly WatchDelay _delay;

    public WatchDelayTests()
    {
        _delay = new WatchDelay(_time, _call.Token);
    }

    public void Dispose()
    {
        _delay.Dispose();
        _call.Dispose();
    }

    [Fact]
    public async Task WaitAsync_ReusedForManyWaits_EachEndsWhenItsTimeHasPassed()
    {

        for (var i = 0; i < 3; i++)
        {
            var wait = _delay.WaitAsync(Interval).AsTask();
            _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
            Assert.False(wait.IsCompleted);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            await wait.WaitAsync(Limits.Signal);
        }
    }

    [Fact]
    public async Task WaitAsync_WithASignal_EndsAtItsNextChange_AndAChangeDoesNotEndAWaitForTimeOnly()
    {
        var signal = new ChangeSignal();

        // The heartbeat comes first: the wait ends without a change.
        var wait = _delay.WaitAsync(Heartbeat, signal, signal.Generation).AsTask();
        _time.Advance(Heartbeat);
        await wait.WaitAsync(Limits.Signal);

        // A later wait for time only: the change the first one registered for must not end it. Waiters are woken
        // in the order they registered, so once one registered after it has been woken, so has the delay.
        // (The ValueTask's own status is the delay's, read at once, with no continuation in between.)
        var paced = _delay.WaitAsync(Interval);
        var after = new CountingWaiter();
        Assert.True(signal.TryRegister(after, signal.Generation));
        signal.Notify();
        await after.Woken.Task.WaitAsync(Limits.Signal);
        Assert.False(paced.IsCompleted);
        _time.Advance(Interval);
        await paced.AsTask().WaitAsync(Limits.Signal);

        // A wait whose signal changes ends at once, long before its timeout.
        var changed = _delay.WaitAsync(Heartbeat, signal, signal.Generation).AsTask();
        signal.Notify();
        await changed.WaitAsync(Limits.Signal);

        // A change that came before the wait began ends it without arming anything.
        var seen = signal.Generation;
        signal.Notify();
        await _delay.WaitAsync(Heartbeat, signal, seen).AsTask().WaitAsync(Limits.Signal);
    }

    [Fact]
    public async Task WaitAsync_QuietThroughSeveralHeartbeats_RegistersOnce_AndTheChangeStillEndsTheWait()
    {
        var signal = new ChangeSignal();
        var seen = signal.Generation;
        for (var i = 0; i < 3; i++)
        {
            var beat = _delay.WaitAsync(Heartbeat, signal, seen).AsTask();
            _time.Advance(Heartbeat);
            await beat.WaitAsync(Limits.Signal);
        }

        Assert.Equal(1, signal.Registered);

        var wait = _delay.WaitAsync(Heartbeat, signal, seen).AsTask();
        var counting = new CountingWaiter();
        Assert.True(signal.TryRegister(counting, seen));
        signal.Notify();

        await wait.WaitAsync(Limits.Signal);
        await counting.Woken.Task.WaitAsync(Limits.Signal);
        Assert.Equal(0, signal.Registered);
        Assert.False(signal.TryRegister(counting, seen));
    }

    private sealed class CountingWaiter : IChangeWaiter
    {
        public TaskCompletionSource Woken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnChanged() => Woken.TrySetResult();
    }

    [Fact]
    public async Task WaitAsync_CallCanceledWhileWaiting_Throws()
    {
        var wait = _delay.WaitAsync(Interval).AsTask();

        await _call.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Limits.Signal));
    }

    [Fact]
    public async Task WaitAsync_CallAlreadyCanceled_Throws()
    {
        await _call.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _delay.WaitAsync(Interval).AsTask().WaitAsync(Limits.Signal));
    }
}
