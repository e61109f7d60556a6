using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Veltrix.Storage;

/// <summary>
/// One partition's log in its folder: segment files <c>log-{first position:D20}.seg</c> of CRC-checked
/// records (<see cref="EmbeddedRecordHeader"/>), snapshots <c>snap-{position:D20}.bin</c>, the owner's epoch
/// in <c>epoch</c>, and <c>lock</c>, held exclusively while this log is open so that no other process writes
/// the partition.
/// <para>
/// Concurrency: appends and trims come from one caller (the partition loop) and hold <see cref="_sync"/> while
/// they write. What readers need is published for them without a lock: the segment list and the snapshot list
/// are immutable arrays replaced under the lock (a roll or a trim copies a short array; an append copies
/// nothing), <see cref="NextPosition"/> is a field written after the entries it covers, and each segment's
/// sparse index is published entry by entry (<see cref="EmbeddedSegment"/>). Snapshot writes take
/// <see cref="_snapshotSync"/> for the file work and <see cref="_sync"/> only to publish the new list, so a
/// snapshot of any size never holds up an append. Lock order: <see cref="_snapshotSync"/>, then <see cref="_sync"/>.
/// </para>
/// </summary>
internal sealed class EmbeddedPartitionLog : IPartitionLog
{
    // Appends are staged in one pooled buffer of at most this size and written with one call per buffer-full;
    // payloads larger than it go to the file straight from the caller's memory. A turn's batch (64 x 256 B,
    // tests/Veltrix.Storage.Tests/measure/embedded-append-throughput.cs) is one write; the fsync after it
    // costs far more than the copy.
    private const int StagingBytes = 1 << 20;
    private byte[] _staging = [];

    // Chunks the read path loads and hands out slices of; under the 85 KB large-object threshold, so a
    // replay does not feed the gen2 heap.
    private const int ReadChunkBytes = 64 * 1024;

    private readonly EmbeddedPartitionStore _store;
    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly int _snapshotsKept;
    private readonly Crc32 _crc = new();

    // Guards the handles against a takeover or dispose from another thread while an operation runs, and orders
    // the publication of the lists below. Appends hold it while they write; anything else holds it only to swap
    // a list, so an append waits at most for that.
    private readonly Lock _sync = new();

    // Serialises snapshot writers with each other and with a takeover or dispose: a fenced or closed log can
    // then not be in the middle of writing a snapshot file. Appends never take it.
    private readonly Lock _snapshotSync = new();
    private readonly SafeFileHandle _lock;

    // Published to lock-free readers (Volatile); replaced, never changed, once published.
    private EmbeddedSegment[] _segments;
    private long[] _snapshots;
    private long _nextPosition;

    private SafeFileHandle _active;
    private bool _closed;
    private long _fencedBy = -1;
    private Exception? _fault;

    private EmbeddedPartitionLog(
        EmbeddedPartitionStore store, int partition, long epoch, string directory, long segmentBytes, int snapshotsKept,
        SafeFileHandle lockFile, List<EmbeddedSegment> segments, long[] snapshots, SafeFileHandle active)
    {
        _store = store;
        Partition = partition;
        Epoch = epoch;
        _directory = directory;
        _segmentBytes = segmentBytes;
        _snapshotsKept = snapshotsKept;
        _lock = lockFile;
        _segments = [.. segments];
        _snapshots = snapshots;
        _nextPosition = segments[^1].NextPosition;
        _active = active;
    }

    public int Partition { get; }

    public long Epoch { get; }

    public long NextPosition => Volatile.Read(ref _nextPosition);

    public long FirstPosition => Volatile.Read(ref _segments)[0].FirstPosition;

    /// <summary>
    /// Recovers the log in <paramref name="directory"/> (see <see cref="EmbeddedRecovery"/>). Takes ownership
    /// of <paramref name="lockFile"/>, which the caller holds exclusively.
    /// </summary>
    internal static EmbeddedPartitionLog Open(
        EmbeddedPartitionStore store, int partition, long epoch, string directory, long segmentBytes, int snapshotsKept, SafeFileHandle lockFile)
    {
        var segments = new List<EmbeddedSegment>();
        var snapshots = new List<long>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (name.EndsWith(EmbeddedFormat.TempSuffix, StringComparison.Ordinal))
            {
                // A snapshot or epoch write that never reached its rename.
                File.Delete(path);
            }
            else if (EmbeddedFormat.TryParseSegmentName(name, out var first))
            {
                segments.Add(new EmbeddedSegment(path, first));
            }
            else if (EmbeddedFormat.TryParseSnapshotName(name, out var position))
            {
                snapshots.Add(position);
            }
        }

