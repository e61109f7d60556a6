using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Veltrix.ServiceDefaults;

namespace Veltrix.Gateway;

/// <summary>The gateway: YARP routes to the mesh, gRPC-Web for browsers, the spectator page.</summary>
internal static class GatewayExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();

        // The proxy configuration is built once, here, like the listeners in AddServiceDefaults.
        var configuration = builder.Configuration;
        var host = configuration.GetSection(VeltrixHostOptions.Section).Get<VeltrixHostOptions>() ?? new VeltrixHostOptions();
        var mesh = configuration.GetSection(MeshOptions.Section).Get<MeshOptions>() ?? new MeshOptions();
        var gateway = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        var pingDelay = TimeSpan.FromSeconds(gateway.KeepAlivePingDelaySeconds);
        var pingTimeout = TimeSpan.FromSeconds(gateway.KeepAlivePingTimeoutSeconds);

        // Per-call logging belongs at Debug; YARP's forwarder still reports its failures (Warning). Configuration
        // that names the category explicitly decides instead.
        if (configuration["Logging:LogLevel:" + Log.ForwarderCategory] is null)
        {
            builder.Logging.AddFilter(Log.ForwarderCategory, LogLevel.Warning);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Bounded by default; ProxyGuard lifts the limit only for native gRPC streams.
            kestrel.Limits.MaxRequestBodySize = ProxyGuard.DefaultBodyLimit(host);
            // Finds clients that vanished without closing their stream.
            kestrel.Limits.Http2.KeepAlivePingDelay = pingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = pingTimeout;
        });

        // Unknown services fall through to the gateway's own answer (MapGateway) instead of gRPC's built-in one,
        // so that they are counted and a browser on another origin can read the status.
        builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.IgnoreUnknownServices = true);

        builder.Services.AddCors(cors => cors.AddPolicy(GatewayRoutes.GrpcWebCorsPolicy, policy => policy
            .AllowAnyOrigin()
            .WithMethods(HttpMethods.Post)
            .AllowAnyHeader()
            .WithExposedHeaders(HeaderNames.GrpcStatus, HeaderNames.GrpcMessage, "grpc-status-details-bin")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));

        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<ProxyGuard>();
        builder.Services.AddSingleton<SpectatorPage>();

        builder.Services.AddReverseProxy()
            .LoadFromMemory(GatewayRoutes.Routes(), GatewayRoutes.Clusters(mesh, gateway))
            .ConfigureHttpClient((_, handler) =>
            {
                // Long streams are kept honest by pings, not by the (long) activity timeout: a backend that
                // stops answering pings loses its connection and its calls end UNAVAILABLE.
                handler.KeepAlivePingDelay = pingDelay;
                handler.KeepAlivePingTimeout = pingTimeout;
                handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
                handler.ConnectTimeout = TimeSpan.FromSeconds(5);
            });
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        var host = app.Services.GetRequiredService<IOptions<VeltrixHostOptions>>().Value;
        var mesh = app.Services.GetRequiredService<IOptions<MeshOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Veltrix.Gateway");
        foreach (var route in GatewayRoutes.Routes())
        {
            Log.Routing(logger, route.RouteId, GatewayRoutes.AddressOf(route.ClusterId!, mesh));
        }

        // Browsers arrive on the web port only, so that is the only place cross-origin gRPC-Web is allowed, and
        // only for gRPC paths. (CORS endpoint metadata would demand the middleware on the gRPC port too.)
        var webPort = host.HttpPort;
        app.UseWhen(
            context => context.Connection.LocalPort == webPort && GrpcWebCors.AppliesTo(context),
            web => web.UseCors(GatewayRoutes.GrpcWebCorsPolicy));

        // Authentication (JWT bearer) and per-player rate limiting slot in here, ahead of the proxy.

        var guard = app.Services.GetRequiredService<ProxyGuard>();
        app.MapReverseProxy(proxy =>
            {
                proxy.Use((HttpContext context, RequestDelegate next) => guard.ForwardAsync(context, next));
                proxy.UseSessionAffinity();
                proxy.UseLoadBalancing();
                proxy.UsePassiveHealthChecks();
            })
            // MapDefaultEndpoints turns gRPC-Web translation on for every endpoint; here the frames must leave
            // as they came, for the backends to translate.
            .DisableGrpcWeb()
            .WithMetadata(GrpcWebCors.Marker);

        app.MapFallback(guard.UnroutedAsync)
            .DisableGrpcWeb()
            .WithMetadata(GrpcWebCors.Marker);

        app.MapGet("/", app.Services.GetRequiredService<SpectatorPage>().WriteAsync);
        return app;
    }
}

/// <summary>Marks the endpoints a browser may call cross-origin over gRPC-Web.</summary>
internal sealed class GrpcWebCors
{
    public static readonly GrpcWebCors Marker = new();

    private GrpcWebCors()
    {
    }

    public static bool AppliesTo(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<GrpcWebCors>() is not null;
}
