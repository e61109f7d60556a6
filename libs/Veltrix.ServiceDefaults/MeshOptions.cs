using System.ComponentModel.DataAnnotations;
using System.Net;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace Veltrix.ServiceDefaults;

/// <summary>Where the other services of the mesh are. Bound from the <c>Veltrix:Mesh</c> section.</summary>
public sealed record MeshOptions
{
    public const string Section = "Veltrix:Mesh";

    public string Ingest { get; set; } = "http://127.0.0.1:7710";
    public string Resolver { get; set; } = "http://127.0.0.1:7720";

    /// <summary>
    /// Every resolver instance, the index being the instance's ordinal; partition <c>p</c> belongs to
    /// instance <c>p % Resolvers.Count</c> (<see cref="PartitionMap"/>). Empty: one instance, at <see cref="Resolver"/>.
    /// </summary>
    public List<string> Resolvers { get; set; } = [];

    public string Leaderboard { get; set; } = "http://127.0.0.1:7730";
    public string SpawnTimer { get; set; } = "http://127.0.0.1:7740";

    /// <summary>Partitions the worlds are spread over; every service that routes must agree on it.</summary>
    [Range(1, 4096)]
    public int Partitions { get; set; } = 8;

    /// <summary>Deadline of one call between services.</summary>
    [Range(1, 120_000)]
    public int CallTimeoutMs { get; set; } = 5_000;
}

[OptionsValidator]
public sealed partial class MeshOptionsValidator : IValidateOptions<MeshOptions>;

/// <summary>gRPC channels between services: cleartext HTTP/2, several connections, keep-alive pings.</summary>
public static class MeshChannel
{
    public static GrpcChannel Create(string address, int maxMessageBytes = 4 * 1024 * 1024) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                ConnectTimeout = TimeSpan.FromSeconds(5),
                AutomaticDecompression = DecompressionMethods.None,
            },
            MaxReceiveMessageSize = maxMessageBytes,
            MaxSendMessageSize = maxMessageBytes,
        });
}
