namespace Veltrix.Storage;

/// <summary>Where and how <see cref="EmbeddedPartitionStore"/> keeps partitions on local disk.</summary>
public sealed record EmbeddedStoreOptions
{
    /// <summary>The data folder; each partition gets a sub-folder in it.</summary>
    public string DataFolder { get; set; } = "data";

    /// <summary>
    /// A segment file is closed and a new one started once it reaches this size; trimming deletes whole
    /// segments, so this is also the granularity of trimming.
    /// </summary>
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Snapshots each partition holds at most, spread over its retained log (see <see cref="IPartitionLog"/>);
    /// at least 2.
    /// </summary>
    public int SnapshotsKept { get; set; } = SnapshotHistory.DefaultKept;
}
