namespace Veltrix.Storage;

/// <summary>
/// One segment file of a partition's log: its range of positions and a sparse index into it. The appender (under
/// the log's lock) is the only writer; readers search the index without a lock (see <see cref="Seek"/>).
/// </summary>
internal sealed class EmbeddedSegment(string path, long firstPosition)
{
    // One index entry per MiB of records: a read from the middle scans at most about 1 MiB of headers to
    // find its start, and a 64 MiB segment costs 64 entries.
    private const long IndexStrideBytes = 1 << 20;

    // Published for lock-free readers: an entry is written before the count that covers it, and a grown array
    // before the count that needs it, both with release semantics; a reader loads the count first (acquire),
    // then the array, so every entry below the count it saw is complete in the array it gets.
    private (long Position, long Offset)[] _index = new (long, long)[4];
    private int _count;

    public string Path { get; } = path;

    public long FirstPosition { get; } = firstPosition;

    /// <summary>One past the last position in this segment; the appender's own bookkeeping.</summary>
    public long NextPosition { get; set; } = firstPosition;

    /// <summary>Bytes of complete, durable records; the appender's own bookkeeping.</summary>
    public long Length { get; set; }

    /// <summary>Notes that the record for <paramref name="position"/> starts at <paramref name="offset"/>.</summary>
    public void Track(long position, long offset)
    {
        var count = _count;
        var index = _index;
        if (count > 0 && offset - index[count - 1].Offset < IndexStrideBytes)
        {
            return;
        }

        if (count == index.Length)
        {
            var grown = new (long, long)[count * 2];
            Array.Copy(index, grown, count);
            index = grown;
        }

        index[count] = (position, offset);
        Volatile.Write(ref _index, index);
        Volatile.Write(ref _count, count + 1);
    }

    /// <summary>Forgets index entries at or past <paramref name="length"/> (a torn tail that was cut off); only while opening.</summary>
    public void TruncateIndex(long length)
    {
        var keep = _count;
        while (keep > 0 && _index[keep - 1].Offset >= length)
        {
            keep--;
        }

        Volatile.Write(ref _count, keep);
    }

    /// <summary>
    /// The closest indexed record at or before <paramref name="position"/>, where a read can start scanning. Safe
    /// beside <see cref="Track"/> on another thread: it sees the index as of some moment during the call.
    /// </summary>
    public (long Position, long Offset) Seek(long position)
    {
        var count = Volatile.Read(ref _count);
        var index = Volatile.Read(ref _index);
        var (low, high) = (0, count - 1);
        var best = (FirstPosition, 0L);
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (index[mid].Position <= position)
            {
                best = index[mid];
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return best;
    }
}
