using Grpc.Core;
using Yarp.ReverseProxy.Forwarder;

namespace Veltrix.Gateway;

internal static partial class Log
{
    /// <summary>YARP's forwarder, which logs two Information lines for every call it forwards.</summary>
    public const string ForwarderCategory = "Yarp.ReverseProxy.Forwarder.HttpForwarder";

    [LoggerMessage(1, LogLevel.Information, "Routing {Service} to {Address}")]
    public static partial void Routing(ILogger logger, string service, string address);

    [LoggerMessage(2, LogLevel.Debug, "Forwarding {Path} ({ContentType}, {Protocol}) to {Cluster}")]
    public static partial void Forwarding(ILogger logger, string path, string? contentType, string protocol, string cluster);

    [LoggerMessage(3, LogLevel.Debug, "No route for {Path} ({ContentType})")]
    public static partial void Unrouted(ILogger logger, string path, string? contentType);

    [LoggerMessage(4, LogLevel.Debug, "Refused {Path}: request body of {Length} bytes is over the limit of {Limit}")]
    public static partial void BodyTooLarge(ILogger logger, string path, long? length, long limit);

    [LoggerMessage(5, LogLevel.Debug, "Forwarding {Path} failed ({Error}); answered {StatusCode}")]
    public static partial void ForwardFailed(ILogger logger, string path, ForwarderError error, StatusCode statusCode);
}
