using System.Threading.Channels;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Contracts.Wire;

namespace Veltrix.Ingest.Grpc;

/// <summary>
/// The front door for events: validate, route, answer per event in order. Publish reads each batch in
/// place from its bytes and writes each ack from the batch's results (<see cref="IngestMethods"/>):
/// no message is built per event on the way in or out.
/// </summary>
public sealed class IngestService(EventRouter router, Microsoft.Extensions.Options.IOptions<IngestOptions> options)
{
    private readonly int _maxInFlight = options.Value.MaxBatchesInFlightPerStream;

    /// <summary>
    /// A stream's batches are queued on the partition lanes one after another, so a player's events sent on
    /// one stream reach the partition in the order they were sent; several of them are resolved at once
    /// (up to <see cref="IngestOptions.MaxBatchesInFlightPerStream"/>), and their acks leave in order.
    /// </summary>
    internal async Task Publish(IAsyncStreamReader<SerializedBatch> requestStream, IServerStreamWriter<RoutedBatch> responseStream, ServerCallContext context)
    {
        var stream = new PublishStream();
        var inFlight = Channel.CreateBounded<RoutedBatch>(new BoundedChannelOptions(_maxInFlight)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // A batch that fails ends the call with its error at once, even while the client is not sending.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var acks = AckInOrderAsync(inFlight.Reader, responseStream, reading, context.CancellationToken);
        try
        {
            await foreach (var request in requestStream.ReadAllAsync(reading.Token))
            {
                if (stream.Failed)
                {
                    request.Dispose();
                    break;
                }
                RoutedBatch batch;
                using (request)
                {
                    batch = router.Route(request.Span, stream);
                }
                // Queued first, then handed to the acks: a batch that is in flight is one the acks wait for.
                await router.EnqueueAsync(batch, reading.Token);
                await inFlight.Writer.WriteAsync(batch, reading.Token);
            }
        }
        catch (OperationCanceledException) when (acks.IsFaulted && !context.CancellationToken.IsCancellationRequested)
        {
            // The acks stopped at a failed batch; its error is the call's.
        }
        catch
        {
            // The call ends with this error; batches before it that were answered are still acknowledged.
            stream.Failed = true;
            inFlight.Writer.TryComplete();
            await acks.ContinueWith(static _ => { }, TaskScheduler.Default);
            throw;
        }
        inFlight.Writer.TryComplete();
        await Answered(acks);
    }

    internal async Task<SubmitAck> Submit(Event request, ServerCallContext context)
    {
        var results = await Answered(router.RouteAsync([request], context.CancellationToken));
        return new SubmitAck { Outcome = results[0].Outcome, Reason = results[0].Reason };
    }

    private static async Task AckInOrderAsync(
        ChannelReader<RoutedBatch> inFlight, IServerStreamWriter<RoutedBatch> responseStream,
        CancellationTokenSource reading, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in inFlight.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await batch.Done.ConfigureAwait(false);
                try
                {
                    await responseStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    batch.Release();
                }
            }
        }
        catch
        {
            await reading.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<T> Answered<T>(Task<T> pending)
    {
        await Answered((Task)pending);
        return pending.Result;
    }

    private static async Task Answered(Task pending)
    {
        try
        {
            await pending;
        }
        catch (RpcException ex) when (ex.StatusCode is not (StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Unavailable))
        {
            // What went wrong between ingest and a resolver is no business of the client's: it hears
            // that the events were not applied, and may retry them.
            throw new RpcException(new Status(StatusCode.Unavailable, "events were not applied; retry"));
        }
    }
}

/// <summary>
/// Binds <c>veltrix.v1.Ingest</c> by hand: Publish with the batch in as bytes and each ack written from the
/// batch's results (the same messages on the wire as the contract's), Submit with the contract's messages.
/// </summary>
internal sealed class IngestMethods : IServiceMethodProvider<IngestService>
{
    private const byte BatchIdTag = (1 << 3) | WireReader.Varint;
    private const byte ResultTag = (2 << 3) | WireReader.LengthDelimited;

    private static readonly Method<SerializedBatch, RoutedBatch> Publish = new(
        MethodType.DuplexStreaming, global::Veltrix.Contracts.V1.Ingest.Descriptor.FullName, "Publish",
        PartitionWriterWire.BatchMarshaller,
        new Marshaller<RoutedBatch>(WriteAck, static _ => throw new NotSupportedException("acks are only written here")));

    private static readonly Method<Event, SubmitAck> Submit = new(
        MethodType.Unary, global::Veltrix.Contracts.V1.Ingest.Descriptor.FullName, "Submit", MessageMarshaller.For(Event.Parser), MessageMarshaller.For(SubmitAck.Parser));

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<IngestService> context)
    {
        context.AddDuplexStreamingMethod(Publish, [], static (service, requests, acks, call) => service.Publish(requests, acks, call));
        context.AddUnaryMethod(Submit, [], static (service, request, call) => service.Submit(request, call));
    }

    /// <summary>A <c>PublishAck</c>: the batch id, then each event's result (shared instances, their bytes cached).</summary>
    private static void WriteAck(RoutedBatch batch, SerializationContext context)
    {
        var results = batch.Results;
        var size = batch.BatchId == 0 ? 0 : 1 + WireReader.VarintSize(batch.BatchId);
        foreach (var result in results)
        {
            var length = ResultBytes.Of(result).Length;
            size += 1 + WireReader.VarintSize((ulong)length) + length;
        }
        context.SetPayloadLength(size);
        var writer = context.GetBufferWriter();
        var buffer = writer.GetSpan(size);
        var at = 0;
        if (batch.BatchId != 0)
        {
            buffer[at++] = BatchIdTag;
            at += WireReader.WriteVarint(buffer[at..], batch.BatchId);
        }
        foreach (var result in results)
        {
            var bytes = ResultBytes.Of(result);
            buffer[at++] = ResultTag;
            at += WireReader.WriteVarint(buffer[at..], (ulong)bytes.Length);
            bytes.CopyTo(buffer[at..]);
            at += bytes.Length;
        }
        writer.Advance(at);
        context.Complete();
    }
}
