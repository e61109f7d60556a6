using System.Buffers;
using Grpc.Core;
using Veltrix.Contracts;
using Veltrix.Contracts.V1;
using Veltrix.Contracts.Wire;
using Veltrix.Domain;

namespace Veltrix.Ingest;

/// <summary>
/// One client batch on its way through the lanes, read in place from the bytes it arrived in. Its
/// well-formed events are kept in their canonical encoding (each field once, unknown fields dropped), in
/// one pooled buffer, and grouped by partition, so a lane copies its part into an Apply call without
/// parsing anything again. Results come back per event into a pooled array; the batch completes once
/// every part was answered, and fails if any part failed. Nothing here is allocated per event.
/// </summary>
internal sealed class RoutedBatch
{
    private const uint BatchIdTag = (1 << 3) | WireReader.Varint;
    private const uint EventTag = (2 << 3) | WireReader.LengthDelimited;

    // Results are references: a pool of their own, cleared on return, sized like the byte pools.
    private static readonly ArrayPool<EventResult> ResultPool = ArrayPool<EventResult>.Create(WirePools.MaxPooledLength / 8, WirePools.ArraysPerSize);

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _partitions;
    private byte[]? _events;       // the canonical encodings, one after another
    private int[]? _index;         // per event: start, length, partition; then the slots (events by partition), then per partition: first slot, count
    private EventResult[]? _results;
    private int _pendingParts;
    private Exception? _error;

    private RoutedBatch(PublishStream stream, long stampMs, int count, int partitions)
    {
        Stream = stream;
        StampMs = stampMs;
        Count = count;
        _partitions = partitions;
    }

    public PublishStream Stream { get; }

    /// <summary>When ingest received the batch: the stamp of each of its events.</summary>
    public long StampMs { get; }

    public ulong BatchId { get; private set; }

    /// <summary>Events in the batch, well-formed or not.</summary>
    public int Count { get; }

    /// <summary>Events refused as malformed; answered here, never sent.</summary>
    public int Malformed { get; private set; }

    /// <summary>Partitions with a part of this batch.</summary>
    public int Parts { get; private set; }

    /// <summary>Completes once every part was answered; faults with the first part's error otherwise.</summary>
    public Task Done => _done.Task;

    /// <summary>Every event's result, in the batch's order; valid once <see cref="Done"/> completed, until <see cref="Release"/>.</summary>
    public ReadOnlySpan<EventResult> Results => _results.AsSpan(0, Count);

    /// <summary>Events the batch has for <paramref name="partition"/>.</summary>
    public int PartCount(int partition) => Index[(4 * Count) + _partitions + partition];

    /// <summary>The canonical bytes of the <paramref name="k"/>-th event the batch has for <paramref name="partition"/>.</summary>
    public ReadOnlySpan<byte> PartEvent(int partition, int k)
    {
        var index = Index;
        var e = index[(3 * Count) + index[(4 * Count) + partition] + k];
        return _events.AsSpan(index[3 * e], index[(3 * e) + 1]);
    }

    private int[] Index => _index ?? throw new ObjectDisposedException(nameof(RoutedBatch));

