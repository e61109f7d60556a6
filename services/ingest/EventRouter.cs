using System.Diagnostics.Metrics;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.V1;
using Veltrix.ServiceDefaults;

namespace Veltrix.Ingest;

/// <summary>
/// Validates a batch, stamps it with this server's receive time, splits it by owning partition and queues
/// each part on that partition's <see cref="PartitionLane"/>, which sends it to the resolver instance that
/// owns the partition (<see cref="PartitionMap"/>). Results come back in the batch's order, and only once
/// every part was answered: a failure anywhere fails the whole batch, never acks part of it.
/// </summary>
public sealed class EventRouter : IDisposable
{
    private readonly PartitionLane[] _lanes;
    private readonly TimeProvider _time;
    private readonly int _maxEventsPerBatch;
    private long _received;
    private long _malformed;
    private long _batches;

    public EventRouter(ResolverChannels resolvers, IOptions<MeshOptions> mesh, IOptions<IngestOptions> options, TimeProvider time, IMeterFactory meters, ILogger<EventRouter> logger)
    {
        var meter = meters.Create("Veltrix.Ingest");
        var map = resolvers.Map;
        var owners = new CallInvoker[map.InstanceCount];
        for (var i = 0; i < owners.Length; i++)
        {
            owners[i] = resolvers.ForOrdinal(i);
        }
        var callTimeout = TimeSpan.FromMilliseconds(mesh.Value.CallTimeoutMs);
        _lanes = new PartitionLane[map.Partitions];
        for (var p = 0; p < _lanes.Length; p++)
        {
            _lanes[p] = new PartitionLane(p, owners[map.OwnerOf(p)], options.Value, callTimeout, logger);
        }
        _time = time;
        _maxEventsPerBatch = options.Value.MaxEventsPerBatch;
        meter.CreateObservableCounter("veltrix.ingest.events", () => Volatile.Read(ref _received), description: "Events received");
        meter.CreateObservableCounter("veltrix.ingest.malformed", () => Volatile.Read(ref _malformed), description: "Events refused as malformed");
        meter.CreateObservableCounter("veltrix.ingest.batches", () => Volatile.Read(ref _batches), description: "Batches routed");
        meter.CreateObservableCounter("veltrix.ingest.resolver_calls", () => Sum(static l => l.Calls), description: "Apply calls to resolvers (each carries the parts of many batches)");
    }

    /// <summary>
    /// Reads a serialized <c>EventBatch</c> and groups its events by partition (see <see cref="RoutedBatch.Route"/>);
    /// nothing is queued yet.
    /// </summary>
    internal RoutedBatch Route(ReadOnlySpan<byte> batch, PublishStream stream)
    {
        var routed = RoutedBatch.Route(batch, stream, _time.GetUtcNow().ToUnixTimeMilliseconds(), _lanes.Length, _maxEventsPerBatch);
        Interlocked.Add(ref _received, routed.Count);
        Interlocked.Add(ref _malformed, routed.Malformed);
        Interlocked.Increment(ref _batches);
        return routed;
    }

    /// <summary>
    /// Queues the batch's parts on their lanes and returns once they are queued, so the caller's next batch
    /// queues behind this one; <see cref="RoutedBatch.Done"/> completes once every part was answered.
    /// </summary>
    internal async ValueTask EnqueueAsync(RoutedBatch batch, CancellationToken cancellationToken)
    {
        var queued = 0;
        try
        {
            for (var p = 0; p < _lanes.Length && queued < batch.Parts; p++)
            {
                if (batch.PartCount(p) > 0)
                {
                    await _lanes[p].EnqueueAsync(batch, cancellationToken).ConfigureAwait(false);
                    queued++;
                }
            }
        }
        catch (Exception ex)
        {
            // The parts never queued will never be answered: they fail here, so the batch still ends.
            for (var failed = queued; failed < batch.Parts; failed++)
            {
                batch.FailPart(ex);
            }
            throw;
        }
    }

    /// <summary>Routes one batch of events held as messages (one Submit) and waits for its results.</summary>
    internal async Task<EventResult[]> RouteAsync(IReadOnlyList<Event> events, CancellationToken cancellationToken)
    {
        var message = new EventBatch();
        message.Events.AddRange(events);
        var batch = Route(message.ToByteArray(), new PublishStream());
        try
        {
            await EnqueueAsync(batch, cancellationToken).ConfigureAwait(false);
            await batch.Done.WaitAsync(cancellationToken).ConfigureAwait(false);
            return batch.Results.ToArray();
        }
        finally
        {
            if (batch.Done.IsCompleted)
            {
                batch.Release();
            }
        }
    }

    public void Dispose()
    {
        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }
    }

    private long Sum(Func<PartitionLane, long> read)
    {
        long total = 0;
        foreach (var lane in _lanes)
        {
            total += read(lane);
        }
        return total;
    }
}
