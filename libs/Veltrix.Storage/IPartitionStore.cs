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
/// One partition's append-only log of opaque entries, numbered from 1 without gaps, plus a history of snapshots
/// of the state the entries build.
/// <para>
/// Concurrency: <see cref="AppendAsync"/> and <see cref="TrimAsync"/> are called by one caller at a time (the
/// partition loop). <see cref="ReadAsync"/>, <see cref="WriteSnapshotAsync"/>, <see cref="ListSnapshotsAsync"/>,
/// <see cref="ReadSnapshotAsync"/> and <see cref="ReadLatestSnapshotAsync"/> may run at the same time as those
/// and as each other (a background task taking snapshots or reading history), and so may the
/// <see cref="NextPosition"/> and <see cref="FirstPosition"/> getters. Each call then behaves as if it ran at
/// one instant between the others.
/// </para>
/// <para>
/// Snapshots: the log holds up to its store's <c>SnapshotsKept</c> snapshots (at least 2), each at a position
/// from <see cref="FirstPosition"/> to <see cref="NextPosition"/>. When a write makes one too many, the store
/// drops one interior snapshot (never the oldest, never the newest): the one whose removal leaves the smallest
/// gap between its neighbours' positions, the older one on a tie. The snapshots held thus stay spread over the
/// whole retained log, so replaying from the newest snapshot before any position costs about the log's length
/// divided by the number kept.
/// </para>
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

    /// <summary>
    /// Entries from <paramref name="fromPosition"/> (inclusive) up to the <see cref="NextPosition"/> of the moment
    /// this method is called, in order, without gaps. Entries appended after that moment are not part of the
    /// read, so a read that runs beside appends sees a consistent prefix of the log.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="fromPosition"/> is outside <see cref="FirstPosition"/>..<see cref="NextPosition"/> (thrown by
    /// this call, not by the enumeration).
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// A concurrent <see cref="TrimAsync"/> dropped entries this read had not reached yet; the read stops there
    /// rather than skip them.
    /// </exception>
    /// <exception cref="LogCorruptedException">A record fails its CRC, is cut short, or is missing.</exception>
    IAsyncEnumerable<LogEntry> ReadAsync(long fromPosition, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="ReadAsync"/> for a caller that is done with each entry before it asks for the next (a replay):
    /// an entry's <see cref="LogEntry.Data"/> is valid only until the enumeration moves on, so a store may read
    /// every entry into the same buffer. Same entries, same order, same errors.
    /// </summary>
    IAsyncEnumerable<LogEntry> ReadTransientAsync(long fromPosition, CancellationToken cancellationToken) =>
        ReadAsync(fromPosition, cancellationToken);

    /// <summary>
    /// Stores the state that results from applying every entry before <paramref name="position"/>, replacing a
    /// snapshot already held at that position, then applies the retention rule (see the type's remarks), which
    /// may drop an older interior snapshot. A snapshot is complete or absent, never partial.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="position"/> is outside <see cref="FirstPosition"/>..<see cref="NextPosition"/>, also when a
    /// concurrent <see cref="TrimAsync"/> moved <see cref="FirstPosition"/> past it while it was written (nothing
    /// is then kept).
    /// </exception>
    /// <exception cref="FencedException">Another owner with a higher epoch took the partition; nothing is written.</exception>
    ValueTask WriteSnapshotAsync(long position, ReadOnlyMemory<byte> state, CancellationToken cancellationToken);

    /// <summary>The positions of the snapshots held, oldest first; empty when there are none.</summary>
    ValueTask<IReadOnlyList<long>> ListSnapshotsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The snapshot taken at exactly <paramref name="position"/>, or null when none is held there (never taken,
    /// dropped by retention or by a trim, or dropped while this call ran).
    /// </summary>
    /// <exception cref="LogCorruptedException">
    /// The snapshot is held but damaged (fails its CRC, is cut short, or names another position); the exception's
    /// <see cref="LogCorruptedException.Where"/> says where it is stored.
    /// </exception>
    ValueTask<Snapshot?> ReadSnapshotAsync(long position, CancellationToken cancellationToken);

    /// <summary>
    /// The newest intact snapshot, or null when none is held. A damaged newest one is passed over for the next
    /// older intact one: every held snapshot lies at or after <see cref="FirstPosition"/>, so any of them
    /// rebuilds the state with the log.
    /// </summary>
    /// <exception cref="LogCorruptedException">Snapshots are held but every one of them is damaged; names the newest.</exception>
    ValueTask<Snapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Drops entries before <paramref name="beforePosition"/>, and with them every snapshot at a position before
    /// the new <see cref="FirstPosition"/>, which no longer has the log to be rolled forward. Refuses
    /// (ArgumentException) to trim past the newest snapshot, so the log plus the snapshot always rebuild the state.
    /// A store may keep more than asked (embedded: whole segment files), so afterwards <see cref="FirstPosition"/>
    /// is at most <paramref name="beforePosition"/>; every snapshot at or after <see cref="FirstPosition"/> stays.
    /// </summary>
    /// <exception cref="FencedException">Another owner with a higher epoch took the partition; nothing is dropped.</exception>
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

/// <summary>
/// The log cannot be trusted from <see cref="Position"/> on (or, for a snapshot, the snapshot taken at
/// <see cref="Position"/> is damaged); the partition must not be served from it.
/// </summary>
public sealed class LogCorruptedException(int partition, long position, string where, string why)
    : Exception($"partition {partition}: position {position} at {where} is corrupt: {why}")
{
    public int Partition { get; } = partition;
    public long Position { get; } = position;
    public string Where { get; } = where;
}
