using Grpc.Core;
using Grpc.Net.Client;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli;

/// <summary>The public services, reached through the gateway's native gRPC port.</summary>
public sealed class GatewayClients : IDisposable
{
    private readonly Metadata? _headers;
    private readonly TimeProvider _time;

    public GatewayClients(Uri gateway, string? bearerToken = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        Address = gateway;
        _time = time ?? TimeProvider.System;
        Channel = GrpcChannel.ForAddress(gateway, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // Several Publish streams plus reads: more than one connection once a connection's streams are busy.
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
        });
        if (!string.IsNullOrEmpty(bearerToken))
        {
            _headers = new Metadata { { "authorization", "Bearer " + bearerToken } };
        }
        Ingest = new Ingest.IngestClient(Channel);
        Resolver = new Resolver.ResolverClient(Channel);
        Leaderboard = new Leaderboard.LeaderboardClient(Channel);
        SpawnTimer = new SpawnTimer.SpawnTimerClient(Channel);
    }

    public Uri Address { get; }
    public GrpcChannel Channel { get; }
    public Ingest.IngestClient Ingest { get; }
    public Resolver.ResolverClient Resolver { get; }
    public Leaderboard.LeaderboardClient Leaderboard { get; }
    public SpawnTimer.SpawnTimerClient SpawnTimer { get; }

    /// <summary>Options for one call: the deadline is mandatory.</summary>
    public CallOptions Call(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new(headers: _headers, deadline: _time.GetUtcNow().UtcDateTime + timeout, cancellationToken: cancellationToken);

    /// <summary>The top of a board, or the status that prevented reading it.</summary>
    public async Task<(BoardPage? Page, string? Error)> TryTopAsync(string board, uint limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var page = await Leaderboard.TopAsync(new TopRequest { Board = board, Limit = limit }, Call(timeout, cancellationToken));
            return (page, null);
        }
        catch (RpcException e)
        {
            return (null, e.StatusCode.ToString());
        }
    }

    public void Dispose() => Channel.Dispose();
}
