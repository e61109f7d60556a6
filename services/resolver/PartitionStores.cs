using Veltrix.Storage;

namespace Veltrix.Resolver;

internal static class PartitionStores
{
    public static IPartitionStore Create(StorageOptions options) => options.Kind switch
    {
        "redis" => new RedisPartitionStore(options.Redis, new RedisPartitionStoreOptions { SnapshotsKept = options.SnapshotsKept }),
        _ => new EmbeddedPartitionStore(new EmbeddedStoreOptions
        {
            DataFolder = Path.GetFullPath(options.DataDir),
            SegmentBytes = options.SegmentBytes,
            SnapshotsKept = options.SnapshotsKept,
        }),
    };
}
