using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Veltrix.Storage;

/// <summary>
/// The header in front of every log record, 24 bytes, little-endian:
/// [0..4) CRC-32 of everything after it (rest of the header and the payload), [4..8) payload length,
/// [8..16) position, [16..20) index of the entry in its append call, [20..24) entries in that call.
/// The CRC covers length and position too, so a damaged field is caught like damaged data. The append-call
/// fields let recovery drop an unfinished call as a whole and tell a torn tail from damaged acknowledged data.
/// </summary>
internal readonly struct EmbeddedRecordHeader(uint crc, int length, long position, int index, int count)
{
    public const int Size = 24;

    // Bounds a damaged length field; entries are batches of events, far below this.
    public const int MaxPayloadBytes = 1 << 30;

    public uint Crc { get; } = crc;
    public int Length { get; } = length;
    public long Position { get; } = position;
    public int Index { get; } = index;
    public int Count { get; } = count;

    public bool IsWellFormed => Length is >= 0 and <= MaxPayloadBytes && Count >= 1 && Index >= 0 && Index < Count && Position >= 1;

    /// <summary>The first position of the append call this record belongs to.</summary>
    public long CallStart => Position - Index;

    public static EmbeddedRecordHeader Read(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(header),
        BinaryPrimitives.ReadInt32LittleEndian(header[4..]),
        BinaryPrimitives.ReadInt64LittleEndian(header[8..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[16..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[20..]));

    /// <summary>Writes a header for <paramref name="payload"/> and seals it with the CRC.</summary>
    public static void Write(Span<byte> header, ReadOnlySpan<byte> payload, long position, int index, int count, Crc32 crc)
    {
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], position);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], index);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], count);
        crc.Reset();
        crc.Append(header[4..Size]);
        crc.Append(payload);
        BinaryPrimitives.WriteUInt32LittleEndian(header, crc.GetCurrentHashAsUInt32());
    }

    /// <summary>Whether <paramref name="record"/> (this header followed by its payload) passes its CRC.</summary>
    public bool Matches(ReadOnlySpan<byte> record) => Crc32.HashToUInt32(record[4..(Size + Length)]) == Crc;
}

/// <summary>File names and the small fixed-layout files (snapshot header, epoch record) of a partition folder.</summary>
internal static class EmbeddedFormat
{
    public const string LockFileName = "lock";
    public const string EpochFileName = "epoch";
    public const string TempSuffix = ".tmp";

    // Snapshot file: [0..4) magic, [4..8) CRC-32 of bytes 8.. (position, length and state), [8..16) position,
    // [16..24) state length, then the state.
    public const int SnapshotHeaderSize = 24;
    private const uint SnapshotMagic = 0x31535856; // "VXS1"

    // Epoch file: [0..4) magic, [4..8) CRC-32 of the epoch, [8..16) epoch.
    public const int EpochFileSize = 16;
    private const uint EpochMagic = 0x31455856; // "VXE1"

    private const string SegmentPrefix = "log-";
    private const string SegmentSuffix = ".seg";
    private const string SnapshotPrefix = "snap-";
    private const string SnapshotSuffix = ".bin";
    private const int PositionDigits = 20;

    public static string SegmentName(long firstPosition) =>
        string.Create(CultureInfo.InvariantCulture, $"{SegmentPrefix}{firstPosition:D20}{SegmentSuffix}");

    public static string SnapshotName(long position) =>
        string.Create(CultureInfo.InvariantCulture, $"{SnapshotPrefix}{position:D20}{SnapshotSuffix}");

    public static bool TryParseSegmentName(string fileName, out long firstPosition) =>
        TryParse(fileName, SegmentPrefix, SegmentSuffix, out firstPosition);

    public static bool TryParseSnapshotName(string fileName, out long position) =>
        TryParse(fileName, SnapshotPrefix, SnapshotSuffix, out position);

    public static void WriteSnapshotHeader(Span<byte> header, long position, ReadOnlySpan<byte> state)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, SnapshotMagic);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], position);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], state.Length);
        var crc = new Crc32();
        crc.Append(header[8..SnapshotHeaderSize]);
        crc.Append(state);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], crc.GetCurrentHashAsUInt32());
    }

    /// <summary>
    /// What is wrong with <paramref name="file"/> as the snapshot taken at <paramref name="position"/>, or null when
    /// it is complete and undamaged.
    /// </summary>
    public static string? SnapshotDamage(ReadOnlySpan<byte> file, long position)
    {
        if (file.Length < SnapshotHeaderSize)
        {
            return $"the file is {file.Length} bytes, shorter than the snapshot header";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(file) != SnapshotMagic)
        {
            return "the file does not start with the snapshot magic number";
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(file[4..]);
        var actual = Crc32.HashToUInt32(file[8..]);
        if (actual != stored)
        {
            return $"snapshot CRC mismatch (stored {stored}, computed {actual})";
        }

        var length = BinaryPrimitives.ReadInt64LittleEndian(file[16..]);
        if (length != file.Length - SnapshotHeaderSize)
        {
            return $"the header says {length} bytes of state, the file holds {file.Length - SnapshotHeaderSize}";
        }

        var recorded = BinaryPrimitives.ReadInt64LittleEndian(file[8..]);
        return recorded == position ? null : $"the file holds the snapshot taken at position {recorded}";
    }

    public static void WriteEpoch(Span<byte> file, long epoch)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(file, EpochMagic);
        BinaryPrimitives.WriteInt64LittleEndian(file[8..], epoch);
        BinaryPrimitives.WriteUInt32LittleEndian(file[4..], Crc32.HashToUInt32(file[8..EpochFileSize]));
    }

    public static bool TryReadEpoch(ReadOnlySpan<byte> file, out long epoch)
    {
        epoch = 0;
        if (file.Length != EpochFileSize
            || BinaryPrimitives.ReadUInt32LittleEndian(file) != EpochMagic
            || Crc32.HashToUInt32(file[8..]) != BinaryPrimitives.ReadUInt32LittleEndian(file[4..]))
        {
            return false;
        }

        epoch = BinaryPrimitives.ReadInt64LittleEndian(file[8..]);
        return true;
    }

    private static bool TryParse(string fileName, string prefix, string suffix, out long value)
    {
        value = 0;
        return fileName.Length == prefix.Length + PositionDigits + suffix.Length
            && fileName.StartsWith(prefix, StringComparison.Ordinal)
            && fileName.EndsWith(suffix, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(prefix.Length, PositionDigits), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
