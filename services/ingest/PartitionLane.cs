using System.Buffers;
using System.Threading.Channels;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Contracts.Wire;

namespace Veltrix.Ingest;

/// <summary>
/// The one way into a partition from this ingest: batches with a part for it queue here in the order they
/// were routed, and one sender merges whatever is queued into a single Apply call, waits for its answer,
/// and only then sends the next. One call in flight keeps the partition's input in routing order; the
/// merging is the group commit: the busier the partition, the more events share a call and a log append.
/// The call is written as bytes straight from the batches' canonical events into one reused buffer.
/// </summary>
internal sealed class PartitionLane : IDisposable
{
    private const byte PartitionTag = (1 << 3) | WireReader.Varint;
    private const byte EventTag = (4 << 3) | WireReader.LengthDelimited;
    private const byte StampsTag = (5 << 3) | WireReader.LengthDelimited;

    private readonly Channel<RoutedBatch> _queue;
    private readonly CallInvoker _writer;
    private readonly int _partition;
    private readonly int _maxEventsPerCall;
    private readonly TimeSpan _callTimeout;
    private readonly ILogger _logger;
    private readonly List<RoutedBatch> _call = [];
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private RoutedBatch? _next;
    private AsyncDuplexStreamingCall<SerializedBatch, ApplyReply>? _stream;
    private CancellationTokenSource _deadline = new();

    public PartitionLane(int partition, CallInvoker writer, IngestOptions options, TimeSpan callTimeout, ILogger logger)
    {
        _logger = logger;
        _partition = partition;
        _writer = writer;
        _maxEventsPerCall = options.MaxEventsPerCall;
        _callTimeout = callTimeout;
        _queue = Channel.CreateBounded<RoutedBatch>(new BoundedChannelOptions(options.LaneCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _ = Task.Run(SendAsync);
    }

    /// <summary>Apply calls made, for the metrics.</summary>
    public long Calls;

    /// <summary>Queues a batch's part; waits while the lane is full (the resolver is the slow hop), up to the caller's deadline.</summary>
    public ValueTask EnqueueAsync(RoutedBatch batch, CancellationToken cancellationToken) =>
        _queue.Writer.TryWrite(batch) ? ValueTask.CompletedTask : _queue.Writer.WriteAsync(batch, cancellationToken);

    private async Task SendAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var events = 0;
            while (TakeNext(reader, out var batch))
            {
                if (batch.Stream.Failed)
                {
                    // An earlier batch of its stream failed: nothing the client sent after it may be applied
                    // before the client retries what failed, or its retry would meet DUPLICATE.
                    batch.FailPart(new RpcException(new Status(StatusCode.Unavailable, "an earlier batch of this stream was not applied; retry from it")));
                    continue;
                }
                var count = batch.PartCount(_partition);
                if (events > 0 && events + count > _maxEventsPerCall)
                {
                    _next = batch;
                    break;
                }
                events += count;
                _call.Add(batch);
            }
            if (_call.Count == 0)
            {
                continue;
            }
            try
            {
                var length = WriteCall();
                var reply = await ApplyAsync(SerializedBatch.Borrow(_buffer, length)).ConfigureAwait(false);
                if (reply.Count != events)
                {
                    throw new RpcException(new Status(StatusCode.Internal, "resolver answered a different number of results"));
                }
                // The reply's few distinct results become shared instances: a client's ack then refers to
                // them, and nothing is allocated per event.
                var distinct = new EventResult[reply.Distinct.Count];
                for (var i = 0; i < distinct.Length; i++)
                {
                    distinct[i] = SharedResults.Of(reply.Distinct[i]);
                }
                var verdicts = reply.Verdicts.Span;
                var offset = 0;
                foreach (var batch in _call)
                {
                    // Counted first: the batch's last part completing hands it to its ack, which releases it.
                    var count = batch.PartCount(_partition);
                    batch.CompletePart(_partition, distinct, verdicts, offset);
                    offset += count;
                }
                Calls++;
            }
            catch (Exception ex)
            {
                // Whether the resolver applied it is unknown: the stream goes, and the next call opens another.
                CloseStream();
                Log.ApplyFailed(_logger, _partition, events, ex);
                foreach (var batch in _call)
                {
                    batch.Stream.Failed = true;
                    batch.FailPart(ex);
                }
            }
            _call.Clear();
        }
    }

