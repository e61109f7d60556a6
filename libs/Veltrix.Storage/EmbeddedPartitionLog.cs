using System.Buffers;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace Veltrix.Storage;

/// <summary>
/// One partition's log in its folder: segment files <c>log-{first position:D20}.seg</c> of CRC-checked
/// records (<see cref="EmbeddedRecordHeader"/>), snapshots <c>snap-{position:D20}.bin</c>, the owner's epoch
/// in <c>epoch</c>, and <c>lock</c>, held exclusively while this log is open so that no other process writes
/// the partition.
/// </summary>
internal sealed class EmbeddedPartitionLog : IPartitionLog
{
    // Appends are staged in one pooled buffer of at most this size and written with one call per buffer-full;
    // payloads larger than it go to the file straight from the caller's memory. A turn's batch (64 x 256 B,
    // tests/Veltrix.Storage.Tests/measure/embedded-append-throughput.cs) is one write; the fsync after it
    // costs far more than the copy.
    private const int StagingBytes = 1 << 20;

    // A snapshot can be damaged on disk; keeping the one before it (and the log back to it) leaves a way back.
    private const int SnapshotsKept = 2;

    // Chunks the read path loads and hands out slices of; under the 85 KB large-object threshold, so a
    // replay does not feed the gen2 heap.
    private const int ReadChunkBytes = 64 * 1024;

    private readonly EmbeddedPartitionStore _store;
    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly List<EmbeddedSegment> _segments;
    private readonly List<long> _snapshots;
    private readonly Crc32 _crc = new();

    // Guards the handles against a takeover or dispose from another thread while an operation runs; the
    // partition loop is the only caller otherwise, so it is never contended on the append path.
    private readonly Lock _sync = new();
    private readonly SafeFileHandle _lock;
    private SafeFileHandle _active;
    private bool _closed;
    private long _fencedBy = -1;
    private Exception? _fault;

    private EmbeddedPartitionLog(
        EmbeddedPartitionStore store, int partition, long epoch, string directory, long segmentBytes,
        SafeFileHandle lockFile, List<EmbeddedSegment> segments, List<long> snapshots, SafeFileHandle active)
    {
        _store = store;
        Partition = partition;
        Epoch = epoch;
        _directory = directory;
        _segmentBytes = segmentBytes;
        _lock = lockFile;
        _segments = segments;
        _snapshots = snapshots;
        _active = active;
    }

    public int Partition { get; }

    public long Epoch { get; }

    public long NextPosition => _segments[^1].NextPosition;

    public long FirstPosition => _segments[0].FirstPosition;

    /// <summary>
    /// Recovers the log in <paramref name="directory"/> (see <see cref="EmbeddedRecovery"/>). Takes ownership
    /// of <paramref name="lockFile"/>, which the caller holds exclusively.
    /// </summary>
    internal static EmbeddedPartitionLog Open(
        EmbeddedPartitionStore store, int partition, long epoch, string directory, long segmentBytes, SafeFileHandle lockFile)
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
            return new EmbeddedPartitionLog(store, partition, epoch, directory, segmentBytes, lockFile, segments, snapshots, handle);
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

        var active = File.OpenHandle(segments[^1].Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        return new EmbeddedPartitionLog(store, partition, epoch, directory, segmentBytes, lockFile, segments, snapshots, active);
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

    public IAsyncEnumerable<LogEntry> ReadAsync(long fromPosition, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed && _fencedBy < 0, this);
        if (fromPosition < FirstPosition || fromPosition > NextPosition)
        {
            throw new ArgumentOutOfRangeException(nameof(fromPosition), fromPosition,
                $"partition {Partition} holds positions {FirstPosition} to {NextPosition - 1}");
        }

        return Read(_segments.ToArray(), fromPosition, NextPosition, cancellationToken);
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

    public async ValueTask<Snapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed && _fencedBy < 0, this);
        for (var i = _snapshots.Count - 1; i >= 0; i--)
        {
            var position = _snapshots[i];
            byte[] file;
            try
            {
                file = await File.ReadAllBytesAsync(Path.Combine(_directory, EmbeddedFormat.SnapshotName(position)), cancellationToken);
            }
            catch (FileNotFoundException)
            {
                continue;
            }

            if (EmbeddedFormat.IsValidSnapshot(file, position))
            {
                return new Snapshot(position, file.AsMemory(EmbeddedFormat.SnapshotHeaderSize));
            }
        }

        return null;
    }

    /// <summary>
    /// Deletes whole segments whose entries all lie before <paramref name="beforePosition"/>, and never one
    /// the older kept snapshot still needs, so that falling back to it (when the newest is damaged) still finds
    /// its log. The contract allows keeping more than asked: it promises entries from the position on.
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
        lock (_sync)
        {
            Close();
        }

        _store.Forget(this);
        return default;
    }

    /// <summary>A newer owner in this process took the partition: stop writing and let go of the files.</summary>
    internal void Fence(long ownerEpoch)
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
        }
    }

    private void Write(IReadOnlyList<ReadOnlyMemory<byte>> entries, long total, long position, long fileOffset)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(total, StagingBytes));
        try
        {
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
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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
        _segments.Add(segment);

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

    private void WriteSnapshot(long position, ReadOnlySpan<byte> state)
    {
        lock (_sync)
        {
            ThrowIfCannotWrite();
            if (position < FirstPosition || position > NextPosition)
            {
                throw new ArgumentOutOfRangeException(nameof(position), position,
                    $"a snapshot of partition {Partition} must be taken at a position from {FirstPosition} to {NextPosition}");
            }

            Span<byte> header = stackalloc byte[EmbeddedFormat.SnapshotHeaderSize];
            EmbeddedFormat.WriteSnapshotHeader(header, position, state);
            EmbeddedFiles.ReplaceDurably(_directory, EmbeddedFormat.SnapshotName(position), header, state);

            var index = _snapshots.BinarySearch(position);
            if (index < 0)
            {
                _snapshots.Insert(~index, position);
            }

            while (_snapshots.Count > SnapshotsKept)
            {
                File.Delete(Path.Combine(_directory, EmbeddedFormat.SnapshotName(_snapshots[0])));
                _snapshots.RemoveAt(0);
            }
        }
    }

    private void Trim(long beforePosition)
    {
        lock (_sync)
        {
            ThrowIfCannotWrite();
            var newest = _snapshots.Count > 0 ? _snapshots[^1] : 1;
            if (beforePosition > newest)
            {
                throw new ArgumentException(
                    $"partition {Partition}: cannot drop entries before {beforePosition}, the newest snapshot is at {newest}",
                    nameof(beforePosition));
            }

            var keepFrom = _snapshots.Count > 0 ? Math.Min(beforePosition, _snapshots[0]) : beforePosition;
            while (_segments.Count > 1 && _segments[1].FirstPosition <= keepFrom)
            {
                File.Delete(_segments[0].Path);

                // Oldest first, each deletion durable before the next: a crash cannot bring back an old segment
                // with a gap after it.
                EmbeddedFiles.FlushDirectory(_directory);
                _segments.RemoveAt(0);
            }
        }
    }

    private async IAsyncEnumerable<LogEntry> Read(
        EmbeddedSegment[] segments, long from, long end, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
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
            using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var chunk = new ReadChunk(handle);
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
    /// handed anything out is never refilled: the next load takes a fresh array.
    /// </summary>
    private sealed class ReadChunk(SafeFileHandle handle)
    {
        private byte[] _bytes = [];
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
            if (_handedOut || _bytes.Length < size)
            {
                _bytes = new byte[size];
                _handedOut = false;
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
    }
}
