namespace Veltrix.Storage;

/// <summary>Settings of a <see cref="RedisPartitionStore"/>.</summary>
public sealed record RedisPartitionStoreOptions
{
    /// <summary>First part of every key; partition N lives under the hash tag <c>{KeyPrefix:p:N}</c>.</summary>
    public string KeyPrefix { get; set; } = "veltrix";

    /// <summary>
    /// The longest any one Redis call may take before it fails with a <see cref="TimeoutException"/>; also the
    /// connect, sync and async timeouts of a multiplexer the store creates itself.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Entries fetched per XRANGE while reading, so a long log is never loaded at once.</summary>
    public int ReadPageSize { get; set; } = 512;

    /// <summary>
    /// Snapshots each partition holds at most, spread over its retained log (see <see cref="IPartitionLog"/>);
    /// at least 2.
    /// </summary>
    public int SnapshotsKept { get; set; } = SnapshotHistory.DefaultKept;
}
