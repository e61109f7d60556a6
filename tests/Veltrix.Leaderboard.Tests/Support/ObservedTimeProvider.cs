using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Veltrix.Leaderboard.Tests;

/// <summary>
/// A fake clock that also reports every timer the code under test arms (creates, or changes to a new due time),
/// so a test can advance time exactly when the code is waiting on it, instead of racing it.
/// </summary>
internal sealed class ObservedTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ObservedTimer(base.CreateTimer(callback, state, dueTime, period), _created.Writer);
        _created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits (in real time, bounded) until a timer due after exactly <paramref name="dueTime"/> is armed.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime)
    {
        using var timeout = new CancellationTokenSource(Limits.Signal);
        while (await _created.Reader.ReadAsync(timeout.Token) != dueTime)
        {
        }
    }
}

internal sealed class ObservedTimer(ITimer inner, ChannelWriter<TimeSpan> armed) : ITimer
{
    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        var changed = inner.Change(dueTime, period);
        armed.TryWrite(dueTime);
        return changed;
    }

    public void Dispose() => inner.Dispose();

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

internal static class Limits
{
    /// <summary>Upper bound on waiting for something the test has already set in motion.</summary>
    public static readonly TimeSpan Signal = TimeSpan.FromSeconds(10);
}
