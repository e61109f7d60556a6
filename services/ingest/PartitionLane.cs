using System.Threading.Channels;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;

namespace Veltrix.Ingest;

/// <summary>
/// The one way into a partition from this ingest: parts of client batches queue here in the order they
/// were routed, and one sender merges whatever is queued into a single Apply call, waits for its answer,
/// and only then sends the next. One call in flight keeps the partition's input in routing order; the
/// merging is the group commit: the busier the partition, the more events share a call and a log append.
/// </summary>
internal sealed class PartitionLane
{
    private readonly Channel<LanePart> _queue;
    private readonly PartitionWriter.PartitionWriterClient _writer;
    private readonly uint _partition;
    private readonly int _maxEventsPerCall;
    private readonly TimeSpan _callTimeout;
    private readonly TimeProvider _time;
    private readonly List<LanePart> _call = [];
    private LanePart? _next;

    public PartitionLane(uint partition, PartitionWriter.PartitionWriterClient writer, IngestOptions options, TimeSpan callTimeout, TimeProvider time)
    {
        _partition = partition;
        _writer = writer;
        _maxEventsPerCall = options.MaxEventsPerCall;
        _callTimeout = callTimeout;
        _time = time;
        _queue = Channel.CreateBounded<LanePart>(new BoundedChannelOptions(options.LaneCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _ = Task.Run(SendAsync);
    }

    /// <summary>Apply calls made, for the metrics.</summary>
    public long Calls;

    /// <summary>Queues a part; waits while the lane is full (the resolver is the slow hop), up to the caller's deadline.</summary>
    public ValueTask EnqueueAsync(LanePart part, CancellationToken cancellationToken) =>
        _queue.Writer.TryWrite(part) ? ValueTask.CompletedTask : _queue.Writer.WriteAsync(part, cancellationToken);

    private async Task SendAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = new ApplyBatch { Partition = _partition };
            var events = batch.Events;
            while (TakeNext(reader, out var part))
            {
                if (part.Stream.Failed)
                {
                    // An earlier batch of its stream failed: nothing the client sent after it may be applied
                    // before the client retries what failed, or its retry would meet DUPLICATE.
                    part.Fail(new RpcException(new Status(StatusCode.Unavailable, "an earlier batch of this stream was not applied; retry from it")));
                    continue;
                }
                if (events.Count > 0 && events.Count + part.Events.Count > _maxEventsPerCall)
                {
                    _next = part;
                    break;
                }
                events.AddRange(part.Events);
                for (var i = 0; i < part.Events.Count; i++)
                {
                    batch.StampsMs.Add(part.StampMs);
                }
                _call.Add(part);
            }
            if (_call.Count == 0)
            {
                continue;
            }
            try
            {
                var reply = await _writer.ApplyAsync(batch, deadline: _time.GetUtcNow().UtcDateTime + _callTimeout).ResponseAsync.ConfigureAwait(false);
                if (reply.Count != events.Count)
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
                foreach (var part in _call)
                {
                    part.Complete(distinct, verdicts, offset);
                    offset += part.Events.Count;
                }
                Calls++;
            }
            catch (Exception ex)
            {
                foreach (var part in _call)
                {
                    part.Stream.Failed = true;
                    part.Fail(ex);
                }
            }
            _call.Clear();
        }
    }

    private bool TakeNext(ChannelReader<LanePart> reader, out LanePart part)
    {
        if (_next is not null)
        {
            part = _next;
            _next = null;
            return true;
        }
        return reader.TryRead(out part!);
    }
}

/// <summary>A client stream as the lanes see it: once one of its batches failed, its later parts are refused.</summary>
internal sealed class PublishStream
{
    public volatile bool Failed;
}

/// <summary>The events of one client batch that go to one partition, and where their results go.</summary>
internal sealed class LanePart(PublishStream stream, EventResult[] results, long stampMs)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PublishStream Stream { get; } = stream;
    public List<Event> Events { get; } = [];

    /// <summary>When ingest received the batch: the stamp of each of these events.</summary>
    public long StampMs { get; } = stampMs;
    public List<int> Positions { get; } = [];
    public Task Done => _done.Task;

    /// <summary>Puts this part's results, at <paramref name="offset"/> of the call's verdicts, in their places in the batch.</summary>
    public void Complete(EventResult[] distinct, ReadOnlySpan<byte> verdicts, int offset)
    {
        for (var j = 0; j < Positions.Count; j++)
        {
            var index = verdicts[offset + j];
            if (index >= distinct.Length)
            {
                throw new RpcException(new Status(StatusCode.Internal, "resolver answered a result it did not list"));
            }
            results[Positions[j]] = distinct[index];
        }
        _done.TrySetResult();
    }

    public void Fail(Exception error) => _done.TrySetException(error);
}
