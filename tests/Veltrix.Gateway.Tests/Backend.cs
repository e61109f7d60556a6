using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Veltrix.Gateway.Tests;

/// <summary>
/// A real gRPC server on 127.0.0.1 (h2c, a free port, gRPC-Web on) standing in for a mesh service.
/// It records the content type each call arrived with, before gRPC-Web translation rewrites it.
/// </summary>
internal sealed class Backend : IAsyncDisposable
{
    /// <summary>Larger than the gateway's limit, so a refusal can only come from the gateway.</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    private readonly WebApplication _app;

    private Backend(WebApplication app, string address, ConcurrentQueue<string> arrivals)
    {
        _app = app;
        Address = address;
        Arrivals = arrivals;
    }

    public string Address { get; }

    /// <summary>"path content-type" of every request, in arrival order.</summary>
    public ConcurrentQueue<string> Arrivals { get; }

    public static async Task<Backend> StartAsync(Action<IServiceCollection> addServices, Action<WebApplication> mapServices)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxMessageBytes;
            grpc.EnableDetailedErrors = true;
        });
        addServices(builder.Services);

        var app = builder.Build();
        var arrivals = new ConcurrentQueue<string>();
        app.Use((context, next) =>
        {
            arrivals.Enqueue(context.Request.Path + " " + context.Request.ContentType);
            return next(context);
        });
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        mapServices(app);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.Single();
        return new Backend(app, address, arrivals);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
