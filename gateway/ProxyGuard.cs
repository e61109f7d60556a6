using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.IO.Pipelines;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using Veltrix.ServiceDefaults;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Veltrix.Gateway;

/// <summary>
/// The gateway's own answers around the proxy: request body limits per kind of call, gRPC statuses for calls
/// that could not be forwarded, and UNIMPLEMENTED for paths no route serves.
/// </summary>
internal sealed class ProxyGuard
{
    private const string TooLargeMessage = "Request message is larger than the gateway accepts.";
    private const int DrainFrames = 4;

    private readonly int _maxMessageBytes;
    private readonly long _frameLimit;
    private readonly long _textFrameLimit;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<ProxyGuard> _logger;

    public ProxyGuard(IOptions<VeltrixHostOptions> host, GatewayMetrics metrics, ILogger<ProxyGuard> logger)
    {
        _maxMessageBytes = host.Value.MaxMessageBytes;
        _frameLimit = _maxMessageBytes + (long)GrpcWire.FrameHeaderBytes;
        // gRPC-Web-text sends the same frame base64-encoded.
        _textFrameLimit = (_frameLimit + 2) / 3 * 4;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Kestrel's limit for every request the guard does not lift: one frame of the largest message.</summary>
    public static long DefaultBodyLimit(VeltrixHostOptions host) => host.MaxMessageBytes + (long)GrpcWire.FrameHeaderBytes;

    /// <summary>Step of the YARP pipeline, run for every request a route matched.</summary>
    public async Task ForwardAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var framing = GrpcWire.Classify(request.ContentType);
        if (framing == GrpcFraming.Grpc && HttpProtocol.IsHttp2(request.Protocol))
        {
            LiftBodyLimits(context);
        }
        else if (!await BodyFitsAsync(context, framing))
        {
            await RefuseOversizedAsync(context, framing);
            return;
        }

        _metrics.Forwarded();
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var cluster = context.Features.Get<IReverseProxyFeature>()?.Route.Config.ClusterId ?? "";
            Log.Forwarding(_logger, request.Path.Value ?? "", request.ContentType, request.Protocol, cluster);
        }

        await next(context);

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not null)
        {
            await AnswerForwardErrorAsync(context, framing, error.Error);
        }
    }

    /// <summary>Endpoint for every path no route serves, <c>veltrix.v1.internal.*</c> included.</summary>
    public Task UnroutedAsync(HttpContext context)
    {
        _metrics.Unrouted();
        var request = context.Request;
        Log.Unrouted(_logger, request.Path.Value ?? "", request.ContentType);
        var framing = GrpcWire.Classify(request.ContentType);
        if (framing == GrpcFraming.None)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        return GrpcWire.WriteStatusAsync(context, framing, StatusCode.Unimplemented, "Service is not served by this gateway.");
    }

    // A native gRPC call may be a stream that lives for hours and idles between messages: neither the total body
    // size nor a minimum data rate means anything there. Each message is still bounded by the backend, which
    // answers RESOURCE_EXHAUSTED.
    private static void LiftBodyLimits(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }
    }

    // Everything but native gRPC carries one message (gRPC-Web has no client streaming): one frame of the
    // largest message bounds the body, judged from Content-Length or else from the frame header.
    private async ValueTask<bool> BodyFitsAsync(HttpContext context, GrpcFraming framing)
    {
        var limit = framing == GrpcFraming.GrpcWebText ? _textFrameLimit : _frameLimit;
        var length = context.Request.ContentLength;
        // A refused upload is still read (and dropped) up to a few frames: an HTTP/1.1 client sends its whole body
        // before it reads the answer, and would otherwise see a reset connection instead of RESOURCE_EXHAUSTED.
        // Kestrel gives that drain at most a few seconds.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = length <= limit ? limit : DrainFrames * limit;
        }
        if (length > limit)
        {
            Log.BodyTooLarge(_logger, context.Request.Path.Value ?? "", length, limit);
            return false;
        }
        if (length is not null || framing is not (GrpcFraming.GrpcWeb or GrpcFraming.GrpcWebText))
        {
            return true;
        }

        var announced = await PeekMessageLengthAsync(context.Request.BodyReader, framing, context.RequestAborted);
        if (announced > _maxMessageBytes)
        {
            Log.BodyTooLarge(_logger, context.Request.Path.Value ?? "", announced, _maxMessageBytes);
            return false;
        }
        return true;
    }

    /// <summary>
    /// The message length in the first frame header, leaving the body unread for the proxy; null when the
    /// body is too short or not valid base64 to tell (the backend then judges the malformed call).
    /// </summary>
    private static async ValueTask<long?> PeekMessageLengthAsync(PipeReader body, GrpcFraming framing, CancellationToken cancellationToken)
    {
        // Base64 turns the 5-byte header into the first 8 characters (6 bytes, or 5 with padding).
        var needed = framing == GrpcFraming.GrpcWebText ? 8 : GrpcWire.FrameHeaderBytes;
        ReadResult read;
        try
        {
            read = await body.ReadAtLeastAsync(needed, cancellationToken);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException)
        {
            // A broken upload: YARP meets the same failure and reports it as the client's.
            return null;
        }
        var buffer = read.Buffer;
        try
        {
            return buffer.Length < needed ? null : MessageLength(buffer.Slice(0, needed), framing);
        }
        finally
        {
            body.AdvanceTo(buffer.Start);
        }
    }

    private static long? MessageLength(ReadOnlySequence<byte> head, GrpcFraming framing)
    {
        Span<byte> header = stackalloc byte[8];
        head.CopyTo(header);
        if (framing == GrpcFraming.GrpcWebText)
        {
            if (Base64.DecodeFromUtf8InPlace(header, out var decoded) != OperationStatus.Done
                || decoded < GrpcWire.FrameHeaderBytes)
            {
                return null;
            }
        }
        return BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }

    private Task RefuseOversizedAsync(HttpContext context, GrpcFraming framing)
    {
        _metrics.Oversized();
        if (framing == GrpcFraming.None)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Task.CompletedTask;
        }
        return GrpcWire.WriteStatusAsync(context, framing, StatusCode.ResourceExhausted, TooLargeMessage);
    }

    private Task AnswerForwardErrorAsync(HttpContext context, GrpcFraming framing, ForwarderError error)
    {
        _metrics.Failed();
        // Once the backend's answer has started flowing, YARP resets the stream and the client sees that instead.
        if (framing == GrpcFraming.None || context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var (status, message) = error switch
        {
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                => (StatusCode.Cancelled, "Call cancelled by the client."),
            ForwarderError.RequestCreation => (StatusCode.Internal, "The gateway could not forward the call."),
            _ => (StatusCode.Unavailable, "Backend unavailable."),
        };
        // A chunked body that outgrew Kestrel's limit behind a header that fitted shows up here as its 413.
        if (error == ForwarderError.RequestBodyClient && context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            _metrics.Oversized();
            (status, message) = (StatusCode.ResourceExhausted, TooLargeMessage);
        }
        Log.ForwardFailed(_logger, context.Request.Path.Value ?? "", error, status);
        return GrpcWire.WriteStatusAsync(context, framing, status, message);
    }
}
