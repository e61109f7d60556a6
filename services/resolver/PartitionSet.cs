using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Veltrix.Domain;
using Veltrix.Resolver.Flags;
using Veltrix.ServiceDefaults;
using Veltrix.Storage;

namespace Veltrix.Resolver;

/// <summary>The partitions this resolver owns (all of them on one machine) and their loops' lifetime.</summary>
public sealed class PartitionSet : IHostedService, IDisposable
{
    private readonly Partition[] _partitions;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Meter _meter;
    private int _disposed;

    public PartitionSet(
        IOptions<MeshOptions> mesh,
        IOptions<ResolverOptions> options,
        IOptions<StorageOptions> storage,
        IPartitionStore store,
        FlagSource flags,
        TimeProvider time,
        IMeterFactory meters,
        ILogger<PartitionSet> logger)
    {
        _meter = meters.Create("Veltrix.Resolver");
        _partitions = new Partition[mesh.Value.Partitions];
        for (var i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = new Partition(i, options.Value, storage.Value, store, () => flags.Current, time, logger);
        }
        FeedSubscriberCapacity = options.Value.FeedSubscriberCapacity;

        _meter.CreateObservableCounter("veltrix.resolver.events", ObserveOutcomes, description: "Events applied, by outcome");
        _meter.CreateObservableCounter("veltrix.resolver.spawns", () => Sum(static s => s.Spawns), description: "Treasures spawned");
        _meter.CreateObservableGauge("veltrix.resolver.queue_depth", () => Sum(static p => p.QueueDepth), description: "Work items queued over all partitions");
        _meter.CreateObservableGauge("veltrix.resolver.worlds", () => Sum(static s => s.Worlds.Count), description: "Worlds resident");
    }

    public int Count => _partitions.Length;

    internal int FeedSubscriberCapacity { get; }

    public Partition this[int index] => _partitions[index];

    /// <summary>Partitions that are not served, with the reason; empty when all are healthy.</summary>
    public IEnumerable<string> Failures()
    {
        foreach (var p in _partitions)
        {
            if (!p.Ready.IsCompleted)
            {
                yield return $"partition {p.Id} is recovering";
            }
            else if (p.Failure is { } failure)
            {
                yield return $"partition {p.Id}: {failure}";
            }
        }
    }

    public Partition For(string worldId) => _partitions[Partitioning.PartitionOf(worldId, _partitions.Length)];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var partition in _partitions)
        {
            partition.Start(_stopping.Token);
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var partition in _partitions)
        {
            await partition.StopAsync().ConfigureAwait(false);
        }
    }

    // Registered as itself and as a hosted service, so the container may dispose it twice.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _stopping.Dispose();
        }
    }

    private long Sum(Func<PartitionState, long> read)
    {
        long total = 0;
        foreach (var p in _partitions)
        {
            total += read(p.State);
        }
        return total;
    }

    private long Sum(Func<Partition, int> read)
    {
        long total = 0;
        foreach (var p in _partitions)
        {
            total += read(p);
        }
        return total;
    }

    private IEnumerable<Measurement<long>> ObserveOutcomes()
    {
        yield return new(Sum(static s => s.Accepted), new KeyValuePair<string, object?>("outcome", "accepted"));
        yield return new(Sum(static s => s.Rejected), new KeyValuePair<string, object?>("outcome", "rejected"));
        yield return new(Sum(static s => s.Duplicates), new KeyValuePair<string, object?>("outcome", "duplicate"));
        yield return new(Sum(static s => s.Malformed), new KeyValuePair<string, object?>("outcome", "malformed"));
    }
}
