using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Veltrix.Contracts;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Veltrix.ServiceDefaults;

namespace Veltrix.Ingest;

/// <summary>
/// Validates a batch, stamps it with this server's receive time, splits it by owning partition and queues
/// each part on that partition's <see cref="PartitionLane"/>, which sends it to the resolver instance that
/// owns the partition (<see cref="PartitionMap"/>). Results come back in the batch's order, and only once
/// every part was answered: a failure anywhere fails the whole batch, never acks part of it.
/// </summary>
public sealed class EventRouter
{
    private readonly PartitionLane[] _lanes;
    private readonly TimeProvider _time;
    private long _received;
    private long _malformed;
    private long _batches;

    public EventRouter(ResolverChannels resolvers, IOptions<MeshOptions> mesh, IOptions<IngestOptions> options, TimeProvider time, IMeterFactory meters)
    {
        var meter = meters.Create("Veltrix.Ingest");
        var map = resolvers.Map;
        var owners = new PartitionWriter.PartitionWriterClient[map.InstanceCount];
        for (var i = 0; i < owners.Length; i++)
        {
            owners[i] = new PartitionWriter.PartitionWriterClient(resolvers.ForOrdinal(i));
        }
        var callTimeout = TimeSpan.FromMilliseconds(mesh.Value.CallTimeoutMs);
        _lanes = new PartitionLane[map.Partitions];
        for (var p = 0; p < _lanes.Length; p++)
        {
            _lanes[p] = new PartitionLane((uint)p, owners[map.OwnerOf(p)], options.Value, callTimeout, time);
        }
        _time = time;
        meter.CreateObservableCounter("veltrix.ingest.events", () => Volatile.Read(ref _received), description: "Events received");
        meter.CreateObservableCounter("veltrix.ingest.malformed", () => Volatile.Read(ref _malformed), description: "Events refused as malformed");
        meter.CreateObservableCounter("veltrix.ingest.batches", () => Volatile.Read(ref _batches), description: "Batches routed");
        meter.CreateObservableCounter("veltrix.ingest.resolver_calls", () => Sum(static l => l.Calls), description: "Apply calls to resolvers (each carries the parts of many batches)");
    }

    /// <summary>
    /// Queues the batch's parts on their lanes and returns once they are queued, so the caller's next batch
    /// queues behind this one; the returned task completes with the results once every part was answered.
    /// </summary>
    internal async ValueTask<Task<EventResult[]>> SubmitAsync(IReadOnlyList<Event> events, PublishStream stream, CancellationToken cancellationToken)
    {
        var results = new EventResult[events.Count];
        var stamp = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var parts = new LanePart?[_lanes.Length];
        var malformed = 0;
        var routed = 0;

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var game = e.ToGameEvent();
            var verdict = EventValidator.Validate(in game);
            if (!verdict.IsAccepted)
            {
                results[i] = verdict.ToResult();
                malformed++;
                continue;
            }
            var p = Partitioning.PartitionOf(game.WorldId, _lanes.Length);
            var part = parts[p];
            if (part is null)
            {
                parts[p] = part = new LanePart(stream, results, stamp);
                routed++;
            }
            part.Events.Add(e);
            part.Positions.Add(i);
        }

        Interlocked.Add(ref _received, events.Count);
        Interlocked.Add(ref _malformed, malformed);
        Interlocked.Increment(ref _batches);

        if (routed == 0)
        {
            return Task.FromResult(results);
        }
        var done = new Task[routed];
        var n = 0;
        for (var p = 0; p < parts.Length; p++)
        {
            if (parts[p] is { } part)
            {
                await _lanes[p].EnqueueAsync(part, cancellationToken).ConfigureAwait(false);
                done[n++] = part.Done;
            }
        }
        return WhenAnswered(done, results);
    }

    /// <summary>Routes one batch and waits for its results.</summary>
    internal async Task<EventResult[]> RouteAsync(IReadOnlyList<Event> events, CancellationToken cancellationToken) =>
        await (await SubmitAsync(events, new PublishStream(), cancellationToken).ConfigureAwait(false)).WaitAsync(cancellationToken).ConfigureAwait(false);

    private static async Task<EventResult[]> WhenAnswered(Task[] parts, EventResult[] results)
    {
        await Task.WhenAll(parts).ConfigureAwait(false);
        return results;
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
