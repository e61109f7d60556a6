using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Veltrix.Gateway;

/// <summary>How the gateway holds proxied calls open. Bound from the <c>Veltrix:Gateway</c> section.</summary>
internal sealed record GatewayOptions
{
    public const string Section = "Veltrix:Gateway";

    /// <summary>
    /// A proxied call that moves no byte in either direction for this long is cut. Publish and Watch streams
    /// live for hours and a Publish stream may sit quiet between matches, so this is a last resort: dead peers
    /// are found by the HTTP/2 keep-alive pings below, not by this timer.
    /// </summary>
    [Range(1, 7 * 24 * 3600)]
    public int StreamIdleTimeoutSeconds { get; set; } = 24 * 3600;

    /// <summary>Quiet time on a connection (client or backend side) after which the gateway sends an HTTP/2 ping.</summary>
    [Range(1, 3600)]
    public int KeepAlivePingDelaySeconds { get; set; } = 20;

    /// <summary>How long a ping may go unanswered before the connection and its calls are dropped.</summary>
    [Range(1, 3600)]
    public int KeepAlivePingTimeoutSeconds { get; set; } = 10;
}

[OptionsValidator]
internal sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>;
