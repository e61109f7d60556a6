using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Veltrix.Storage;

/// <summary>
/// Partitions kept in a local data folder, one sub-folder each (<see cref="GetPartitionDirectory"/>): the
/// embedded mode's store. Each open partition holds an exclusive lock on its folder's lock file, so a second
/// process (or a second store over the same folder) cannot open it while this one has it; an owner with a
/// higher epoch in this store takes the partition over and fences the lower one, and the highest epoch is
/// recorded in the folder so a lower one is refused after a restart too.
/// </summary>
public sealed class EmbeddedPartitionStore : IPartitionStore
{
    private readonly string _root;
    private readonly long _segmentBytes;
    private readonly int _snapshotsKept;
    private readonly Dictionary<int, EmbeddedPartitionLog> _open = [];
    private bool _disposed;

    public EmbeddedPartitionStore(EmbeddedStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataFolder);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SegmentBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SnapshotsKept, SnapshotHistory.MinimumKept);
        _root = Path.GetFullPath(options.DataFolder);
        _segmentBytes = options.SegmentBytes;
        _snapshotsKept = options.SnapshotsKept;
    }

    /// <summary>The folder that holds <paramref name="partition"/>'s log, snapshots, epoch and lock file.</summary>
    public string GetPartitionDirectory(int partition) =>
        Path.Combine(_root, string.Create(CultureInfo.InvariantCulture, $"partition-{partition:D4}"));

    /// <inheritdoc />
    /// <remarks>
    /// Recovery runs on the caller's thread. Throws <see cref="IOException"/> when another process or store
    /// holds the partition's lock file.
    /// </remarks>
    public ValueTask<IPartitionLog> OpenAsync(int partition, long epoch, CancellationToken cancellationToken)
    {
        try
        {
            ArgumentOutOfRangeException.ThrowIfNegative(partition);
            ArgumentOutOfRangeException.ThrowIfNegative(epoch);
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult<IPartitionLog>(Open(partition, epoch));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<IPartitionLog>(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        EmbeddedPartitionLog[] logs;
        lock (_open)
        {
            _disposed = true;
            logs = [.. _open.Values];
            _open.Clear();
        }

        foreach (var log in logs)
        {
            await log.DisposeAsync();
        }
    }

    internal void Forget(EmbeddedPartitionLog log)
    {
        lock (_open)
        {
            if (_open.TryGetValue(log.Partition, out var current) && ReferenceEquals(current, log))
            {
                _open.Remove(log.Partition);
            }
        }
    }

    private EmbeddedPartitionLog Open(int partition, long epoch)
    {
        EmbeddedPartitionLog? previous;
        lock (_open)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_open.TryGetValue(partition, out previous))
            {
                if (epoch < previous.Epoch)
                {
                    throw new FencedException(partition, epoch, previous.Epoch);
                }

                if (epoch == previous.Epoch)
                {
                    throw new InvalidOperationException(
                        $"partition {partition} is already open with epoch {epoch}; a new owner needs a higher epoch");
                }

                _open.Remove(partition);
            }
        }

        previous?.Fence(epoch);

        var directory = GetPartitionDirectory(partition);
        EmbeddedFiles.EnsureDirectory(directory);
        var lockFile = TakeLock(partition, directory);
        try
        {
            var recorded = ReadEpoch(directory);
            if (recorded > epoch)
            {
                throw new FencedException(partition, epoch, recorded);
            }

            if (recorded < epoch)
            {
                Span<byte> record = stackalloc byte[EmbeddedFormat.EpochFileSize];
                EmbeddedFormat.WriteEpoch(record, epoch);
                EmbeddedFiles.ReplaceDurably(directory, EmbeddedFormat.EpochFileName, record, []);
            }

            var log = EmbeddedPartitionLog.Open(this, partition, epoch, directory, _segmentBytes, _snapshotsKept, lockFile);
            lock (_open)
            {
                if (!_disposed)
                {
                    _open[partition] = log;
                    return log;
                }
            }

            log.Fence(epoch);
            throw new ObjectDisposedException(nameof(EmbeddedPartitionStore));
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Locks the partition against every other owner for as long as the returned handle is open: an
    /// flock(LOCK_EX) on the lock file, which other processes (and other opens in this one) honour, and which
    /// the kernel releases when a process dies, so a crashed owner never blocks its restart.
    /// </summary>
    private static SafeFileHandle TakeLock(int partition, string directory)
    {
        var path = Path.Combine(directory, EmbeddedFormat.LockFileName);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw Held(partition, path, e);
        }

        try
        {
            return EmbeddedFiles.TryLockExclusively(handle, path) ? handle : throw Held(partition, path, null);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static IOException Held(int partition, string path, Exception? inner) => new(
        $"partition {partition} is held by another owner (another process, or another store over the same folder): its lock file '{path}' is locked",
        inner);

    /// <summary>The highest epoch that ever opened the partition, or -1 for a partition never opened.</summary>
    private static long ReadEpoch(string directory)
    {
        var path = Path.Combine(directory, EmbeddedFormat.EpochFileName);
        if (!File.Exists(path))
        {
            return -1;
        }

        var file = File.ReadAllBytes(path);
        return EmbeddedFormat.TryReadEpoch(file, out var epoch)
            ? epoch
            : throw new InvalidDataException($"the epoch record '{path}' is damaged; the partition's owner cannot be established");
    }
}
