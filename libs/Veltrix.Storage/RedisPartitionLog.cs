using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Veltrix.Storage;

/// <summary>
/// One partition's log in Redis, written under one owner's epoch. Every write is one script that checks the epoch
/// first. <see cref="NextPosition"/> moves only when Redis confirms an append; a call whose outcome is unknown
/// (timeout, lost connection, cancellation) leaves it where it was, and the append script's position check then
/// refuses the next append if the unknown one did land, so the log never gets a gap or a duplicate.
/// Snapshot writes and all reads may run beside appends and trims (see <see cref="IPartitionLog"/>): each Redis
/// call is atomic, the positions are published through volatile fields, and the CRC state of appends is not
/// shared with anything else.
/// </summary>
internal sealed class RedisPartitionLog : IPartitionLog
{
    private static readonly RedisValue DataField = "d";
    private static readonly RedisValue CrcField = "c";
    private static readonly RedisValue[] SnapshotFields = ["p", "s", "c"];

    private readonly RedisPartitionStore _store;
    private readonly RedisPartitionKeys _keys;

    // Used by appends only: snapshot writes and reads may run beside them and bring their own.
    private readonly Crc32 _appendCrc = new();
    private long _nextPosition;
    private long _firstPosition;

    // The highest position a trim of this log was asked to drop entries before, set before the trim is sent: a
    // read that finds entries gone below it lost a race with that trim rather than finding damage.
    private long _trimFloor;
    private bool _disposed;

    public RedisPartitionLog(RedisPartitionStore store, RedisPartitionKeys keys, int partition, long epoch, long firstPosition, long nextPosition)
    {
        _store = store;
        _keys = keys;
        Partition = partition;
        Epoch = epoch;
        _firstPosition = firstPosition;
        _nextPosition = nextPosition;
    }

    public int Partition { get; }

    public long Epoch { get; }

    public long NextPosition => Volatile.Read(ref _nextPosition);

    public long FirstPosition => Volatile.Read(ref _firstPosition);

    public async ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var count = entries.Count;
        if (count == 0)
        {
            return;
        }

        var first = NextPosition;
        if (first + count >= RedisPartitionStore.MaxExactNumber)
        {
            throw new InvalidOperationException($"partition {Partition}: positions past 2^53 cannot be stored exactly.");
        }

