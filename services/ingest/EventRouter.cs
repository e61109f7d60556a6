using System.Diagnostics.Metrics;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Contracts;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Veltrix.ServiceDefaults;

namespace Veltrix.Ingest;

/// <summary>
/// Validates a batch, stamps it with this server's receive time, splits it by owning partition and
/// sends each part to the resolver instance that owns the partition (<see cref="PartitionMap"/>). Results
/// come back in the batch's order, and only once the owners have answered for every part: a failure
/// anywhere fails the whole batch, never acks part of it.
/// </summary>
public sealed class EventRouter
{
    // Indexed by partition: the owner's client, one per owner, created once.
    private readonly PartitionWriter.PartitionWriterClient[] _writers;
    private readonly TimeProvider _time;
    private readonly int _partitions;
    private readonly TimeSpan _callTimeout;
    private long _received;
    private long _malformed;
    private long _batches;

    public EventRouter(ResolverChannels resolvers, IOptions<MeshOptions> mesh, TimeProvider time, IMeterFactory meters)
    {
        var meter = meters.Create("Veltrix.Ingest");
        var map = resolvers.Map;
        var owners = new PartitionWriter.PartitionWriterClient[map.InstanceCount];
        for (var i = 0; i < owners.Length; i++)
        {
            owners[i] = new PartitionWriter.PartitionWriterClient(resolvers.ForOrdinal(i));
        }
        _writers = new PartitionWriter.PartitionWriterClient[map.Partitions];
        for (var p = 0; p < _writers.Length; p++)
        {
            _writers[p] = owners[map.OwnerOf(p)];
        }
        _time = time;
        _partitions = map.Partitions;
        _callTimeout = TimeSpan.FromMilliseconds(mesh.Value.CallTimeoutMs);
        meter.CreateObservableCounter("veltrix.ingest.events", () => Volatile.Read(ref _received), description: "Events received");
        meter.CreateObservableCounter("veltrix.ingest.malformed", () => Volatile.Read(ref _malformed), description: "Events refused as malformed");
        meter.CreateObservableCounter("veltrix.ingest.batches", () => Volatile.Read(ref _batches), description: "Batches routed");
    }

    public async Task<EventResult[]> RouteAsync(IReadOnlyList<Event> events, CancellationToken cancellationToken)
    {
        var results = new EventResult[events.Count];
        var stamp = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var parts = new Part?[_partitions];
        var malformed = 0;

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
            var p = Partitioning.PartitionOf(game.WorldId, _partitions);
            var part = parts[p] ??= new Part((uint)p);
            part.Batch.Events.Add(new StampedEvent { Event = e, StampMs = stamp });
            part.Positions.Add(i);
        }

        Interlocked.Add(ref _received, events.Count);
        Interlocked.Add(ref _malformed, malformed);
        Interlocked.Increment(ref _batches);

        var deadline = _time.GetUtcNow().UtcDateTime + _callTimeout;
        foreach (var part in parts)
        {
            if (part is not null)
            {
                part.Reply = _writers[part.Batch.Partition].ApplyAsync(part.Batch, deadline: deadline, cancellationToken: cancellationToken).ResponseAsync;
            }
        }
        foreach (var part in parts)
        {
            if (part is null)
            {
                continue;
            }
            var reply = await part.Reply!.ConfigureAwait(false);
            if (reply.Results.Count != part.Positions.Count)
            {
                throw new RpcException(new Status(StatusCode.Internal, "resolver answered a different number of results"));
            }
            for (var j = 0; j < part.Positions.Count; j++)
            {
                results[part.Positions[j]] = reply.Results[j];
            }
        }
        return results;
    }

    private sealed class Part(uint partition)
    {
        public ApplyBatch Batch { get; } = new() { Partition = partition };
        public List<int> Positions { get; } = [];
        public Task<ApplyReply>? Reply { get; set; }
    }
}
