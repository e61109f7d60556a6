using Microsoft.Extensions.Time.Testing;

namespace Veltrix.Leaderboard.Tests;

public sealed class WatchDelayTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task WaitAsync_ReusedForManyWaits_EachEndsWhenItsTimeHasPassed()
    {
        var time = new FakeTimeProvider();
        using var call = new CancellationTokenSource();
        using var delay = new WatchDelay(time, call.Token);

        for (var i = 0; i < 3; i++)
        {
            var wait = delay.WaitAsync(Interval).AsTask();
            time.Advance(Interval - TimeSpan.FromMilliseconds(1));
            Assert.False(wait.IsCompleted);
            time.Advance(TimeSpan.FromMilliseconds(1));
            await wait.WaitAsync(Limits.Signal);
        }
    }

    [Fact]
    public async Task WaitAsync_WithASignal_EndsAtItsNextChange_AndAChangeDoesNotEndAWaitForTimeOnly()
    {
        var time = new FakeTimeProvider();
        using var call = new CancellationTokenSource();
        using var delay = new WatchDelay(time, call.Token);
        var signal = new ChangeSignal();
        var heartbeat = TimeSpan.FromSeconds(15);

        // The heartbeat comes first: the wait ends without a change.
        var wait = delay.WaitAsync(heartbeat, signal, signal.Generation).AsTask();
        time.Advance(heartbeat);
        await wait.WaitAsync(Limits.Signal);

        // A later wait for time only: the change the first one registered for must not end it.
        var paced = delay.WaitAsync(Interval).AsTask();
        signal.Notify();
        await Task.Delay(50);
        Assert.False(paced.IsCompleted);
        time.Advance(Interval);
        await paced.WaitAsync(Limits.Signal);

        // A wait whose signal changes ends at once, long before its timeout.
        var changed = delay.WaitAsync(heartbeat, signal, signal.Generation).AsTask();
        signal.Notify();
        await changed.WaitAsync(Limits.Signal);

        // A change that came before the wait began ends it without arming anything.
        var seen = signal.Generation;
        signal.Notify();
        await delay.WaitAsync(heartbeat, signal, seen).AsTask().WaitAsync(Limits.Signal);
    }

    [Fact]
    public async Task WaitAsync_QuietThroughSeveralHeartbeats_RegistersOnce_AndTheChangeStillEndsTheWait()
    {
        var time = new FakeTimeProvider();
        using var call = new CancellationTokenSource();
        using var delay = new WatchDelay(time, call.Token);
        var signal = new ChangeSignal();
        var seen = signal.Generation;
        var heartbeat = TimeSpan.FromSeconds(15);
        for (var i = 0; i < 3; i++)
        {
            var beat = delay.WaitAsync(heartbeat, signal, seen).AsTask();
            time.Advance(heartbeat);
            await beat.WaitAsync(Limits.Signal);
        }

        Assert.Equal(1, signal.Registered);

        var wait = delay.WaitAsync(heartbeat, signal, seen).AsTask();
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
        var time = new FakeTimeProvider();
        using var call = new CancellationTokenSource();
        using var delay = new WatchDelay(time, call.Token);
        var wait = delay.WaitAsync(Interval).AsTask();

        await call.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Limits.Signal));
    }

    [Fact]
    public async Task WaitAsync_CallAlreadyCanceled_Throws()
    {
        var time = new FakeTimeProvider();
        using var call = new CancellationTokenSource();
        using var delay = new WatchDelay(time, call.Token);
        await call.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delay.WaitAsync(Interval).AsTask().WaitAsync(Limits.Signal));
    }
}