        long total = 0;
        for (var i = 0; i < count; i++)
        {
            total += entries[i].Length;
        }

        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"entries hold {total} bytes; one append takes at most {Array.MaxLength}.", nameof(entries));
        }

        // The command carries a copy, not the caller's memory: a call given up on (timeout, cancellation) can
        // still be written to the socket later, after the caller has reused its buffers, and would then store
        // bytes that do not match their CRC. One copy per append is small next to the fsync it waits for.
        var buffer = GC.AllocateUninitializedArray<byte>((int)total);
        var args = new RedisValue[2 + (2 * count)];
        args[0] = Epoch;
        args[1] = first;
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            var source = entries[i].Span;
            var data = buffer.AsMemory(offset, source.Length);
            source.CopyTo(data.Span);
            args[2 + (2 * i)] = (ReadOnlyMemory<byte>)data;
            args[3 + (2 * i)] = Checksum(_appendCrc, first + i, data.Span);
            offset += source.Length;
        }

        var result = await _store.CallAsync(
            _store.Database.ScriptEvaluateAsync(RedisScripts.Append, _keys.LogAndEpoch, args),
            cancellationToken).ConfigureAwait(false);

        var status = (long)result[0];
        var value = (long)result[1];
        if (status == RedisScripts.Ok)
        {
            Volatile.Write(ref _nextPosition, value);
            return;
        }

        if (status == RedisScripts.Fenced)
        {
            throw new FencedException(Partition, Epoch, value);
        }

        if (value < first)
        {
            throw new LogCorruptedException(
                Partition, value, RedisPartitionKeys.Describe(_keys.Log),
                $"acknowledged entries {value} to {first - 1} are gone: Redis lost writes (no appendonly, a crash under appendfsync everysec, or a failover to a replica that lagged)");
        }

        throw new InvalidOperationException(
            $"partition {Partition}: the log already ends at position {value - 1}, but this owner expected to append at {first}: " +
            $"an earlier append whose outcome was unknown did land, or another owner shares epoch {Epoch}. Reopen the partition and replay its log.");
    }

    public IAsyncEnumerable<LogEntry> ReadAsync(long fromPosition, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var end = NextPosition;
        if (fromPosition < FirstPosition)
        {
            throw new ArgumentOutOfRangeException(
                nameof(fromPosition), fromPosition, $"partition {Partition}: entries before {FirstPosition} were trimmed.");
        }

        if (fromPosition > end)
        {
            throw new ArgumentOutOfRangeException(
                nameof(fromPosition), fromPosition, $"partition {Partition}: the log ends before {end}.");
        }

        return ReadPagesAsync(fromPosition, end, cancellationToken);
    }

    public async ValueTask WriteSnapshotAsync(long position, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();

        // A snapshot before the trimmed head could not be rolled forward; one past the end describes entries that
        // do not exist. The script checks again against the stream itself, atomically with the write.
        if (position < FirstPosition || position > NextPosition)
        {
            throw new ArgumentOutOfRangeException(
                nameof(position), position, $"partition {Partition}: a snapshot must lie between {FirstPosition} and {NextPosition}.");
        }

        var copy = state.ToArray();
        var crc = Checksum(new Crc32(), position, copy);
        var result = await _store.CallAsync(
            _store.Database.ScriptEvaluateAsync(
                RedisScripts.WriteSnapshot,
                [_keys.Epoch, _keys.Snapshots, _keys.Log, _keys.Snapshot(position)],
                [Epoch, position, copy, crc, _store.Options.SnapshotsKept, _keys.SnapshotPrefix]),
            cancellationToken).ConfigureAwait(false);

        var status = (long)result[0];
        if (status == RedisScripts.Fenced)
        {
            throw new FencedException(Partition, Epoch, (long)result[1]);
        }

        if (status == RedisScripts.Refused)
        {
            var (first, next) = ((long)result[1], (long)result[2]);
            throw new ArgumentOutOfRangeException(
                nameof(position), position, $"partition {Partition}: a snapshot must lie between {first} and {next}, where the log is now.");
        }
    }

    public async ValueTask<IReadOnlyList<long>> ListSnapshotsAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var members = await _store.CallAsync(
            _store.Database.SortedSetRangeByRankAsync(_keys.Snapshots, 0, -1, Order.Ascending),
            cancellationToken).ConfigureAwait(false);

        var positions = new long[members.Length];
        for (var i = 0; i < members.Length; i++)
        {
            if (!members[i].TryParse(out positions[i]))
            {
                throw new LogCorruptedException(
                    Partition, 0, RedisPartitionKeys.Describe(_keys.Snapshots), $"member '{members[i]}' is not a snapshot position");
            }
        }

        return positions;
    }

    public async ValueTask<Snapshot?> ReadSnapshotAsync(long position, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var key = _keys.Snapshot(position);
        var fields = await _store.CallAsync(_store.Database.HashGetAsync(key, SnapshotFields), cancellationToken).ConfigureAwait(false);
        if (fields[0].IsNull && fields[1].IsNull && fields[2].IsNull)
        {
            return null;
        }

        if (!fields[0].TryParse(out long stored) || fields[1].IsNull || !fields[2].TryParse(out long storedCrc))
        {
            throw SnapshotCorrupt(position, key, "the snapshot lacks its position, state or CRC field");
        }

        if (stored != position)
        {
            throw SnapshotCorrupt(position, key, $"the hash holds the snapshot taken at position {stored}");
        }

        ReadOnlyMemory<byte> state = fields[1];
        var actual = Checksum(new Crc32(), position, state.Span);
        return actual == storedCrc
            ? new Snapshot(position, state)
            : throw SnapshotCorrupt(position, key, $"snapshot CRC mismatch (stored {storedCrc}, computed {actual})");
    }

    public ValueTask<Snapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return SnapshotHistory.ReadLatestAsync(this, cancellationToken);
    }

    public async ValueTask TrimAsync(long beforePosition, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (beforePosition <= FirstPosition)
        {
            return;
        }

        if (beforePosition > NextPosition)
        {
            throw new ArgumentException(
                $"partition {Partition}: cannot trim before {beforePosition}, past the end of the log ({NextPosition}).", nameof(beforePosition));
        }

        if (beforePosition > Volatile.Read(ref _trimFloor))
        {
            Volatile.Write(ref _trimFloor, beforePosition);
        }

        var result = await _store.CallAsync(
            _store.Database.ScriptEvaluateAsync(RedisScripts.Trim, _keys.EpochSnapshotsLog, [Epoch, beforePosition, _keys.SnapshotPrefix]),
            cancellationToken).ConfigureAwait(false);

        var status = (long)result[0];
        if (status == RedisScripts.Fenced)
        {
            throw new FencedException(Partition, Epoch, (long)result[1]);
        }

        if (status == RedisScripts.Refused)
        {
            var snapshot = (long)result[1];
            throw new ArgumentException(
                snapshot == 0
                    ? $"partition {Partition}: cannot trim before {beforePosition}: there is no snapshot to rebuild the state from."
                    : $"partition {Partition}: cannot trim before {beforePosition}, past the newest snapshot at {snapshot}.",
                nameof(beforePosition));
        }

        Volatile.Write(ref _firstPosition, beforePosition);
    }

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// CRC-32 of the position (little-endian) followed by the bytes, so an entry or snapshot that turns up under
    /// another position fails its check too.
    /// </summary>
    internal static uint Checksum(Crc32 crc, long position, ReadOnlySpan<byte> data)
    {
        Span<byte> prefix = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(prefix, position);
        crc.Reset();
        crc.Append(prefix);
        crc.Append(data);
        return crc.GetCurrentHashAsUInt32();
    }

    private async IAsyncEnumerable<LogEntry> ReadPagesAsync(long fromPosition, long end, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var crc = new Crc32();
        var pageSize = _store.Options.ReadPageSize;
        var last = StreamId(end - 1);
        var expected = fromPosition;
        while (expected < end)
        {
            // Ids are {position}-1, so starting the next page at the next expected id needs no exclusive range.
            var page = await _store.CallAsync(
                _store.Database.StreamRangeAsync(_keys.Log, StreamId(expected), last, (int)Math.Min(pageSize, end - expected), Order.Ascending),
                cancellationToken).ConfigureAwait(false);

            // A trim removes the head of the stream only, and each page is read atomically: entries missing at the
            // start of a page may be a concurrent trim's doing, missing ones inside it never are.
            if ((page.Length == 0 || !TryParsePosition(page[0].Id.ToString(), out var head) || head != expected)
                && expected < Volatile.Read(ref _trimFloor))
            {
                throw new InvalidOperationException(
                    $"partition {Partition}: entries from {expected} were trimmed while they were read.");
            }

            if (page.Length == 0)
            {
                throw Corrupt(expected, StreamId(expected).ToString(), $"entries {expected} to {end - 1} are missing from the stream");
            }

            foreach (var entry in page)
            {
                yield return Verify(entry, expected, crc);
                expected++;
            }
        }
    }

    private LogEntry Verify(StreamEntry entry, long expected, Crc32 crc)
    {
        var id = entry.Id.ToString();
        if (!TryParsePosition(id, out var position))
        {
            throw Corrupt(expected, id, $"stream id {id} is not a log position");
        }

        if (position != expected)
        {
            throw Corrupt(expected, id, $"entry {expected} is missing: the stream goes on at {position}");
        }

        var data = entry[DataField];
        var stored = entry[CrcField];
        if (data.IsNull || stored.IsNull || !stored.TryParse(out long storedCrc))
        {
            throw Corrupt(position, id, "the entry lacks its data or CRC field");
        }

        ReadOnlyMemory<byte> bytes = data;
        var actual = Checksum(crc, position, bytes.Span);
        if (actual != storedCrc)
        {
            throw Corrupt(position, id, $"CRC mismatch (stored {storedCrc}, computed {actual})");
        }

        return new LogEntry(position, bytes);
    }

    private LogCorruptedException Corrupt(long position, string id, string why) =>
        new(Partition, position, $"{RedisPartitionKeys.Describe(_keys.Log)} id {id}", why);

    private LogCorruptedException SnapshotCorrupt(long position, RedisKey key, string why) =>
        new(Partition, position, RedisPartitionKeys.Describe(key), why);

    /// <summary>The log position a stream id <c>{position}-1</c> stands for.</summary>
    private static bool TryParsePosition(string id, out long position)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        position = 0;
        return dash > 0 && long.TryParse(id.AsSpan(0, dash), out position) && id.AsSpan(dash + 1) is "1";
    }

    private static RedisValue StreamId(long position) => $"{position}-1";
}
