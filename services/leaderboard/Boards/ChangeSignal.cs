namespace Veltrix.Leaderboard;

/// <summary>Told of the next change of a <see cref="ChangeSignal"/> it registered with.</summary>
internal interface IChangeWaiter
{
    /// <summary>Called on a pool thread, after the change is published.</summary>
    void OnChanged();
}

/// <summary>
/// Wakes whoever waits for the next change, without costing the writer anything while nobody waits.
/// A waiter reads <see cref="Generation"/> (or takes <see cref="WaitAsync"/>) first and checks the state it cares
/// about after, so a change published between the two is never missed.
/// <para>
/// Watch streams, thousands on one board, register themselves (<see cref="TryRegister"/>) instead of awaiting a
/// shared task: a task's continuations would cost each of them an allocation per change and the task a list
/// grown to thousands of entries, on the large-object heap, every change. Registered waiters are woken by one
/// pool work item per change, never on the writer's thread.
/// </para>
/// </summary>
internal sealed class ChangeSignal
{
    private readonly Lock _gate = new();
    private readonly Stack<List<IChangeWaiter>> _spareLists = new();
    private List<IChangeWaiter> _waiters = [];
    private TaskCompletionSource? _next;
    private long _generation;

    /// <summary>Waiters registered for the next change.</summary>
    public int Registered
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Grows by one with every <see cref="Notify"/>.</summary>
    public long Generation => Volatile.Read(ref _generation);

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

    /// <summary>
    /// Has <paramref name="waiter"/> told of the first change after generation <paramref name="seen"/>; false (and
    /// nothing registered) when that change has already happened.
    /// </summary>
    public bool TryRegister(IChangeWaiter waiter, long seen)
    {
        lock (_gate)
        {
            if (_generation != seen)
            {
                return false;
            }
            _waiters.Add(waiter);
            return true;
        }
    }

    /// <summary>Called after the change is published.</summary>
    public void Notify()
    {
        List<IChangeWaiter>? woken = null;
        lock (_gate)
        {
            // The lock orders the caller's publishing store before the generation a registering waiter checks.
            Volatile.Write(ref _generation, _generation + 1);
            if (_waiters.Count > 0)
            {
                woken = _waiters;
                _waiters = _spareLists.Count > 0 ? _spareLists.Pop() : [];
            }
        }
        if (woken is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Signal.Wake(state.Waiters), (Signal: this, Waiters: woken), preferLocal: false);
        }

        // Orders the caller's publishing store before the read below; without it a waiter registering
        // concurrently could read the old state while this read still sees no waiter.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _next) is null)
        {
            return;
        }
        Interlocked.Exchange(ref _next, null)?.TrySetResult();
    }

    private void Wake(List<IChangeWaiter> waiters)
    {
        foreach (var waiter in waiters)
        {
            waiter.OnChanged();
        }
        waiters.Clear();
        lock (_gate)
        {
            _spareLists.Push(waiters);
        }
    }
}
