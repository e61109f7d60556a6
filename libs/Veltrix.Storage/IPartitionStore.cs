namespace Veltrix.Storage;

/// <summary>
/// Where partitions keep their durable log and snapshots. One store serves many partitions; a
/// partition is written through the <see cref="IPartitionLog"/> that <see cref="OpenAsync"/> returns,
/// by one owner at a time.
/// </summary>
public interface IPartitionStore : IAsyncDisposable
{
    /// <summary>
    /// Takes ownership of <paramref name="partition"/> with <paramref name="epoch"/> and opens its log.
    /// An owner with a higher epoch fences out every lower one: their appends fail with
    /// <see cref="FencedException"/> from then on. Opening checks the log: a torn tail (the last record
    /// cut short or failing its CRC, with nothing valid after it) was never acknowledged and is dropped;
    /// damage anywhere else throws <see cref="LogCorruptedException"/>.
    /// </summary>
    /// <exception cref="FencedException">An owner with a higher epoch already holds the partition.</exception>
    ValueTask<IPartitionLog> OpenAsync(int partition, long epoch, CancellationToken cancellationToken);
}

/// <summary>
/// One partition's append-only log of opaque entries, numbered from 1 without gaps, plus snapshots.
/// Not thread-safe: the partition loop is its only caller.
/// </summary>
public interface IPartitionLog : IAsyncDisposable
{
    int Partition { get; }

    long Epoch { get; }

    /// <summary>The position the next appended entry gets; 1 for an empty log.</summary>
    long NextPosition { get; }

    /// <summary>The oldest position still readable (entries before it were trimmed); equals NextPosition when empty.</summary>
    long FirstPosition { get; }

    /// <summary>
    /// Appends <paramref name="entries"/> in order at <see cref="NextPosition"/>, all or none, and returns
    /// once they are durable (embedded: fsynced; Redis: acknowledged by an append-only Redis).
    /// </summary>
    /// <exception cref="FencedException">Another owner with a higher epoch took the partition.</exception>
    ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> entries, CancellationToken cancellationToken);

    /// <summary>Entries from <paramref name="fromPosition"/> (inclusive) to the end, in order.</summary>
    /// <exception cref="LogCorruptedException">A record fails its CRC or is cut short.</exception>
    IAsyncEnumerable<LogEntry> ReadAsync(long fromPosition, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the state that results from applying every entry before <paramref name="position"/>.
    /// A snapshot is complete or absent, never partial.
    /// </summary>
    ValueTask WriteSnapshotAsync(long position, ReadOnlyMemory<byte> state, CancellationToken cancellationToken);

    /// <summary>The newest complete snapshot, or null.</summary>
    ValueTask<Snapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Drops entries before <paramref name="beforePosition"/>. Refuses (ArgumentException) to trim past the
    /// newest snapshot, so the log plus the snapshot always rebuild the state.
    /// </summary>
    ValueTask TrimAsync(long beforePosition, CancellationToken cancellationToken);
}

public readonly record struct LogEntry(long Position, ReadOnlyMemory<byte> Data);

public sealed record Snapshot(long Position, ReadOnlyMemory<byte> State);

/// <summary>A newer owner holds the partition; this owner must stop writing.</summary>
public sealed class FencedException(int partition, long epoch, long ownerEpoch)
    : Exception($"partition {partition}: epoch {epoch} is fenced out by epoch {ownerEpoch}")
{
    public int Partition { get; } = partition;
    public long Epoch { get; } = epoch;
    public long OwnerEpoch { get; } = ownerEpoch;
}

/// <summary>The log cannot be trusted from <see cref="Position"/> on; the partition must not be served.</summary>
public sealed class LogCorruptedException(int partition, long position, string where, string why)
    : Exception($"partition {partition}: log entry {position} at {where} is corrupt: {why}")
{
    public int Partition { get; } = partition;
    public long Position { get; } = position;
    public string Where { get; } = where;
}
