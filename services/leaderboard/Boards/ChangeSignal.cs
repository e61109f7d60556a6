namespace Veltrix.Leaderboard;

/// <summary>
/// Wakes whoever waits for the next change, without costing the writer anything while nobody waits.
/// A waiter takes <see cref="WaitAsync"/> first and checks the state it cares about after, so a change
/// published between the two is never missed.
/// </summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource? _next;

    /// <summary>A task that completes at the next <see cref="Notify"/>.</summary>
    public Task WaitAsync()
    {
        var next = Volatile.Read(ref _next);
        if (next is not null)
        {
            return next.Task;
        }
        // Continuations run on the pool, never inline on the writer that notifies.
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (Interlocked.CompareExchange(ref _next, created, null) ?? created).Task;
    }

    /// <summary>Called after the change is published.</summary>
    public void Notify()
    {
        // Orders the caller's publishing store before the read below; without it a waiter registering
        // concurrently could read the old state while this read still sees no waiter.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _next) is null)
        {
            return;
        }
        Interlocked.Exchange(ref _next, null)?.TrySetResult();
    }
}
