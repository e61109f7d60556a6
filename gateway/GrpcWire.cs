using System.Globalization;
using Grpc.Core;
using Microsoft.Net.Http.Headers;

namespace Veltrix.Gateway;

/// <summary>How a request is framed, told apart by content type: not gRPC, gRPC, gRPC-Web, gRPC-Web-text.</summary>
internal enum GrpcFraming
{
    None,
    Grpc,
    GrpcWeb,
    GrpcWebText,
}

/// <summary>What the gateway needs of the gRPC wire format to answer a call itself.</summary>
internal static class GrpcWire
{
    public const string GrpcContentType = "application/grpc";
    public const string GrpcWebContentType = "application/grpc-web";
    public const string GrpcWebTextContentType = "application/grpc-web-text";

    /// <summary>Length-prefixed message header: compressed flag and a 32-bit length.</summary>
    public const int FrameHeaderBytes = 5;

    public static GrpcFraming Classify(string? contentType)
    {
        if (contentType is null)
        {
            return GrpcFraming.None;
        }
        if (HasMediaType(contentType, GrpcWebTextContentType))
        {
            return GrpcFraming.GrpcWebText;
        }
        if (HasMediaType(contentType, GrpcWebContentType))
        {
            return GrpcFraming.GrpcWeb;
        }
        return HasMediaType(contentType, GrpcContentType) ? GrpcFraming.Grpc : GrpcFraming.None;
    }

    // "application/grpc" and its "+proto" / ";charset" variants, but not "application/grpc-web" for the plain type.
    private static bool HasMediaType(string contentType, string mediaType)
    {
        if (!contentType.StartsWith(mediaType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return contentType.Length == mediaType.Length || contentType[mediaType.Length] is '+' or ';';
    }

    /// <summary>
    /// Answers the call without a body ("trailers-only"): the status travels in the response headers, which
    /// gRPC, gRPC-Web and the spectator page's decoder all read. Nothing of the status message is user input.
    /// </summary>
    public static Task WriteStatusAsync(HttpContext context, GrpcFraming framing, StatusCode status, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = framing switch
        {
            GrpcFraming.GrpcWebText => GrpcWebTextContentType,
            GrpcFraming.GrpcWeb => GrpcWebContentType,
            _ => GrpcContentType,
        };
        var headers = response.Headers;
        headers[HeaderNames.GrpcStatus] = ((int)status).ToString(CultureInfo.InvariantCulture);
        headers[HeaderNames.GrpcMessage] = message;
        // Kestrel ends an HTTP/2 stream whose response has no body with the headers frame itself.
        return Task.CompletedTask;
    }
}
