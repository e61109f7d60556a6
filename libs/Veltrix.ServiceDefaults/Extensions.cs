using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Veltrix.ServiceDefaults;

/// <summary>What every Veltrix host shares: listeners, gRPC defaults, health, metrics, logs.</summary>
public static class Extensions
{
    /// <summary>
    /// Kestrel on <see cref="VeltrixHostOptions.GrpcPort"/> (HTTP/2 only: cleartext Kestrel cannot offer
    /// HTTP/1.1 and h2c on one port) and on <see cref="VeltrixHostOptions.HttpPort"/> (HTTP/1.1, for
    /// scrapers and probes), gRPC with size limits and no detailed errors, health checks, JSON logs.
    /// </summary>
    /// <param name="builder">The host being built.</param>
    /// <param name="ports">This service's ports when configuration names none (the launcher's layout).</param>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, ServicePorts? ports = null)
    {
        if (ports is { } p)
        {
            // Lowest precedence: any configuration source, environment or argument overrides them.
            builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
            {
                InitialData =
                [
                    new(VeltrixHostOptions.Section + ":GrpcPort", p.Grpc.ToString(CultureInfo.InvariantCulture)),
                    new(VeltrixHostOptions.Section + ":HttpPort", p.Http.ToString(CultureInfo.InvariantCulture)),
                ],
            });
        }
        builder.Services.AddOptions<VeltrixHostOptions>()
            .BindConfiguration(VeltrixHostOptions.Section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<VeltrixHostOptions>, VeltrixHostOptionsValidator>();
        builder.Services.AddOptions<MeshOptions>().BindConfiguration(MeshOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MeshOptions>, MeshOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<MeshOptions>, PartitionMapValidator>();
        builder.Services.AddSingleton(static sp => new PartitionMap(sp.GetRequiredService<IOptions<MeshOptions>>().Value));
        builder.Services.AddSingleton<ResolverChannels>();
        var host = builder.Configuration.GetSection(VeltrixHostOptions.Section).Get<VeltrixHostOptions>()
            ?? new VeltrixHostOptions();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(host.BindAddress);
            kestrel.Listen(address, host.GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
            if (host.HttpPort != 0)
            {
                kestrel.Listen(address, host.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
            }
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(host.ShutdownSeconds));

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = host.MaxMessageBytes;
            grpc.MaxSendMessageSize = host.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
        });
        builder.Services.AddGrpcHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy());

        builder.Logging.ClearProviders();
        // Per-request framework logs would cost more than the requests; hosts log what matters themselves.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Logging.AddJsonConsole(json =>
        {
            json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            json.UseUtcTimestamp = true;
        });

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PrometheusExporter>();
        return builder;
    }

    /// <summary>gRPC health on the gRPC port; <c>/healthz</c> and <c>/metrics</c> (Prometheus text).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Browsers reach the mesh as gRPC-Web through the gateway, which forwards the frames as they are.
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.MapGrpcHealthChecksService();
        var exporter = app.Services.GetRequiredService<PrometheusExporter>();
        // Healthy only when every registered check is: a resolver still recovering answers 503.
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = static (context, report) => context.Response.WriteAsync(
                report.Status == HealthStatus.Healthy ? "ok\n" : report.Status + ": " + string.Join("; ", Describe(report)) + "\n"),
        });
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await exporter.WriteAsync(context.Response.BodyWriter, context.RequestAborted);
        });
        return app;
    }

    private static IEnumerable<string> Describe(HealthReport report)
    {
        foreach (var (name, entry) in report.Entries)
        {
            if (entry.Status != HealthStatus.Healthy)
            {
                yield return name + ": " + (entry.Description ?? entry.Status.ToString());
            }
        }
    }
}