        segments.Sort(static (a, b) => a.FirstPosition.CompareTo(b.FirstPosition));
        snapshots.Sort();
        var newestSnapshot = snapshots.Count > 0 ? snapshots[^1] : 0;

        if (segments.Count == 0)
        {
            if (newestSnapshot > 1)
            {
                throw EmbeddedRecovery.Corrupt(partition, 1, directory, 0, $"the log's segment files are gone but snapshot {newestSnapshot} is there");
            }

            var path = Path.Combine(directory, EmbeddedFormat.SegmentName(1));
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            try
            {
                EmbeddedFiles.FlushDirectory(directory);
            }
            catch
            {
                handle.Dispose();
                throw;
            }

            segments.Add(new EmbeddedSegment(path, 1));
            var kept = KeepSnapshots(directory, snapshots, 1, snapshotsKept);
            return new EmbeddedPartitionLog(store, partition, epoch, directory, segmentBytes, snapshotsKept, lockFile, segments, kept, handle);
        }

        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            if (i > 0 && segment.FirstPosition != segments[i - 1].NextPosition)
            {
                throw EmbeddedRecovery.Corrupt(partition, segments[i - 1].NextPosition, segment.Path, 0,
                    $"the segment starts at position {segment.FirstPosition} but the one before it ends before {segments[i - 1].NextPosition}");
            }

            var isLast = i == segments.Count - 1;
            var scan = EmbeddedRecovery.ScanSegment(partition, segment, isLast);
            if (scan.IsTorn)
            {
                if (scan.NextPosition < newestSnapshot)
                {
                    throw EmbeddedRecovery.Corrupt(partition, scan.NextPosition, segment.Path, scan.ValidLength,
                        $"the damaged tail holds entries before snapshot {newestSnapshot}, so they were acknowledged");
                }

                EmbeddedRecovery.Truncate(segment, scan.ValidLength);
            }

