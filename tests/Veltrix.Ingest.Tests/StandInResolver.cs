using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;

namespace Veltrix.Ingest.Tests;

/// <summary>
/// A real gRPC server on loopback answering PartitionWriter.Apply in the resolver's place: it records
/// what ingest sent and accepts everything, or fails with a chosen status. The subject here is ingest's
/// routing; the real resolver is exercised by the end-to-end tests.
/// </summary>
public sealed class StandInResolver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StandInResolver(WebApplication app) => _app = app;

    public ConcurrentQueue<ApplyBatch> Received { get; } = new();

    public StatusCode? FailWith { get; set; }

    public string Address { get; private set; } = "";

    public static async Task<StandInResolver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<Holder>();
        var app = builder.Build();
        var standIn = new StandInResolver(app);
        app.Services.GetRequiredService<Holder>().StandIn = standIn;
        app.MapGrpcService<Writer>();
        await app.StartAsync();
        standIn.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return standIn;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class Holder
    {
        public StandInResolver? StandIn { get; set; }
    }

    private sealed class Writer(Holder holder) : PartitionWriter.PartitionWriterBase
    {
        public override Task<ApplyReply> Apply(ApplyBatch request, ServerCallContext context)
        {
            var standIn = holder.StandIn!;
            if (standIn.FailWith is { } status)
            {
                throw new RpcException(new Status(status, "stand-in failure"));
            }
            standIn.Received.Enqueue(request);
            var reply = new ApplyReply();
            foreach (var _ in request.Events)
            {
                reply.Results.Add(new EventResult { Outcome = Outcome.Accepted });
            }
            return Task.FromResult(reply);
        }
    }
}
