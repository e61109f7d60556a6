using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Veltrix.Cli.Bench;

/// <summary>
/// One gRPC service in this process on 127.0.0.1, HTTP/2 cleartext like every Veltrix gRPC port: the benches'
/// bare sink and their stand-ins for the service that feeds the one they measure. Stopped when disposed.
/// </summary>
public sealed class LoopbackGrpcHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackGrpcHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>Serves <typeparamref name="TService"/> on <paramref name="port"/> (0: any free one), with <paramref name="services"/> registered.</summary>
    public static async Task<LoopbackGrpcHost> StartAsync<TService>(int port, Action<IServiceCollection> services, CancellationToken cancellationToken)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        services(builder.Services);
        var app = builder.Build();
        try
        {
            app.MapGrpcService<TService>();
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new LoopbackGrpcHost(app, new Uri(address));
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
}
