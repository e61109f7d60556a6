using Microsoft.Extensions.Options;
using Veltrix.Resolver.Flags;
using Veltrix.Resolver.Grpc;
using Veltrix.Storage;

namespace Veltrix.Resolver;

public static class ResolverExtensions
{
    public static WebApplicationBuilder AddResolver(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ResolverOptions>().BindConfiguration(ResolverOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ResolverOptions>, ResolverOptionsValidator>();
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        builder.Services.AddSingleton<IPartitionStore>(static sp => PartitionStores.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        builder.Services.AddOptions<FlagOptions>().BindConfiguration(FlagOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<FlagOptions>, FlagOptionsValidator>();
        builder.Services.AddSingleton<FlagSource>();
        builder.Services.AddHostedService(static sp => sp.GetRequiredService<FlagSource>());
        builder.Services.AddSingleton<PartitionSet>();
        builder.Services.AddHealthChecks().AddCheck<PartitionHealthCheck>("partitions");
        builder.Services.AddHostedService(static sp => sp.GetRequiredService<PartitionSet>());
        return builder;
    }

    public static WebApplication MapResolver(this WebApplication app)
    {
        app.MapGrpcService<PartitionWriterService>();
        app.MapGrpcService<ResolverService>();
        app.MapGrpcService<ScoreFeedService>();
        Log.Owning(app.Logger, app.Services.GetRequiredService<PartitionSet>().Count);
        return app;
    }
}
