namespace Veltrix.Storage;

/// <summary>One segment file of a partition's log: its range of positions and a sparse index into it.</summary>
internal sealed class EmbeddedSegment(string path, long firstPosition)
{
    // One index entry per MiB of records: a read from the middle scans at most about 1 MiB of headers to
    // find its start, and a 64 MiB segment costs 64 entries.
    private const long IndexStrideBytes = 1 << 20;

    private readonly List<(long Position, long Offset)> _index = [];

    public string Path { get; } = path;

    public long FirstPosition { get; } = firstPosition;

    /// <summary>One past the last position in this segment.</summary>
    public long NextPosition { get; set; } = firstPosition;

    /// <summary>Bytes of complete, durable records.</summary>
    public long Length { get; set; }

    /// <summary>Notes that the record for <paramref name="position"/> starts at <paramref name="offset"/>.</summary>
    public void Track(long position, long offset)
    {
        if (_index.Count == 0 || offset - _index[^1].Offset >= IndexStrideBytes)
        {
            _index.Add((position, offset));
        }
    }

    /// <summary>Forgets index entries at or past <paramref name="length"/> (a torn tail that was cut off).</summary>
    public void TruncateIndex(long length)
    {
        var keep = _index.Count;
        while (keep > 0 && _index[keep - 1].Offset >= length)
        {
            keep--;
        }

        _index.RemoveRange(keep, _index.Count - keep);
    }

    /// <summary>The closest indexed record at or before <paramref name="position"/>, where a read can start scanning.</summary>
    public (long Position, long Offset) Seek(long position)
    {
        var (low, high) = (0, _index.Count - 1);
        var best = (FirstPosition, 0L);
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (_index[mid].Position <= position)
            {
                best = _index[mid];
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
