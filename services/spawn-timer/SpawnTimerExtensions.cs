using Microsoft.Extensions.Options;
using Veltrix.ServiceDefaults;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer;

internal static class SpawnTimerExtensions
{
    /// <summary>The scheduler, its link to the resolver, automatic spawning, metrics and the gRPC service.</summary>
    public static WebApplicationBuilder AddSpawnTimer(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SpawnTimerOptions>().BindConfiguration(SpawnTimerOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SpawnTimerOptions>, SpawnTimerOptionsValidator>();

        services.AddSingleton<ISpawnSink, ResolverSpawnSink>();
        services.AddSingleton(static provider =>
        {
            var options = provider.GetRequiredService<IOptions<SpawnTimerOptions>>().Value;
            var mesh = provider.GetRequiredService<IOptions<MeshOptions>>().Value;
            var settings = new SpawnSchedulerSettings
            {
                Partitions = mesh.Partitions,
                MaxPending = options.MaxPending,
                MaxBatchSpawns = options.MaxBatchSpawns,
                RetryMin = TimeSpan.FromMilliseconds(options.RetryMinMs),
                RetryMax = TimeSpan.FromMilliseconds(options.RetryMaxMs),
            };
            return new SpawnScheduler(
                provider.GetRequiredService<ISpawnSink>(),
                provider.GetRequiredService<TimeProvider>(),
                settings,
                new TreasureIds(),
                provider.GetRequiredService<ILogger<SpawnScheduler>>());
        });
        services.AddHostedService<AutoSpawner>();
        services.AddSingleton<SpawnTimerMetrics>();
        return builder;
    }

    public static WebApplication MapSpawnTimer(this WebApplication app)
    {
        app.MapGrpcService<SpawnTimerService>();
        // Instruments exist from start, so /metrics shows zeros rather than nothing.
        _ = app.Services.GetRequiredService<SpawnTimerMetrics>();
        return app;
    }
}
