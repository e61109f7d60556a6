using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Veltrix.Storage;

/// <summary>The durability steps files alone do not give: directory entries, atomic replacement, full reads.</summary>
internal static class EmbeddedFiles
{
    /// <summary>
    /// Makes the directory's entries (files created, renamed or deleted in it) durable. fsync of a file does
    /// not cover the name pointing at it, so a new segment or a renamed snapshot could vanish in a crash
    /// without this. .NET refuses to open a directory as a file, hence the direct calls.
    /// </summary>
    public static void FlushDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            // NTFS journals directory entries itself and offers no flush for a directory handle.
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        var flags = OperatingSystem.IsLinux() ? LinuxOpenCloseOnExec : 0;
        var fd = Native.Open(ref bytes[0], flags);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{path}' to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Native.FSync(fd) != 0)
            {
                throw new IOException($"cannot flush directory '{path}' (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    /// <summary>
    /// Takes an exclusive flock on <paramref name="handle"/>; false when another open file holds it.
    /// FileShare.None already asks .NET for the same lock, but .NET treats its lock as best effort: it can be
    /// switched off (System.IO.DisableFileLocking) and errors other than "would block" are ignored. One
    /// writer per partition is a guarantee here, so the lock is taken again explicitly and any failure to
    /// take it is an error. flock is per open file, so taking it again on the same handle just succeeds.
    /// </summary>
    public static bool TryLockExclusively(SafeFileHandle handle, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            // FileShare.None is enforced by Windows itself.
            return true;
        }

        const int LockExclusive = 2, LockNonBlocking = 4;
        if (Native.Flock(handle, LockExclusive | LockNonBlocking) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        var wouldBlock = OperatingSystem.IsLinux() ? 11 : 35;
        return errno == wouldBlock
            ? false
            : throw new IOException($"cannot lock '{path}' (errno {errno}); the data folder must be on a local file system that supports flock");
    }

    /// <summary>Creates <paramref name="path"/> and any missing parents, each creation made durable in its parent.</summary>
    public static void EnsureDirectory(string path)
    {
        path = Path.GetFullPath(path);
        if (Directory.Exists(path))
        {
            return;
        }

        var parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            EnsureDirectory(parent);
        }

        Directory.CreateDirectory(path);
        if (parent is not null)
        {
            FlushDirectory(parent);
        }
    }

    /// <summary>
    /// Replaces <paramref name="fileName"/> in <paramref name="directory"/> so that after a crash it is either the
    /// old file or the complete new one: write a temporary file, fsync it, rename it over, fsync the directory.
    /// </summary>
    public static void ReplaceDurably(string directory, string fileName, ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        var target = Path.Combine(directory, fileName);
        var temp = target + EmbeddedFormat.TempSuffix;
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, header, 0);
            RandomAccess.Write(handle, body, header.Length);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temp, target, overwrite: true);
        FlushDirectory(directory);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; returns the bytes read.</summary>
    public static int ReadAtMost(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    // O_CLOEXEC on Linux (x64 and arm64 alike): the descriptor lives for two calls, but a concurrent
    // Process.Start must not inherit it.
    private const int LinuxOpenCloseOnExec = 0x80000;

    private static class Native
    {
        // Signatures the runtime marshals without reflection (ref byte, int, SafeHandle), so AOT compiles them ahead.
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open(ref byte path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int FSync(int fd);

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Flock(SafeFileHandle fd, int operation);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int fd);
    }
}

/// <summary>
/// A sliding read window over a file for the recovery scan: cheap to ask for the same or nearby bytes again,
/// which the byte-by-byte search for later records does. Spans it returns are valid until the next call.
/// </summary>
internal sealed class EmbeddedFileWindow(SafeFileHandle handle, long fileLength) : IDisposable
{
    private const int WindowBytes = 1 << 20;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(WindowBytes);
    private long _start;
    private int _count;

    /// <summary>Bytes [offset, offset + length); the caller has checked that the file holds them.</summary>
    public ReadOnlySpan<byte> Get(long offset, int length)
    {
        if (offset < _start || offset + length > _start + _count)
        {
            if (length > _buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
                _buffer = ArrayPool<byte>.Shared.Rent(length);
            }

            var wanted = (int)Math.Min(_buffer.Length, fileLength - offset);
            _start = offset;
            _count = EmbeddedFiles.ReadAtMost(handle, _buffer.AsSpan(0, wanted), offset);
            if (_count < length)
            {
                throw new EndOfStreamException($"file shrank while it was scanned at byte {offset}");
            }
        }

        return _buffer.AsSpan((int)(offset - _start), length);
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
