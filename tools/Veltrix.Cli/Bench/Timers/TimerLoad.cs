using System.Globalization;
using Grpc.Core;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bench.Timers;

/// <summary>
/// Schedules numbered timers through the spawn timer's public <c>ScheduleOnce</c>: <paramref name="inFlight"/>
/// calls at a time, each worker taking the next number until all are sent. Every call has its own deadline; a
/// call that fails is counted and not retried, so the timer it carried is simply not scheduled.
/// </summary>
public sealed class TimerLoad(SpawnTimer.SpawnTimerClient client, TimeProvider time, int inFlight, TimeSpan callTimeout)
{
    private long _next;
    private long _scheduled;
    private long _errors;
    private long _moved;
    private string? _lastError;

    public long Scheduled => Interlocked.Read(ref _scheduled);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Timers the reply put later than asked: their at_ms had passed when the call arrived.</summary>
    public long Moved => Interlocked.Read(ref _moved);

    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>
    /// Schedules timers <paramref name="from"/> to <paramref name="count"/> − 1, named <c>{prefix}{n}</c>, timer n in world
    /// <c>worlds[n % worlds.Length]</c> and due at <paramref name="dueOf"/>(n); <paramref name="onScheduled"/>
    /// gets each accepted timer's number and confirmed due time.
    /// </summary>
    public async Task RunAsync(int from, int count, char prefix, string[] worlds, Func<int, long> dueOf, Action<int, long> onScheduled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worlds);
        ArgumentNullException.ThrowIfNull(dueOf);
        ArgumentNullException.ThrowIfNull(onScheduled);
        Interlocked.Exchange(ref _next, from);
        var workers = new Task[Math.Clamp(count - from, 0, inFlight)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = WorkAsync(count, prefix, worlds, dueOf, onScheduled, cancellationToken);
        }
        await Task.WhenAll(workers);
    }

    private async Task WorkAsync(int count, char prefix, string[] worlds, Func<int, long> dueOf, Action<int, long> onScheduled, CancellationToken cancellationToken)
    {
        // Off the caller's thread at once: the workers start together rather than one after another.
        await Task.Yield();
        // Bounded by the count: each pass takes a number that no other pass takes.
        while (!cancellationToken.IsCancellationRequested)
        {
            var n = (int)(Interlocked.Increment(ref _next) - 1);
            if (n >= count)
            {
                return;
            }
            var atMs = dueOf(n);
            var request = new ScheduleOnceRequest
            {
                WorldId = worlds[n % worlds.Length],
                TreasureId = prefix + n.ToString(CultureInfo.InvariantCulture),
                // Deterministic places and values within the contract's limits, different per timer.
                X = (int)((uint)n * 2654435761u % 100_000),
                Y = (int)((uint)n * 40503u % 100_000),
                Value = 1 + n % 1_000,
                AtMs = atMs,
            };
            try
            {
                var reply = await client.ScheduleOnceAsync(request, deadline: time.GetUtcNow().UtcDateTime + callTimeout, cancellationToken: cancellationToken);
                if (reply.AtMs > atMs && atMs > 0)
                {
                    Interlocked.Increment(ref _moved);
                }
                Interlocked.Increment(ref _scheduled);
                onScheduled(n, reply.AtMs);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _errors);
                Volatile.Write(ref _lastError, e.StatusCode + ": " + e.Status.Detail);
            }
        }
    }
}