            segment.Length = scan.ValidLength;
            segment.NextPosition = scan.NextPosition;
        }

        if (newestSnapshot > segments[^1].NextPosition)
        {
            throw EmbeddedRecovery.Corrupt(partition, segments[^1].NextPosition, segments[^1].Path, segments[^1].Length,
                $"snapshot {newestSnapshot} is ahead of the end of the log");
        }

        var retained = KeepSnapshots(directory, snapshots, segments[0].FirstPosition, snapshotsKept);
        var active = File.OpenHandle(segments[^1].Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        return new EmbeddedPartitionLog(store, partition, epoch, directory, segmentBytes, snapshotsKept, lockFile, segments, retained, active);
    }

    /// <summary>
    /// Applies the retention rules to the snapshot files found on opening: a crash between a trim's or a
    /// thinning's bookkeeping and its deletions, or a lower <c>SnapshotsKept</c> than before, can leave files
    /// the rules would have removed. Ones before the log's first position cannot be rolled forward.
    /// </summary>
    private static long[] KeepSnapshots(string directory, List<long> snapshots, long firstPosition, int kept)
    {
        var stale = 0;
        while (stale < snapshots.Count && snapshots[stale] < firstPosition)
        {
            File.Delete(Path.Combine(directory, EmbeddedFormat.SnapshotName(snapshots[stale])));
            stale++;
        }

        snapshots.RemoveRange(0, stale);
        while (snapshots.Count > kept)
        {
            var drop = SnapshotHistory.PickToDrop(CollectionsMarshal.AsSpan(snapshots));
            File.Delete(Path.Combine(directory, EmbeddedFormat.SnapshotName(snapshots[drop])));
            snapshots.RemoveAt(drop);
        }

        return [.. snapshots];
    }

    /// <summary>
    /// Writes every entry of the call with as few writes as the staging buffer allows, then one fsync. Runs
    /// on the caller's thread and completes synchronously: the partition loop waits for durability anyway,
    /// and a hop to the thread pool would cost a context switch per turn.
    /// </summary>
    public ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> entries, CancellationToken cancellationToken)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(entries);
            cancellationToken.ThrowIfCancellationRequested();
            Append(entries);
            return default;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <remarks>
    /// Takes no lock: the end is read first, then the segment list, which a roll publishes before any entry goes
    /// into the new segment, so the list covers every position before the end.
    /// </remarks>
    public IAsyncEnumerable<LogEntry> ReadAsync(long fromPosition, CancellationToken cancellationToken) =>
        ReadAsync(fromPosition, transient: false, cancellationToken);

    /// <remarks>Every entry is read into one buffer per read, reused chunk after chunk: a replay of millions of entries allocates one.</remarks>
    public IAsyncEnumerable<LogEntry> ReadTransientAsync(long fromPosition, CancellationToken cancellationToken) =>
        ReadAsync(fromPosition, transient: true, cancellationToken);

    private IAsyncEnumerable<LogEntry> ReadAsync(long fromPosition, bool transient, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed && _fencedBy < 0, this);
        var end = Volatile.Read(ref _nextPosition);
        var segments = Volatile.Read(ref _segments);
        if (fromPosition < segments[0].FirstPosition || fromPosition > end)
        {
            throw new ArgumentOutOfRangeException(nameof(fromPosition), fromPosition,
                $"partition {Partition} holds positions {segments[0].FirstPosition} to {end - 1}");
        }

        return Read(segments, fromPosition, end, transient, cancellationToken);
    }

    public ValueTask WriteSnapshotAsync(long position, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteSnapshot(position, state.Span);
            return default;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    public ValueTask<IReadOnlyList<long>> ListSnapshotsAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed && _fencedBy < 0, this);
        cancellationToken.ThrowIfCancellationRequested();

        // The published array is never changed, so handing out a read-only view of it is safe.
        return ValueTask.FromResult<IReadOnlyList<long>>(Array.AsReadOnly(Volatile.Read(ref _snapshots)));
    }

    public async ValueTask<Snapshot?> ReadSnapshotAsync(long position, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed && _fencedBy < 0, this);
        if (Array.BinarySearch(Volatile.Read(ref _snapshots), position) < 0)
        {
            return null;
        }

        var path = Path.Combine(_directory, EmbeddedFormat.SnapshotName(position));
        byte[] file;
        try
        {
            file = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            // Dropped by retention or a trim after the list was read.
            return null;
        }

        var damage = EmbeddedFormat.SnapshotDamage(file, position);
        return damage is null
            ? new Snapshot(position, file.AsMemory(EmbeddedFormat.SnapshotHeaderSize))
            : throw new LogCorruptedException(Partition, position, $"snapshot file {path}", damage);
    }

    public ValueTask<Snapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed && _fencedBy < 0, this);
        return SnapshotHistory.ReadLatestAsync(this, cancellationToken);
    }

    /// <summary>
    /// Deletes whole segments whose entries all lie before <paramref name="beforePosition"/>, then every snapshot
    /// before the first segment that stays. The contract allows keeping more than asked: it promises entries from
    /// the position on.
    /// </summary>
    public ValueTask TrimAsync(long beforePosition, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            Trim(beforePosition);
            return default;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_snapshotSync)
        {
            lock (_sync)
            {
                Close();
            }
        }

        _store.Forget(this);
        return default;
    }

    /// <summary>A newer owner in this process took the partition: stop writing and let go of the files.</summary>
    internal void Fence(long ownerEpoch)
    {
        // Waits for a snapshot write in progress: once fenced, no file of this owner's appears in the folder.
        lock (_snapshotSync)
        {
            lock (_sync)
            {
                if (!_closed)
                {
                    _fencedBy = ownerEpoch;
                    Close();
                }
            }
        }
    }

    private void Append(IReadOnlyList<ReadOnlyMemory<byte>> entries)
    {
        lock (_sync)
        {
            ThrowIfCannotWrite();
            var count = entries.Count;
            long total = 0;
            for (var i = 0; i < count; i++)
            {
                if (entries[i].Length > EmbeddedRecordHeader.MaxPayloadBytes)
                {
                    throw new ArgumentException($"entry {i} is {entries[i].Length} bytes; the most is {EmbeddedRecordHeader.MaxPayloadBytes}", nameof(entries));
                }

                total += EmbeddedRecordHeader.Size + entries[i].Length;
            }

            if (count == 0)
            {
                return;
            }

            var segment = _segments[^1];
            try
            {
                if (segment.Length >= _segmentBytes)
                {
                    segment = Roll();
                }

                Write(entries, total, segment.NextPosition, segment.Length);
                RandomAccess.FlushToDisk(_active);
            }
            catch (Exception e)
            {
                // The file may hold part of the call, and after a failed fsync the page cache cannot be trusted
                // either. Cut back to what is known durable and refuse further writes: reopening re-reads the
                // disk, and recovery drops whatever part of the call is there.
                _fault = e;
                TryCutBack(_segments[^1].Length);
                throw;
            }

            var offset = segment.Length;
            for (var i = 0; i < count; i++)
            {
                segment.Track(segment.NextPosition + i, offset);
                offset += EmbeddedRecordHeader.Size + entries[i].Length;
            }

            segment.Length = offset;
            segment.NextPosition += count;
            Volatile.Write(ref _nextPosition, segment.NextPosition);
        }
    }

    private void Write(IReadOnlyList<ReadOnlyMemory<byte>> entries, long total, long position, long fileOffset)
    {
        // The log's own staging buffer, kept between appends (one writer at a time): renting it from the shared
        // pool brought a new large array on every thread the pool had not served this size before.
        var needed = (int)Math.Min(total, StagingBytes);
        if (_staging.Length < needed)
        {
            _staging = new byte[Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)needed), StagingBytes)];
        }
        var buffer = _staging;
        var fill = 0;
        var count = entries.Count;
        for (var i = 0; i < count; i++)
        {
            var payload = entries[i].Span;
            if (buffer.Length - fill < EmbeddedRecordHeader.Size)
            {
                RandomAccess.Write(_active, buffer.AsSpan(0, fill), fileOffset);
                (fileOffset, fill) = (fileOffset + fill, 0);
            }

            EmbeddedRecordHeader.Write(buffer.AsSpan(fill, EmbeddedRecordHeader.Size), payload, position + i, i, count, _crc);
            fill += EmbeddedRecordHeader.Size;
            if (payload.Length > buffer.Length - fill)
            {
                RandomAccess.Write(_active, buffer.AsSpan(0, fill), fileOffset);
                (fileOffset, fill) = (fileOffset + fill, 0);
                if (payload.Length > buffer.Length)
                {
                    RandomAccess.Write(_active, payload, fileOffset);
                    fileOffset += payload.Length;
                    continue;
                }
            }

            payload.CopyTo(buffer.AsSpan(fill));
            fill += payload.Length;
        }

        RandomAccess.Write(_active, buffer.AsSpan(0, fill), fileOffset);
    }

    /// <summary>Starts a new segment at the next position; only between append calls, so a call never spans two.</summary>
    private EmbeddedSegment Roll()
    {
        var first = _segments[^1].NextPosition;
        var path = Path.Combine(_directory, EmbeddedFormat.SegmentName(first));
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        var segment = new EmbeddedSegment(path, first);
        _active.Dispose();
        _active = handle;
        Volatile.Write(ref _segments, [.. _segments, segment]);

        // The new file's name must be durable before the first entry acknowledged in it.
        EmbeddedFiles.FlushDirectory(_directory);
        return segment;
    }

    private void TryCutBack(long length)
    {
        try
        {
            RandomAccess.SetLength(_active, length);
            RandomAccess.FlushToDisk(_active);
        }
        catch (IOException)
        {
            // Recovery on the next open drops the unfinished call anyway; this only spares it the work.
        }
    }

    /// <summary>
    /// Writes the file outside <see cref="_sync"/> (an append can run meanwhile), then publishes the new list and
    /// applies retention under it, and deletes what retention dropped after it. A trim that ran meanwhile and
    /// moved the first position past this one wins: the file is removed again and the write refused.
    /// </summary>
    private void WriteSnapshot(long position, ReadOnlySpan<byte> state)
    {
        lock (_snapshotSync)
        {
            // Fencing and closing take _snapshotSync too, so this check holds until the write is done.
            ThrowIfCannotWrite();
            if (position < FirstPosition || position > NextPosition)
            {
                throw new ArgumentOutOfRangeException(nameof(position), position,
                    $"a snapshot of partition {Partition} must be taken at a position from {FirstPosition} to {NextPosition}");
            }

            Span<byte> header = stackalloc byte[EmbeddedFormat.SnapshotHeaderSize];
            EmbeddedFormat.WriteSnapshotHeader(header, position, state);
            var name = EmbeddedFormat.SnapshotName(position);
            EmbeddedFiles.ReplaceDurably(_directory, name, header, state);

            bool trimmed;
            long dropped = 0;
            lock (_sync)
            {
                trimmed = position < FirstPosition;
                if (!trimmed)
                {
                    dropped = Publish(position);
                }
            }

            if (trimmed)
            {
                File.Delete(Path.Combine(_directory, name));
                throw new ArgumentOutOfRangeException(nameof(position), position,
                    $"partition {Partition} was trimmed to {FirstPosition} while the snapshot at {position} was written");
            }

            if (dropped > 0)
            {
                // Possibly the snapshot just written, when it landed in the densest spot. Not flushed: a deletion
                // that a crash undoes leaves one snapshot too many, which opening drops again.
                File.Delete(Path.Combine(_directory, EmbeddedFormat.SnapshotName(dropped)));
            }
        }
    }

    /// <summary>
    /// Publishes the snapshot list with <paramref name="position"/> in it and, when that makes one too many, without
    /// the one retention drops; returns the dropped position or 0. Under <see cref="_sync"/>.
    /// </summary>
    private long Publish(long position)
    {
        var current = _snapshots;
        var at = Array.BinarySearch(current, position);
        if (at >= 0)
        {
            return 0;
        }

        at = ~at;
        var next = new long[current.Length + 1];
        current.AsSpan(0, at).CopyTo(next);
        next[at] = position;
        current.AsSpan(at).CopyTo(next.AsSpan(at + 1));
        if (next.Length <= _snapshotsKept)
        {
            Volatile.Write(ref _snapshots, next);
            return 0;
        }

        var drop = SnapshotHistory.PickToDrop(next);
        var dropped = next[drop];
        Volatile.Write(ref _snapshots, [.. next.AsSpan(0, drop), .. next.AsSpan(drop + 1)]);
        return dropped;
    }

    /// <summary>
    /// Publishes the shorter lists first and deletes after, so a reader that finds a file gone can tell a trim from
    /// damage by the first position. Snapshots go before segments, oldest segment first, each deletion durable
    /// before the next: a crash leaves a suffix of the segments and no snapshot without its log.
    /// </summary>
    private void Trim(long beforePosition)
    {
        lock (_sync)
        {
            ThrowIfCannotWrite();
            var snapshots = _snapshots;
            var newest = snapshots.Length > 0 ? snapshots[^1] : 1;
            if (beforePosition > newest)
            {
                throw new ArgumentException(
                    $"partition {Partition}: cannot drop entries before {beforePosition}, the newest snapshot is at {newest}",
                    nameof(beforePosition));
            }

            var segments = _segments;
            var cut = 0;
            while (cut < segments.Length - 1 && segments[cut + 1].FirstPosition <= beforePosition)
            {
                cut++;
            }

            if (cut == 0)
            {
                return;
            }

            var first = segments[cut].FirstPosition;
            var stale = 0;
            while (stale < snapshots.Length && snapshots[stale] < first)
            {
                stale++;
            }

            Volatile.Write(ref _snapshots, snapshots[stale..]);
            Volatile.Write(ref _segments, segments[cut..]);
            for (var i = 0; i < stale; i++)
            {
                File.Delete(Path.Combine(_directory, EmbeddedFormat.SnapshotName(snapshots[i])));
            }

            for (var i = 0; i < cut; i++)
            {
                File.Delete(segments[i].Path);
                EmbeddedFiles.FlushDirectory(_directory);
            }
        }
    }

    private async IAsyncEnumerable<LogEntry> Read(
        EmbeddedSegment[] segments, long from, long end, bool transient, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var shared = transient ? new ReadChunk.Buffer() : null;
        var s = segments.Length - 1;
        while (s > 0 && segments[s].FirstPosition > from)
        {
            s--;
        }

        for (var position = from; position < end; s++)
        {
            var segment = segments[s];
            var limit = s + 1 < segments.Length ? Math.Min(end, segments[s + 1].FirstPosition) : end;
            var (current, offset) = segment.Seek(position);
            using var handle = OpenForRead(segment, position);
            var chunk = new ReadChunk(handle, shared);
            for (; current < limit; current++)
            {
                if (!await chunk.LoadAsync(offset, EmbeddedRecordHeader.Size, cancellationToken))
                {
                    throw EmbeddedRecovery.Corrupt(Partition, current, segment.Path, offset, "the record header is cut short");
                }

                var header = EmbeddedRecordHeader.Read(chunk.Span(offset, EmbeddedRecordHeader.Size));
                if (!header.IsWellFormed || header.Position != current)
                {
                    throw EmbeddedRecovery.Corrupt(Partition, current, segment.Path, offset, "the record header is damaged");
                }

                var recordLength = EmbeddedRecordHeader.Size + header.Length;
                if (current >= from)
                {
                    if (!await chunk.LoadAsync(offset, recordLength, cancellationToken))
                    {
                        throw EmbeddedRecovery.Corrupt(Partition, current, segment.Path, offset, "the record is cut short");
                    }

                    if (!header.Matches(chunk.Span(offset, recordLength)))
                    {
                        throw EmbeddedRecovery.Corrupt(Partition, current, segment.Path, offset, "the record fails its CRC");
                    }

                    yield return new LogEntry(current, chunk.HandOut(offset + EmbeddedRecordHeader.Size, header.Length));
                }

                offset += recordLength;
            }

            position = limit;
        }
    }

    private SafeFileHandle OpenForRead(EmbeddedSegment segment, long position)
    {
        try
        {
            return File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException) when (segment.FirstPosition < FirstPosition)
        {
            // A trim publishes the new first position before it deletes files.
            throw new InvalidOperationException(
                $"partition {Partition}: entries from {position} were trimmed (the log now starts at {FirstPosition}) while they were read");
        }
        catch (FileNotFoundException e)
        {
            throw new LogCorruptedException(Partition, position, segment.Path, $"the segment file is gone: {e.Message}");
        }
    }

    private void ThrowIfCannotWrite()
    {
        if (_fencedBy >= 0)
        {
            throw new FencedException(Partition, Epoch, _fencedBy);
        }

        ObjectDisposedException.ThrowIf(_closed, this);
        if (_fault is not null)
        {
            throw new IOException($"partition {Partition}: an earlier write failed; reopen the partition to recover its log", _fault);
        }
    }

    private void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _active.Dispose();
        _lock.Dispose();
    }

    /// <summary>
    /// File bytes loaded for the read path. Entries are handed out as slices of the chunk, so a chunk that has
    /// handed anything out is never refilled: the next load takes a fresh array. A transient read's chunks share
    /// one <see cref="Buffer"/> and refill it, since its caller is done with an entry before it loads the next.
    /// </summary>
    private sealed class ReadChunk(SafeFileHandle handle, ReadChunk.Buffer? shared)
    {
        private byte[] _bytes = shared?.Bytes ?? [];
        private long _start;
        private int _count;
        private bool _handedOut;

        public async ValueTask<bool> LoadAsync(long offset, int length, CancellationToken cancellationToken)
        {
            if (offset >= _start && offset + length <= _start + _count)
            {
                return true;
            }

            var size = Math.Max(ReadChunkBytes, length);
            if ((_handedOut && shared is null) || _bytes.Length < size)
            {
                // A transient read keeps its buffer: it grows by powers of two, so entries of slowly growing
                // size do not each bring a new (large-object) array.
                _bytes = new byte[shared is null ? size : (int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size), Array.MaxLength)];
                _handedOut = false;
                if (shared is not null)
                {
                    shared.Bytes = _bytes;
                }
            }

            var read = 0;
            while (read < _bytes.Length)
            {
                var n = await RandomAccess.ReadAsync(handle, _bytes.AsMemory(read), offset + read, cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            (_start, _count) = (offset, read);
            return read >= length;
        }

        public ReadOnlySpan<byte> Span(long offset, int length) => _bytes.AsSpan((int)(offset - _start), length);

        public ReadOnlyMemory<byte> HandOut(long offset, int length)
        {
            _handedOut = true;
            return _bytes.AsMemory((int)(offset - _start), length);
        }

        /// <summary>The array a transient read's chunks share, grown when an entry does not fit.</summary>
        public sealed class Buffer
        {
            public byte[] Bytes { get; set; } = [];
        }
    }
}