    /// <summary>Stops taking batches and closes the lane's stream; at shutdown.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        CloseStream();
        _deadline.Dispose();
    }

    /// <summary>
    /// Sends one batch on the lane's stream to the partition's owner (opening it when there is none) and waits
    /// for its reply, up to the call timeout. One batch is in flight at a time, so replies pair with batches.
    /// </summary>
    private async Task<ApplyReply> ApplyAsync(SerializedBatch batch)
    {
        if (!_deadline.TryReset())
        {
            _deadline.Dispose();
            _deadline = new CancellationTokenSource();
        }
        _deadline.CancelAfter(_callTimeout);
        var stream = _stream ??= _writer.AsyncDuplexStreamingCall(PartitionWriterWire.ApplyStream, null, default);
        try
        {
            await stream.RequestStream.WriteAsync(batch, _deadline.Token).ConfigureAwait(false);
            if (!await stream.ResponseStream.MoveNext(_deadline.Token).ConfigureAwait(false))
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "resolver ended the stream without answering"));
            }
            return stream.ResponseStream.Current;
        }
        catch (OperationCanceledException) when (_deadline.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"resolver did not answer within {_callTimeout.TotalMilliseconds:N0} ms"));
        }
    }

    private void CloseStream()
    {
        var stream = _stream;
        _stream = null;
        stream?.Dispose();
    }

    /// <summary>Writes the call's <c>ApplyBatch</c> into the lane's buffer: the partition, every event, then their stamps packed.</summary>
    private int WriteCall()
    {
        var stampBytes = 0;
        var size = 1 + WireReader.VarintSize((ulong)_partition);
        foreach (var batch in _call)
        {
            var count = batch.PartCount(_partition);
            for (var k = 0; k < count; k++)
            {
                var length = batch.PartEvent(_partition, k).Length;
                size += 1 + WireReader.VarintSize((ulong)length) + length;
            }
            stampBytes += count * WireReader.VarintSize((ulong)batch.StampMs);
        }
        size += 1 + WireReader.VarintSize((ulong)stampBytes) + stampBytes;
        if (_buffer.Length < size)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(size);
        }

        var buffer = _buffer.AsSpan();
        var at = 0;
        buffer[at++] = PartitionTag;
        at += WireReader.WriteVarint(buffer[at..], (ulong)_partition);
        foreach (var batch in _call)
        {
            var count = batch.PartCount(_partition);
            for (var k = 0; k < count; k++)
            {
                var e = batch.PartEvent(_partition, k);
                buffer[at++] = EventTag;
                at += WireReader.WriteVarint(buffer[at..], (ulong)e.Length);
                e.CopyTo(buffer[at..]);
                at += e.Length;
            }
        }
        buffer[at++] = StampsTag;
        at += WireReader.WriteVarint(buffer[at..], (ulong)stampBytes);
        foreach (var batch in _call)
        {
            var count = batch.PartCount(_partition);
            for (var k = 0; k < count; k++)
            {
                at += WireReader.WriteVarint(buffer[at..], (ulong)batch.StampMs);
            }
        }
        return at;
    }

    private bool TakeNext(ChannelReader<RoutedBatch> reader, out RoutedBatch batch)
    {
        if (_next is not null)
        {
            batch = _next;
            _next = null;
            return true;
        }
        return reader.TryRead(out batch!);
    }
}

/// <summary>A client stream as the lanes see it: once one of its batches failed, its later parts are refused.</summary>
internal sealed class PublishStream
{
    public volatile bool Failed;
}
