using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bench;

/// <summary>
/// The transport ceiling: an in-process Kestrel server on 127.0.0.1 (HTTP/2 cleartext, like every
/// Veltrix gRPC port) whose Ingest.Publish answers each batch at once with one ACCEPTED result per event,
/// the same shape the mesh answers with, and does nothing else.
/// </summary>
public sealed class BareSink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BareSink(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<BareSink> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        try
        {
            app.MapGrpcService<SinkService>();
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new BareSink(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // Disposing below closes what is left.
        }
        await _app.DisposeAsync();
    }

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
