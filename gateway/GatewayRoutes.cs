using System.Net;
using Veltrix.ServiceDefaults;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Veltrix.Gateway;

/// <summary>
/// The public services the gateway exposes, one route per gRPC service of package <c>veltrix.v1</c>.
/// Anything else (notably <c>veltrix.v1.internal.*</c>) matches no route and is answered by the gateway itself.
/// </summary>
internal static class GatewayRoutes
{
    public const string GrpcWebCorsPolicy = "grpc-web";

    public const string IngestCluster = "ingest";
    public const string ResolverCluster = "resolver";
    public const string LeaderboardCluster = "leaderboard";
    public const string SpawnTimerCluster = "spawn-timer";

    public static IReadOnlyList<RouteConfig> Routes() =>
    [
        Route("veltrix.v1.Ingest", IngestCluster),
        Route("veltrix.v1.Resolver", ResolverCluster),
        Route("veltrix.v1.Admin", ResolverCluster),
        Route("veltrix.v1.Leaderboard", LeaderboardCluster),
        Route("veltrix.v1.SpawnTimer", SpawnTimerCluster),
    ];

    public static IReadOnlyList<ClusterConfig> Clusters(MeshOptions mesh, GatewayOptions gateway) =>
    [
        Cluster(IngestCluster, mesh, gateway),
        Cluster(ResolverCluster, mesh, gateway),
        Cluster(LeaderboardCluster, mesh, gateway),
        Cluster(SpawnTimerCluster, mesh, gateway),
    ];

    public static string AddressOf(string cluster, MeshOptions mesh) => cluster switch
    {
        IngestCluster => mesh.Ingest,
        // Instance 0 takes every public Resolver and Admin call and forwards those about another instance's
        // worlds to it: the gateway needs no partition map, and one address serves the whole contract.
        ResolverCluster => PartitionMap.InstanceAddresses(mesh)[0],
        LeaderboardCluster => mesh.Leaderboard,
        SpawnTimerCluster => mesh.SpawnTimer,
        _ => throw new ArgumentOutOfRangeException(nameof(cluster), cluster, "Unknown cluster."),
    };

    private static RouteConfig Route(string service, string cluster) => new()
    {
        RouteId = service,
        ClusterId = cluster,
        Match = new RouteMatch { Path = "/" + service + "/{**method}" },
    };

    private static ClusterConfig Cluster(string id, MeshOptions mesh, GatewayOptions gateway) => new()
    {
        ClusterId = id,
        Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal)
        {
            [id] = new DestinationConfig { Address = AddressOf(id, mesh) },
        },
        // The mesh speaks h2c only: no TLS means no ALPN, so HTTP/2 must be asked for exactly. gRPC-Web arriving
        // over HTTP/1.1 leaves over HTTP/2 as it is; every backend accepts it (UseGrpcWeb in MapDefaultEndpoints).
        HttpRequest = new ForwarderRequestConfig
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            ActivityTimeout = TimeSpan.FromSeconds(gateway.StreamIdleTimeoutSeconds),
            AllowResponseBuffering = false,
        },
        HttpClient = new HttpClientConfig { EnableMultipleHttp2Connections = true },
    };
}
