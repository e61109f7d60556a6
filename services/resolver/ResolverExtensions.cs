using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veltrix.Resolver.Flags;
using Veltrix.Resolver.Grpc;
using Veltrix.Resolver.Rollback;
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
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<PartitionWriterService>, PartitionWriterMethods>());
        builder.Services.AddSingleton<OwnerClients>();
        builder.Services.AddSingleton(static sp => RollbackAudit.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        builder.Services.AddHealthChecks().AddCheck<PartitionHealthCheck>("partitions");
        builder.Services.AddHostedService(static sp => sp.GetRequiredService<PartitionSet>());
        return builder;
    }

    public static WebApplication MapResolver(this WebApplication app)
    {
        app.MapGrpcService<PartitionWriterService>();
        app.MapGrpcService<ResolverService>();
        app.MapGrpcService<ScoreFeedService>();
        app.MapGrpcService<AdminService>();
        var partitions = app.Services.GetRequiredService<PartitionSet>();
        ReserveThreadsForAppends(partitions.Count);
        Log.Owning(app.Logger, partitions.Ordinal, partitions.Map.InstanceCount, partitions.Count, partitions.Total, Owned(partitions));
        return app;
    }

    /// <summary>
    /// A partition's turn ends with a synchronous write and fsync to its log (embedded store), which holds a
    /// thread-pool thread for the fsync's duration. With fewer workers than partitions, turns queue behind
    /// blocked threads until the pool's starvation detection adds workers, half a second apart: that was the
    /// mesh's latency tail (`./veltrix bench`, BENCHMARKS.md). One worker per owned partition, plus one per
    /// core for everything else, keeps every loop runnable.
    /// </summary>
    private static void ReserveThreadsForAppends(int ownedPartitions)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        var wanted = ownedPartitions + Environment.ProcessorCount;
        if (workers < wanted)
        {
            ThreadPool.SetMinThreads(wanted, io);
        }
    }

    private static string Owned(PartitionSet partitions)
    {
        var ids = new string[partitions.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = partitions[i].Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return string.Join(',', ids);
    }
}