    /// <summary>
    /// Reads a serialized <c>EventBatch</c>: checks each event, answers the malformed ones, and groups the
    /// others by the partition of their world. Refuses the whole batch when it is not well-formed protobuf
    /// (INVALID_ARGUMENT) or has more than <paramref name="maxEvents"/> events (RESOURCE_EXHAUSTED).
    /// </summary>
    public static RoutedBatch Route(ReadOnlySpan<byte> batch, PublishStream stream, long stampMs, int partitions, int maxEvents)
    {
        var count = CountEvents(batch);
        if (count > maxEvents)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"batch has {count} events; at most {maxEvents} are accepted"));
        }
        var routed = new RoutedBatch(stream, stampMs, count, partitions);
        routed.Read(batch);
        return routed;
    }

    private static int CountEvents(ReadOnlySpan<byte> batch)
    {
        var reader = new WireReader(batch);
        var count = 0;
        try
        {
            while (!reader.AtEnd)
            {
                var tag = reader.ReadTag();
                if (tag == EventTag)
                {
                    count++;
                }
                reader.Skip(tag);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"batch cannot be read: {ex.Message}"));
        }
        return count;
    }

    private void Read(ReadOnlySpan<byte> batch)
    {
        var n = Count;
        // start, length, partition per event; slots; first slot and count per partition.
        var index = _index = WirePools.Ints.Rent((4 * n) + (2 * _partitions));
        _events = WirePools.Bytes.Rent(Math.Max(1, batch.Length));
        _results = ResultPool.Rent(Math.Max(1, n));
        var counts = index.AsSpan((4 * n) + _partitions, _partitions);
        counts.Clear();

        var reader = new WireReader(batch);
        var written = 0;
        var i = 0;
        try
        {
            while (!reader.AtEnd)
            {
                var tag = reader.ReadTag();
                if (tag == BatchIdTag)
                {
                    BatchId = reader.ReadVarint64();
                    continue;
                }
                if (tag != EventTag)
                {
                    reader.Skip(tag);
                    continue;
                }
                var e = WireEvent.Read(reader.ReadLengthDelimited());
                var verdict = e.Validate();
                if (!verdict.IsAccepted)
                {
                    _results[i] = verdict.ToResult();
                    index[(3 * i) + 2] = -1;
                    Malformed++;
                    i++;
                    continue;
                }
                var length = e.WriteCanonical(_events.AsSpan(written));
                var partition = Partitioning.PartitionOf(e.WorldId, _partitions);
                index[3 * i] = written;
                index[(3 * i) + 1] = length;
                index[(3 * i) + 2] = partition;
                written += length;
                if (counts[partition]++ == 0)
                {
                    Parts++;
                }
                i++;
            }
        }
        catch (InvalidDataException ex)
        {
            Release();
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"event {i} cannot be read: {ex.Message}"));
        }

        // Group by partition, in the batch's order within each: a counting sort into the slots.
        var firsts = index.AsSpan(4 * n, _partitions);
        var next = 0;
        for (var p = 0; p < _partitions; p++)
        {
            firsts[p] = next;
            next += counts[p];
        }
        var slots = index.AsSpan(3 * n, n);
        Span<int> fill = _partitions <= 1024 ? stackalloc int[_partitions] : new int[_partitions];
        firsts.CopyTo(fill);
        for (var e = 0; e < n; e++)
        {
            var partition = index[(3 * e) + 2];
            if (partition >= 0)
            {
                slots[fill[partition]++] = e;
            }
        }
        _pendingParts = Parts;
        if (Parts == 0)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Puts the answers of <paramref name="partition"/>'s part, at <paramref name="offset"/> of a call's verdicts, in their places.</summary>
    public void CompletePart(int partition, EventResult[] distinct, ReadOnlySpan<byte> verdicts, int offset)
    {
        var index = Index;
        var first = index[(4 * Count) + partition];
        var count = index[(4 * Count) + _partitions + partition];
        for (var k = 0; k < count; k++)
        {
            var verdict = verdicts[offset + k];
            if (verdict >= distinct.Length)
            {
                FailPart(new RpcException(new Status(StatusCode.Internal, "resolver answered a result it did not list")));
                return;
            }
            _results![index[(3 * Count) + first + k]] = distinct[verdict];
        }
        PartEnded();
    }

    public void FailPart(Exception error)
    {
        Interlocked.CompareExchange(ref _error, error, null);
        PartEnded();
    }

    private void PartEnded()
    {
        if (Interlocked.Decrement(ref _pendingParts) != 0)
        {
            return;
        }
        if (_error is { } error)
        {
            Release();
            _done.TrySetException(error);
        }
        else
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Returns the pooled buffers: once the results were sent, or when the batch failed.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _index, null) is { } index)
        {
            WirePools.Ints.Return(index);
        }
        if (Interlocked.Exchange(ref _events, null) is { } events)
        {
            WirePools.Bytes.Return(events);
        }
        if (Interlocked.Exchange(ref _results, null) is { } results)
        {
            ResultPool.Return(results, clearArray: true);
        }
    }
}
