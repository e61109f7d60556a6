using System.Diagnostics.CodeAnalysis;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.V1;

namespace Veltrix.Ingest.Grpc;

/// <summary>The front door for events: validate, route, answer per event in order.</summary>
public sealed class IngestService(EventRouter router, IOptions<IngestOptions> options) : Contracts.V1.Ingest.IngestBase
{
    private readonly int _maxEvents = options.Value.MaxEventsPerBatch;

    // Batches of one stream are routed one after another, so a player's events sent on one stream
    // reach the partition in the order they were sent; clients run several streams for parallelism.
    public override async Task Publish(IAsyncStreamReader<EventBatch> requestStream, IServerStreamWriter<PublishAck> responseStream, ServerCallContext context)
    {
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (batch.Events.Count > _maxEvents)
            {
                TooLarge(batch.Events.Count);
            }
            var results = await RouteAsync(batch.Events, context);
            var ack = new PublishAck { BatchId = batch.BatchId };
            ack.Results.AddRange(results);
            await responseStream.WriteAsync(ack, context.CancellationToken);
        }
    }

    public override async Task<SubmitAck> Submit(Event request, ServerCallContext context)
    {
        var results = await RouteAsync([request], context);
        return new SubmitAck { Outcome = results[0].Outcome, Reason = results[0].Reason };
    }

    private async Task<EventResult[]> RouteAsync(IReadOnlyList<Event> events, ServerCallContext context)
    {
        try
        {
            return await router.RouteAsync(events, context.CancellationToken);
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
