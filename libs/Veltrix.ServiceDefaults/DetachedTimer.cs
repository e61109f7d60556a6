namespace Veltrix.ServiceDefaults;

/// <summary>Timers for the life of a component, not of the request that happened to create them.</summary>
public static class DetachedTimer
{
    /// <summary>
    /// A timer that does not capture the caller's execution context: a long-lived timer would otherwise keep
    /// the trace and log scopes of whichever request happened to create it, and run every callback inside them.
    /// </summary>
    public static ITimer Create(TimeProvider time, TimerCallback callback, object state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (ExecutionContext.IsFlowSuppressed())
        {
            return time.CreateTimer(callback, state, dueTime, period);
        }
        using (ExecutionContext.SuppressFlow())
        {
            return time.CreateTimer(callback, state, dueTime, period);
        }
    }
}
