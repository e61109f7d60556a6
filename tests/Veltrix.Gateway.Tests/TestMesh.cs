using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Veltrix.ServiceDefaults;

namespace Veltrix.Gateway.Tests;

/// <summary>
/// The gateway, started for real on two free loopback ports exactly as Program.cs composes it, in front of
/// stand-in backends. Spawn-timer can be left down: its address is then a loopback port nobody listens on.
/// </summary>
internal sealed class TestMesh : IAsyncDisposable
{
    private readonly List<Backend> _backends;
    private readonly WebApplication _gateway;
    private readonly List<IDisposable> _owned = [];

    private TestMesh(Fakes fakes, List<Backend> backends, WebApplication gateway, int grpcPort, int webPort)
    {
        Ingest = fakes.Ingest;
        Leaderboard = fakes.Leaderboard;
        ScoreFeed = fakes.ScoreFeed;
        PartitionWriter = fakes.PartitionWriter;
        _backends = backends;
        _gateway = gateway;
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
        WebAddress = new Uri($"http://127.0.0.1:{webPort}");
    }

    public FakeIngest Ingest { get; }
    public FakeLeaderboard Leaderboard { get; }
    public FakeScoreFeed ScoreFeed { get; }
    public FakePartitionWriter PartitionWriter { get; }

    public Backend IngestBackend => _backends[0];
    public Backend ResolverBackend => _backends[1];
    public Backend LeaderboardBackend => _backends[2];

    /// <summary>The gateway's h2c port, for native gRPC clients.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>The gateway's HTTP/1.1 port, for browsers.</summary>
    public Uri WebAddress { get; }

    public static DateTime Deadline => DateTime.UtcNow.AddSeconds(15);

    /// <param name="spawnTimerUp">False: spawn-timer's address is a port nobody listens on.</param>
    /// <param name="logs">Also receives the gateway's logs, at the production default levels.</param>
    public static async Task<TestMesh> StartAsync(bool spawnTimerUp = true, ILoggerProvider? logs = null)
    {
        var fakes = new Fakes();
        var backends = new List<Backend>();
        try
        {
            backends.Add(await Backend.StartAsync(
                services => services.AddSingleton(fakes.Ingest),
                app => app.MapGrpcService<FakeIngest>()));
            backends.Add(await Backend.StartAsync(
                services => services.AddSingleton(fakes.ScoreFeed).AddSingleton(fakes.PartitionWriter),
                app =>
                {
                    app.MapGrpcService<FakeResolver>();
                    app.MapGrpcService<FakeAdmin>();
                    app.MapGrpcService<FakeScoreFeed>();
                    app.MapGrpcService<FakePartitionWriter>();
                }));
            backends.Add(await Backend.StartAsync(
                services => services.AddSingleton(fakes.Leaderboard),
                app => app.MapGrpcService<FakeLeaderboard>()));
            var spawnTimer = "http://127.0.0.1:" + UnusedPort();
            if (spawnTimerUp)
            {
                backends.Add(await Backend.StartAsync(_ => { }, app => app.MapGrpcService<FakeSpawnTimer>()));
                spawnTimer = backends[3].Address;
            }

            var (gateway, grpcPort, webPort) = await StartGatewayAsync(
                logs,
                $"--{MeshOptions.Section}:Ingest={backends[0].Address}",
                $"--{MeshOptions.Section}:Resolver={backends[1].Address}",
                $"--{MeshOptions.Section}:Leaderboard={backends[2].Address}",
                $"--{MeshOptions.Section}:SpawnTimer={spawnTimer}");
            return new TestMesh(fakes, backends, gateway, grpcPort, webPort);
        }
        catch
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync();
            }
            throw;
        }
    }

    // Clients accept answers as large as the backends do: the size limits under test are the gateway's.
    public GrpcChannel NativeChannel()
    {
        var channel = GrpcChannel.ForAddress(GrpcAddress, new GrpcChannelOptions { MaxReceiveMessageSize = Backend.MaxMessageBytes });
        _owned.Add(channel);
        return channel;
    }

    /// <summary>gRPC-Web over HTTP/1.1 to the web port, as a browser would send it.</summary>
    public GrpcChannel WebChannel(GrpcWebMode mode = GrpcWebMode.GrpcWeb)
    {
        var channel = GrpcChannel.ForAddress(WebAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(mode, new SocketsHttpHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            MaxReceiveMessageSize = Backend.MaxMessageBytes,
        });
        _owned.Add(channel);
        return channel;
    }

    public HttpClient WebClient()
    {
        var client = new HttpClient { BaseAddress = WebAddress, Timeout = TimeSpan.FromSeconds(15) };
        _owned.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    private static async Task<(WebApplication Gateway, int GrpcPort, int WebPort)> StartGatewayAsync(
        ILoggerProvider? logs, params string[] meshArgs)
    {
        // A port found free can be taken before Kestrel binds it; try again with new ones.
        for (var attempt = 1; ; attempt++)
        {
            var grpcPort = UnusedPort();
            var webPort = UnusedPort();
            string[] args =
            [
                $"--{VeltrixHostOptions.Section}:GrpcPort={grpcPort}",
                $"--{VeltrixHostOptions.Section}:HttpPort={webPort}",
                // Quiet console unless a test watches the logs.
                logs is null ? "--Logging:LogLevel:Default=Warning" : "--Logging:LogLevel:Default=Information",
                .. meshArgs,
            ];
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.AddServiceDefaults();
            builder.AddGateway();
            if (logs is not null)
            {
                builder.Logging.AddProvider(logs);
            }
            var app = builder.Build();
            app.MapDefaultEndpoints();
            app.MapGateway();
            try
            {
                await app.StartAsync();
                return (app, grpcPort, webPort);
            }
            catch (IOException) when (attempt < 5)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Fakes
    {
        public FakeIngest Ingest { get; } = new();
        public FakeLeaderboard Leaderboard { get; } = new();
        public FakeScoreFeed ScoreFeed { get; } = new();
        public FakePartitionWriter PartitionWriter { get; } = new();
    }
}
