using Grpc.Core;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bench;

/// <summary>
/// The transport ceiling: an in-process Kestrel server on 127.0.0.1 (HTTP/2 cleartext, like every
/// Veltrix gRPC port) whose Ingest.Publish answers each batch at once with one ACCEPTED result per event,
/// the same shape the mesh answers with, and does nothing else.
/// </summary>
public sealed class BareSink : IAsyncDisposable
{
    private readonly LoopbackGrpcHost _host;

    private BareSink(LoopbackGrpcHost host)
    {
        _host = host;
    }

    public Uri Address => _host.Address;

    public static async Task<BareSink> StartAsync(CancellationToken cancellationToken) =>
        new(await LoopbackGrpcHost.StartAsync<SinkService>(0, static _ => { }, cancellationToken));

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private sealed class SinkService : Ingest.IngestBase
    {
        private static readonly EventResult Accepted = new() { Outcome = Outcome.Accepted };

        public override async Task Publish(IAsyncStreamReader<EventBatch> requestStream, IServerStreamWriter<PublishAck> responseStream, ServerCallContext context)
        {
            while (await requestStream.MoveNext(context.CancellationToken))
            {
                var batch = requestStream.Current;
                var ack = new PublishAck { BatchId = batch.BatchId };
                for (var i = 0; i < batch.Events.Count; i++)
                {
                    ack.Results.Add(Accepted);
                }
                await responseStream.WriteAsync(ack, context.CancellationToken);
            }
        }

        public override Task<SubmitAck> Submit(Event request, ServerCallContext context) =>
            Task.FromResult(new SubmitAck { Outcome = Outcome.Accepted });
    }
}
