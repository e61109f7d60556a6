using StackExchange.Redis;
using Veltrix.Testing;

namespace Veltrix.Storage.Tests;

/// <summary>
/// The conformance suite against the Redis store. Tests share one redis-server per class; each test instance has
/// its own key prefix, so its partitions are its alone, and every store it creates sees the same keys (a restart).
/// </summary>
public sealed class RedisStoreConformanceTests(RedisServerFixture redis) : PartitionStoreConformance, IClassFixture<RedisServerFixture>
{
    private readonly string _prefix = $"conformance-{Guid.NewGuid():N}";

    protected override async Task<IPartitionStore> CreateStoreAsync(int snapshotsKept) =>
        await RedisPartitionStore.ConnectAsync(
            redis.ConnectionString, new RedisPartitionStoreOptions { KeyPrefix = _prefix, SnapshotsKept = snapshotsKept });

    /// <summary>Overwrites the snapshot's CRC field, as a bad restore would.</summary>
    protected override async Task<string> DamageSnapshotAsync(int partition, long position)
    {
        var key = $"{{{_prefix}:p:{partition}}}:snap:{position}";
        await using var raw = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = raw.GetDatabase();
        Assert.True(await database.KeyExistsAsync(key), $"{key} does not exist");
        var stored = (long)await database.HashGetAsync(key, "c");
        await database.HashSetAsync(key, "c", stored ^ 0x5A5A);
        return key;
    }
}
