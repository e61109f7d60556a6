using Veltrix.Testing;

namespace Veltrix.Storage.Tests;

/// <summary>
/// The conformance suite against the Redis store. Tests share one redis-server per class; each test instance has
/// its own key prefix, so its partitions are its alone, and every store it creates sees the same keys (a restart).
/// </summary>
public sealed class RedisStoreConformanceTests(RedisServerFixture redis) : PartitionStoreConformance, IClassFixture<RedisServerFixture>
{
    private readonly string _prefix = $"conformance-{Guid.NewGuid():N}";

    protected override async Task<IPartitionStore> CreateStoreAsync() =>
        await RedisPartitionStore.ConnectAsync(redis.ConnectionString, new RedisPartitionStoreOptions { KeyPrefix = _prefix });
}
