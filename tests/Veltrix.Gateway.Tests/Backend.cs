using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Veltrix.Testing;

namespace Veltrix.Gateway.Tests;

/// <summary>
/// A real gRPC server on 127.0.0.1 (h2c, a free port, gRPC-Web on) standing in for a mesh service.
/// It records the content type each call arrived with, before gRPC-Web translation rewrites it.
/// </summary>
internal sealed class Backend : IAsyncDisposable
{
    /// <summary>Larger than the gateway's limit, so a refusal can only come from the gateway.</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    private readonly LoopbackGrpcServer _server;

    private Backend(LoopbackGrpcServer server, ConcurrentQueue<string> arrivals)
    {
        _server = server;
        Arrivals = arrivals;
    }

    public string Address => _server.Address;

    /// <summary>"path content-type" of every request, in arrival order.</summary>
    public ConcurrentQueue<string> Arrivals { get; }

    public static async Task<Backend> StartAsync(Action<IServiceCollection> addServices, Action<WebApplication> mapServices)
    {
        var arrivals = new ConcurrentQueue<string>();
        var server = await LoopbackGrpcServer.StartAsync(addServices, mapServices, new LoopbackGrpcServerOptions
        {
            MaxReceiveMessageSize = MaxMessageBytes,
            EnableDetailedErrors = true,
            GrpcWeb = true,
            OnRequest = request => arrivals.Enqueue(request.Path + " " + request.ContentType),
        });
        return new Backend(server, arrivals);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
