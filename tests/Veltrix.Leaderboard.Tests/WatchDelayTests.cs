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
    public async Task WaitAsync_WithASignal_EndsAtTheSignal_AndAnOldSignalDoesNotEndALaterWait()
    {
        var time = new FakeTimeProvider();
        using var call = new CancellationTokenSource();
        using var delay = new WatchDelay(time, call.Token);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heartbeat = TimeSpan.FromSeconds(15);

        // The heartbeat comes first: the wait ends without its signal.
        var wait = delay.WaitAsync(heartbeat, first.Task).AsTask();
        time.Advance(heartbeat);
        await wait.WaitAsync(Limits.Signal);
        Assert.False(first.Task.IsCompleted);

        // A later wait for time only: the first signal completing now must not end it.
        var paced = delay.WaitAsync(Interval).AsTask();
        first.SetResult();
        await Task.Delay(50);
        Assert.False(paced.IsCompleted);
        time.Advance(Interval);
        await paced.WaitAsync(Limits.Signal);

        // A wait whose signal completes ends at once, long before its timeout.
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var signalled = delay.WaitAsync(heartbeat, second.Task).AsTask();
        second.SetResult();
        await signalled.WaitAsync(Limits.Signal);

        // An already completed signal ends the wait without arming anything.
        await delay.WaitAsync(heartbeat, second.Task).AsTask().WaitAsync(Limits.Signal);
    }

    [Fact]
    public async Task WaitAsync_SameSignalThroughSeveralHeartbeats_StillEndsTheWaitWhenItCompletes()
    {
        var time = new FakeTimeProvider();
        using var call = new CancellationTokenSource();
        using var delay = new WatchDelay(time, call.Token);
        var quiet = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heartbeat = TimeSpan.FromSeconds(15);
        for (var i = 0; i < 3; i++)
        {
            var beat = delay.WaitAsync(heartbeat, quiet.Task).AsTask();
            time.Advance(heartbeat);
            await beat.WaitAsync(Limits.Signal);
        }

        var wait = delay.WaitAsync(heartbeat, quiet.Task).AsTask();
        quiet.SetResult();

        await wait.WaitAsync(Limits.Signal);
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
