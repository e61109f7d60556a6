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
/// </summary>
internal sealed class RedisPartitionLog : IPartitionLog
{
    private static readonly RedisValue DataField = "d";
    private static readonly RedisValue CrcField = "c";
    private static readonly RedisValue StreamEnd = "+";
    private static readonly RedisValue[] SnapshotFields = ["p", "s", "c"];

    private readonly RedisPartitionStore _store;
    private readonly RedisPartitionKeys _keys;

    // Used by appends and snapshots only; a read in progress has its own, so the two may interleave.
    private readonly Crc32 _writeCrc = new();
    private bool _disposed;

    public RedisPartitionLog(RedisPartitionStore store, RedisPartitionKeys keys, int partition, long epoch, long firstPosition, long nextPosition)
    {
        _store = store;
        _keys = keys;
        Partition = partition;
        Epoch = epoch;
        FirstPosition = firstPosition;
        NextPosition = nextPosition;
    }

    public int Partition { get; }

    public long Epoch { get; }

    public long NextPosition { get; private set; }

    public long FirstPosition { get; private set; }

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
            args[3 + (2 * i)] = Checksum(_writeCrc, first + i, data.Span);
            offset += source.Length;
        }

        var result = await _store.CallAsync(
            _store.Database.ScriptEvaluateAsync(RedisScripts.Append, _keys.LogAndEpoch, args),
            cancellationToken).ConfigureAwait(false);

        var status = (long)result[0];
        var value = (long)result[1];
        if (status == RedisScripts.Ok)
        {
            NextPosition = value;
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
        if (fromPosition < FirstPosition)
        {
            throw new ArgumentOutOfRangeException(
                nameof(fromPosition), fromPosition, $"partition {Partition}: entries before {FirstPosition} were trimmed.");
        }

        return ReadPagesAsync(fromPosition, cancellationToken);
    }

    public async ValueTask WriteSnapshotAsync(long position, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();

        // A snapshot before the trimmed head could not be rolled forward; one past the end describes entries that
        // do not exist.
        if (position < FirstPosition || position > NextPosition)
        {
            throw new ArgumentOutOfRangeException(
                nameof(position), position, $"partition {Partition}: a snapshot must lie between {FirstPosition} and {NextPosition}.");
        }

        var copy = state.ToArray();
        var crc = Checksum(_writeCrc, position, copy);
        var result = await _store.CallAsync(
            _store.Database.ScriptEvaluateAsync(RedisScripts.WriteSnapshot, _keys.EpochSnapshots, [Epoch, position, copy, crc]),
            cancellationToken).ConfigureAwait(false);

        if ((long)result[0] == RedisScripts.Fenced)
        {
            throw new FencedException(Partition, Epoch, (long)result[1]);
        }
    }

    public async ValueTask<Snapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (newest, newestPosition, why) = await ReadSnapshotAsync(_keys.Snapshot, cancellationToken).ConfigureAwait(false);
        if (newest is not null || why is null)
        {
            return newest;
        }

        // The newest is damaged. The previous one still rebuilds the state if the log was not trimmed past it.
        var (previous, _, _) = await ReadSnapshotAsync(_keys.PreviousSnapshot, cancellationToken).ConfigureAwait(false);
        if (previous is not null && previous.Position >= FirstPosition)
        {
            return previous;
        }

        throw new LogCorruptedException(Partition, newestPosition, RedisPartitionKeys.Describe(_keys.Snapshot), why);
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

        var result = await _store.CallAsync(
            _store.Database.ScriptEvaluateAsync(RedisScripts.Trim, _keys.EpochSnapshotLog, [Epoch, beforePosition]),
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

        FirstPosition = beforePosition;
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

    private async IAsyncEnumerable<LogEntry> ReadPagesAsync(long fromPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var crc = new Crc32();
        var pageSize = _store.Options.ReadPageSize;
        var expected = fromPosition;
        while (true)
        {
            // Ids are {position}-1, so starting the next page at the next expected id needs no exclusive range.
            var page = await _store.CallAsync(
                _store.Database.StreamRangeAsync(_keys.Log, StreamId(expected), StreamEnd, pageSize, Order.Ascending),
                cancellationToken).ConfigureAwait(false);

            foreach (var entry in page)
            {
                yield return Verify(entry, expected, crc);
                expected++;
            }

            if (page.Length < pageSize)
            {
                yield break;
            }
        }
    }

    private LogEntry Verify(StreamEntry entry, long expected, Crc32 crc)
    {
        var id = entry.Id.ToString();
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || !long.TryParse(id.AsSpan(0, dash), out var position) || id.AsSpan(dash + 1) is not "1")
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

    private async Task<(Snapshot? Snapshot, long Position, string? Why)> ReadSnapshotAsync(RedisKey key, CancellationToken cancellationToken)
    {
        var fields = await _store.CallAsync(_store.Database.HashGetAsync(key, SnapshotFields), cancellationToken).ConfigureAwait(false);
        if (fields[0].IsNull && fields[1].IsNull && fields[2].IsNull)
        {
            return (null, 0, null);
        }

        if (!fields[0].TryParse(out long position) || fields[1].IsNull || !fields[2].TryParse(out long storedCrc))
        {
            return (null, 0, "the snapshot lacks its position, state or CRC field");
        }

        ReadOnlyMemory<byte> state = fields[1];
        var actual = Checksum(new Crc32(), position, state.Span);
        return actual == storedCrc
            ? (new Snapshot(position, state), position, null)
            : (null, position, $"snapshot CRC mismatch (stored {storedCrc}, computed {actual})");
    }

    private static RedisValue StreamId(long position) => $"{position}-1";
}
