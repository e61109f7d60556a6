using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.V1;

namespace Veltrix.Ingest.Grpc;

/// <summary>The front door for events: validate, route, answer per event in order.</summary>
public sealed class IngestService(EventRouter router, IOptions<IngestOptions> options) : Contracts.V1.Ingest.IngestBase
{
    private readonly int _maxEvents = options.Value.MaxEventsPerBatch;
    private readonly int _maxInFlight = options.Value.MaxBatchesInFlightPerStream;

    /// <summary>
    /// A stream's batches are queued on the partition lanes one after another, so a player's events sent on
    /// one stream reach the partition in the order they were sent; several of them are resolved at once
    /// (up to <see cref="IngestOptions.MaxBatchesInFlightPerStream"/>), and their acks leave in order.
    /// </summary>
    public override async Task Publish(IAsyncStreamReader<EventBatch> requestStream, IServerStreamWriter<PublishAck> responseStream, ServerCallContext context)
    {
        var stream = new PublishStream();
        var inFlight = Channel.CreateBounded<(ulong BatchId, Task<EventResult[]> Results)>(new BoundedChannelOptions(_maxInFlight)
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
            await foreach (var batch in requestStream.ReadAllAsync(reading.Token))
            {
                if (batch.Events.Count > _maxEvents)
                {
                    TooLarge(batch.Events.Count);
                }
                if (stream.Failed)
                {
                    break;
                }
                var results = await router.SubmitAsync(batch.Events, stream, reading.Token);
                await inFlight.Writer.WriteAsync((batch.BatchId, results), reading.Token);
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

    public override async Task<SubmitAck> Submit(Event request, ServerCallContext context)
    {
        var results = await Answered(router.RouteAsync([request], context.CancellationToken));
        return new SubmitAck { Outcome = results[0].Outcome, Reason = results[0].Reason };
    }

    private static async Task AckInOrderAsync(
        ChannelReader<(ulong BatchId, Task<EventResult[]> Results)> inFlight, IServerStreamWriter<PublishAck> responseStream,
        CancellationTokenSource reading, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (batchId, pending) in inFlight.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var ack = new PublishAck { BatchId = batchId };
                ack.Results.AddRange(await pending.ConfigureAwait(false));
                await responseStream.WriteAsync(ack, cancellationToken).ConfigureAwait(false);
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

    [DoesNotReturn]
    private void TooLarge(int count) =>
        throw new RpcException(new Status(StatusCode.ResourceExhausted, $"batch has {count} events; at most {_maxEvents} are accepted"));
}
