using Microsoft.Win32.SafeHandles;

namespace Veltrix.Storage;

/// <summary>
/// Opening a partition's log: every record of every segment is read and its CRC checked.
/// <para>
/// What a crash can leave: appends are sequential and each returns only after its fsync, so only the last
/// append call can be unfinished, and only at the end of the last segment — possibly with holes, because
/// the pages of one write need not reach the disk in order. That tail was never acknowledged and is cut
/// off, the whole call at once (appends are all or none). A damaged record is therefore a torn tail only
/// when nothing from a later append call follows it; a valid record of a later call proves the damaged one
/// was acknowledged, which is corruption. So is any damage in a segment that is not the last (segments
/// roll only between calls), a record out of sequence, and a cut that would drop entries a snapshot has
/// already absorbed (a snapshot is written only after its entries were durable).
/// </para>
/// </summary>
internal static class EmbeddedRecovery
{
    /// <summary>What the scan of one segment found: its valid length and next position, and the bytes past them.</summary>
    public readonly record struct Scan(long FileLength, long ValidLength, long NextPosition)
    {
        public bool IsTorn => ValidLength < FileLength;
    }

    /// <summary>
    /// Verifies every record of <paramref name="segment"/> and fills its index. Damage is returned as a torn
    /// tail only for the last segment and only where it cannot be acknowledged data; otherwise it throws.
    /// </summary>
    /// <exception cref="LogCorruptedException">The segment is damaged in a way a crash cannot explain.</exception>
    public static Scan ScanSegment(int partition, EmbeddedSegment segment, bool isLast)
    {
        using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var fileLength = RandomAccess.GetLength(handle);
        using var window = new EmbeddedFileWindow(handle, fileLength);
        const int HeaderSize = EmbeddedRecordHeader.Size;

        var (offset, position) = (0L, segment.FirstPosition);
        var (validLength, validNext) = (0L, position);
        var (callStart, callCount) = (position, 0);
        while (offset < fileLength)
        {
            string? damage = null;
            var header = default(EmbeddedRecordHeader);
            if (fileLength - offset < HeaderSize)
            {
                damage = "the record header is cut short";
            }
            else
            {
                header = EmbeddedRecordHeader.Read(window.Get(offset, HeaderSize));
                if (!header.IsWellFormed)
                {
                    damage = "the record header is malformed";
                }
                else if (header.Length > fileLength - offset - HeaderSize)
                {
                    damage = "the record is cut short";
                }
                else if (!header.Matches(window.Get(offset, HeaderSize + header.Length)))
                {
                    damage = "the record fails its CRC";
                }
            }

            if (damage is not null)
            {
                var damagedCall = callCount == 0 ? position : callStart;
                if (!isLast || LaterCallFollows(window, offset + 1, fileLength, damagedCall))
                {
                    throw Corrupt(partition, position, segment.Path, offset, damage);
                }

                return new Scan(fileLength, validLength, validNext);
            }

            if (header.Position != position)
            {
                throw Corrupt(partition, position, segment.Path, offset, $"the record holds position {header.Position}");
            }

            if (callCount == 0)
            {
                if (header.Index != 0)
                {
                    throw Corrupt(partition, position, segment.Path, offset, "the record starts inside an append call");
                }

                (callStart, callCount) = (position, header.Count);
            }
            else if (header.Index != position - callStart || header.Count != callCount)
            {
                throw Corrupt(partition, position, segment.Path, offset, "the record breaks off the append call before it");
            }

            segment.Track(position, offset);
            offset += HeaderSize + header.Length;
            position++;
            if (header.Index == header.Count - 1)
            {
                (validLength, validNext, callCount) = (offset, position, 0);
            }
        }

        if (callCount != 0 && !isLast)
        {
            throw Corrupt(partition, position, segment.Path, offset, "the segment ends inside an append call");
        }

        return new Scan(fileLength, validLength, validNext);
    }

    /// <summary>Cuts the torn tail off the last segment, durably, before anything is appended after it.</summary>
    public static void Truncate(EmbeddedSegment segment, long length)
    {
        using (SafeFileHandle handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete))
        {
            RandomAccess.SetLength(handle, length);
            RandomAccess.FlushToDisk(handle);
        }

        segment.TruncateIndex(length);
    }

    public static LogCorruptedException Corrupt(int partition, long position, string path, long offset, string why) =>
        new(partition, position, $"{path} at byte {offset}", why);

    /// <summary>
    /// Searches past a damaged record, at every byte offset, for an intact record of an append call that
    /// started after <paramref name="damagedCall"/>. Records of the damaged call itself prove nothing: they
    /// may be the pages of the unfinished call that did reach the disk.
    /// </summary>
    private static bool LaterCallFollows(EmbeddedFileWindow window, long from, long fileLength, long damagedCall)
    {
        const int HeaderSize = EmbeddedRecordHeader.Size;
        var maxRecords = fileLength / HeaderSize + 1;
        for (var offset = from; offset <= fileLength - HeaderSize; offset++)
        {
            var header = EmbeddedRecordHeader.Read(window.Get(offset, HeaderSize));
            if (!header.IsWellFormed
                || header.Length > fileLength - offset - HeaderSize
                || header.CallStart <= damagedCall
                || header.CallStart > damagedCall + maxRecords)
            {
                continue;
            }

            if (header.Matches(window.Get(offset, HeaderSize + header.Length)))
            {
                return true;
            }
        }

        return false;
    }
}
