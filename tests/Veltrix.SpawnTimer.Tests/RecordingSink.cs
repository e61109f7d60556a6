using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer.Tests;

/// <summary>One attempt to send a batch: a copy of what was sent, when, and whether the partition refused it.</summary>
internal sealed record SentBatch(ApplyBatch Batch, long AtMs, bool Failed);

/// <summary>
/// Stands in for the partitions in scheduler tests: records every attempt and completes synchronously, so a
/// test that advances a fake clock sees the whole consequence when Advance returns. It can refuse attempts
/// with a gRPC status, or hold them until the test releases them.
/// </summary>
internal sealed class RecordingSink(TimeProvider time) : ISpawnSink
{
    private readonly Lock _gate = new();
    private readonly List<SentBatch> _sent = [];
    private readonly Queue<StatusCode> _failures = new();

    /// <summary>When set, attempts for which it returns a status fail with it (after the queued failures).</summary>
    public Func<ApplyBatch, StatusCode?>? FailWhen { get; set; }

    /// <summary>When set, attempts wait for it; completing it acknowledges them.</summary>
    public TaskCompletionSource? Hold { get; set; }

    public IReadOnlyList<SentBatch> Sent
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>The spawns of every acknowledged attempt, in the order they were sent.</summary>
    public IReadOnlyList<Spawn> Delivered => [.. Sent.Where(s => !s.Failed).SelectMany(s => s.Batch.Spawns)];

    public void FailNext(StatusCode status, int times)
    {
        lock (_gate)
        {
            for (var i = 0; i < times; i++)
            {
                _failures.Enqueue(status);
            }
        }
    }

    public Task SendAsync(ApplyBatch batch, CancellationToken cancellationToken)
    {
        StatusCode? failure = null;
        lock (_gate)
        {
            if (_failures.TryDequeue(out var queued))
            {
                failure = queued;
            }
            else
            {
                failure = FailWhen?.Invoke(batch);
            }
            // A copy: the scheduler re-stamps the same Spawn objects when it sends them again.
            _sent.Add(new SentBatch(batch.Clone(), time.GetUtcNow().ToUnixTimeMilliseconds(), failure is not null));
        }
        if (failure is { } status)
        {
            return Task.FromException(new RpcException(new Status(status, "refused by the test")));
        }
        return Hold?.Task ?? Task.CompletedTask;
    }

    /// <summary>Acknowledges the held attempts; later attempts complete at once.</summary>
    public void Release()
    {
        var hold = Hold;
        Hold = null;
        // The scheduler's continuations run inline only outside a synchronization context (xUnit installs one):
        // then everything the acknowledgement sets off has happened when Release returns.
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            hold?.SetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }
}
