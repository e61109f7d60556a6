using Microsoft.AspNetCore.Http;

namespace Veltrix.Testing;

/// <summary>How a <see cref="LoopbackGrpcServer"/> listens and what it accepts.</summary>
public sealed record LoopbackGrpcServerOptions
{
    /// <summary>The port on 127.0.0.1; 0 takes a free one.</summary>
    public int Port { get; init; }

    /// <summary>The largest message the services accept; null keeps gRPC's default.</summary>
    public int? MaxReceiveMessageSize { get; init; }

    /// <summary>Send exception messages to the client in the status detail.</summary>
    public bool EnableDetailedErrors { get; init; }

    /// <summary>Translate gRPC-Web requests for every service.</summary>
    public bool GrpcWeb { get; init; }

    /// <summary>Sees every request as it arrived, before gRPC-Web translation rewrites it.</summary>
    public Action<HttpRequest>? OnRequest { get; init; }
}
