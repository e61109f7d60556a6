namespace Veltrix.Resolver.Rollback;

/// <summary>
/// Reads one field of a snapshot's bytes without decoding its worlds, so choosing among many large
/// snapshots costs a scan of their top-level fields.
/// </summary>
public static class SnapshotHeader
{
    private const int MaxStampField = 5; // PartitionImage.max_stamp_ms

    /// <summary>The latest stamp the snapshot's state had applied, or null when it does not say.</summary>
    public static long? MaxStampMs(ReadOnlySpan<byte> image)
    {
        var at = 0;
        while (at < image.Length)
        {
            var tag = ReadVarint(image, ref at);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    var value = ReadVarint(image, ref at);
                    if (field == MaxStampField)
                    {
                        return (long)value;
                    }
                    break;
                case 1:
                    at += 8;
                    break;
                case 2:
                    var length = ReadVarint(image, ref at);
                    if (length > (ulong)(image.Length - at))
                    {
                        throw new InvalidDataException("snapshot field runs past its end");
                    }
                    at += (int)length;
                    break;
                case 5:
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"snapshot has an unknown wire type at byte {at}");
            }
        }
        return null;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= bytes.Length)
            {
                throw new InvalidDataException("snapshot is cut short");
            }
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new InvalidDataException("snapshot has a malformed varint");
    }
}
