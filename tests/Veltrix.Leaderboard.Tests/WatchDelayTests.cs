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
