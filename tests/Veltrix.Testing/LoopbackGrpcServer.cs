using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Veltrix.Testing;

/// <summary>
/// A real Kestrel gRPC server on 127.0.0.1 (HTTP/2 cleartext) for a test to stand in for another service.
/// It is running when <see cref="StartAsync"/> returns and stops on <see cref="DisposeAsync"/>.
/// </summary>
public sealed class LoopbackGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackGrpcServer(WebApplication app, string address)
    {
        _app = app;
        Address = address;
        Port = new Uri(address).Port;
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string Address { get; }

    /// <summary>The port it bound: the one asked for, or the free one it took.</summary>
    public int Port { get; }

    /// <summary>The running server's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server with gRPC registered.</summary>
    /// <param name="addServices">Registers what the gRPC services need.</param>
    /// <param name="map">Maps the gRPC services.</param>
    /// <param name="options">Port, message size limit, gRPC-Web and a request hook; defaults: a free port, nothing else.</param>
    public static async Task<LoopbackGrpcServer> StartAsync(
        Action<IServiceCollection> addServices, Action<WebApplication> map, LoopbackGrpcServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(addServices);
        ArgumentNullException.ThrowIfNull(map);
        options ??= new LoopbackGrpcServerOptions();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, options.Port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc =>
        {
            if (options.MaxReceiveMessageSize is { } max)
            {
                grpc.MaxReceiveMessageSize = max;
            }
            grpc.EnableDetailedErrors = options.EnableDetailedErrors;
        });
        addServices(builder.Services);

        var app = builder.Build();
        try
        {
            if (options.OnRequest is { } onRequest)
            {
                app.Use((context, next) =>
                {
                    onRequest(context.Request);
                    return next(context);
                });
            }
            if (options.GrpcWeb)
            {
                app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
            }
            map(app);
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Single();
        return new LoopbackGrpcServer(app, address);
    }

    /// <summary>Stops the server and lets go of its port.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
