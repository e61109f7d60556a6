using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Veltrix.ServiceDefaults;

/// <summary>Where a Veltrix host listens. Bound from the <c>Veltrix:Host</c> section.</summary>
/// <remarks>Settable properties: the configuration binding source generator skips init-only ones.</remarks>
public sealed record VeltrixHostOptions
{
    public const string Section = "Veltrix:Host";

    /// <summary>Address every listener binds; loopback unless a deployment says otherwise.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Cleartext HTTP/2 (h2c) port for gRPC.</summary>
    [Range(0, 65535)]
    public int GrpcPort { get; set; } = 7720;

    /// <summary>HTTP/1.1 port for <c>/metrics</c> and <c>/healthz</c>; 0 turns it off.</summary>
    [Range(0, 65535)]
    public int HttpPort { get; set; }

    /// <summary>Largest gRPC message a host accepts, in bytes.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long in-flight calls may finish after SIGTERM.</summary>
    [Range(0, 300)]
    public int ShutdownSeconds { get; set; } = 10;
}

[OptionsValidator]
public sealed partial class VeltrixHostOptionsValidator : IValidateOptions<VeltrixHostOptions>;
