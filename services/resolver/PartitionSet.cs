using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Domain;
using Veltrix.Resolver.Flags;
using Veltrix.ServiceDefaults;
using Veltrix.Storage;

namespace Veltrix.Resolver;

/// <summary>
/// The partitions this resolver instance owns by the static <see cref="PartitionMap"/> (all of them when it is
/// the only instance) and their loops' lifetime. Partitions owned elsewhere have no loop and no store here.
/// </summary>
public sealed class PartitionSet : IHostedService, IDisposable
{
    private readonly Partition[] _owned;
    private readonly Partition?[] _byId;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Meter _meter;

    // The partitions' background snapshots take turns: each replay holds a second copy of its partition's state.
    private readonly SemaphoreSlim _snapshotGate = new(1, 1);
    private int _disposed;

    public PartitionSet(
        PartitionMap map,
        IOptions<ResolverOptions> options,
        IOptions<StorageOptions> storage,
        IPartitionStore store,
        FlagSource flags,
        TimeProvider time,
        IMeterFactory meters,
        ILogger<PartitionSet> logger)
    {
        _meter = meters.Create("Veltrix.Resolver");
        Map = map;
        Ordinal = map.ResolveOrdinal(options.Value.Ordinal, Environment.GetEnvironmentVariable("HOSTNAME"));
        var owned = map.PartitionsOf(Ordinal);
        _owned = new Partition[owned.Count];
        _byId = new Partition?[map.Partitions];
        for (var i = 0; i < _owned.Length; i++)
        {
            var id = owned[i];
            _owned[i] = _byId[id] = new Partition(id, options.Value, storage.Value, store, () => flags.Current, time, logger, _snapshotGate);
        }
        FeedSubscriberCapacity = options.Value.FeedSubscriberCapacity;

        _meter.CreateObservableCounter("veltrix.resolver.events", ObserveOutcomes, description: "Events applied, by outcome");
        _meter.CreateObservableCounter("veltrix.resolver.spawns", () => Sum(static s => s.Spawns), description: "Treasures spawned");
        _meter.CreateObservableGauge("veltrix.resolver.queue_depth", () => Sum(static p => p.QueueDepth), description: "Work items queued over all partitions");
        _meter.CreateObservableGauge("veltrix.resolver.worlds", () => Sum(static s => s.Worlds.Count), description: "Worlds resident");
    }

    /// <summary>The map every service of the mesh shares.</summary>
    public PartitionMap Map { get; }

    /// <summary>Which instance of the map this resolver is.</summary>
    public int Ordinal { get; }

    /// <summary>Partitions this instance owns; <see cref="this[int]"/> takes 0..Count-1 over them.</summary>
    public int Count => _owned.Length;

    /// <summary>Partitions of the whole mesh, owned here or not.</summary>
    public int Total => _byId.Length;

    internal int FeedSubscriberCapacity { get; }

    /// <summary>The <paramref name="index"/>-th owned partition (not partition id <paramref name="index"/>: see <see cref="TryGet"/>).</summary>
    public Partition this[int index] => _owned[index];

    /// <summary>The partition with this id when this instance owns it.</summary>
    public bool TryGet(int partitionId, [NotNullWhen(true)] out Partition? partition)
    {
        partition = (uint)partitionId < (uint)_byId.Length ? _byId[partitionId] : null;
        return partition is not null;
    }

    /// <summary>The ordinal of the instance that owns partition <paramref name="partitionId"/>.</summary>
    public int OwnerOf(int partitionId) => Map.OwnerOf(partitionId);

    /// <summary>Partitions that are not served, with the reason; empty when all are healthy.</summary>
    public IEnumerable<string> Failures()
    {
        foreach (var p in _owned)
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

    /// <summary>
    /// The partition that owns <paramref name="worldId"/>; FAILED_PRECONDITION naming the owner when another
    /// instance owns it. Callers that forward instead use <see cref="For(string, out int)"/>.
    /// </summary>
    public Partition For(string worldId) => For(worldId, out var owner) ?? throw NotOwned(worldId, owner);

    /// <summary>
    /// The partition that owns <paramref name="worldId"/> when this instance owns it; null when another instance
    /// does (the caller forwards, see <see cref="OwnerClients"/>, or refuses; it never applies here).
    /// <paramref name="owner"/> is the ordinal of the owning instance either way.
    /// </summary>
    public Partition? For(string worldId, out int owner)
    {
        var id = Partitioning.PartitionOf(worldId, _byId.Length);
        owner = Map.OwnerOf(id);
        return _byId[id];
    }

    private RpcException NotOwned(string worldId, int owner) => new(new Status(StatusCode.FailedPrecondition,
        $"world '{worldId}' belongs to resolver {owner}, not to this resolver ({Ordinal} of {Map.InstanceCount})"));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var partition in _owned)
        {
            partition.Start(_stopping.Token);
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var partition in _owned)
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
            foreach (var partition in _owned)
            {
                partition.Dispose();
            }
        }
    }

    private long Sum(Func<PartitionState, long> read)
    {
        long total = 0;
        foreach (var p in _owned)
        {
            total += read(p.State);
        }
        return total;
    }

    private long Sum(Func<Partition, int> read)
    {
        long total = 0;
        foreach (var p in _owned)
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
