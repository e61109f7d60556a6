using System.Runtime.CompilerServices;

namespace Veltrix.Contracts.Wire;

/// <summary>
/// Reads protobuf wire format from a span without building messages: the event path reads batches of
/// thousands of events into reused structures instead of an object graph per event. Follows the
/// protobuf rules the generated parsers follow (fields in any order, the last value of a singular field
/// wins, unknown fields and fields of an unexpected wire type are skipped) and throws
/// <see cref="InvalidDataException"/> on anything that is not well-formed wire format.
/// </summary>
public ref struct WireReader(ReadOnlySpan<byte> data)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int StartGroup = 3;
    public const int EndGroup = 4;
    public const int Fixed32 = 5;

    private const int MaxGroupDepth = 64;

    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>The next field's tag (field number &lt;&lt; 3 | wire type).</summary>
    public uint ReadTag()
    {
        // As the generated parsers read it: a varint's low 32 bits.
        var tag = (uint)ReadVarint64();
        if ((tag >> 3) == 0)
        {
            throw Malformed("a field number is 0");
        }
        return tag;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint64()
    {
        // Tags, lengths and small numbers take one byte: the common case stays inline.
        var position = _position;
        if ((uint)position < (uint)_data.Length && _data[position] < 0x80)
        {
            _position = position + 1;
            return _data[position];
        }
        return ReadVarint64Slow();
    }

    private ulong ReadVarint64Slow()
    {
        var data = _data;
        var position = _position;
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if ((uint)position >= (uint)data.Length)
            {
                throw Malformed("a varint runs past the end");
            }
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                _position = position;
                return value;
            }
        }
        throw Malformed("a varint is longer than 10 bytes");
    }

    /// <summary>A uint32 or int32 field: the varint's low 32 bits, as the generated parsers take them.</summary>
    public uint ReadVarint32() => (uint)ReadVarint64();

    /// <summary>A sint32 field (zigzag).</summary>
    public int ReadSInt32()
    {
        var n = ReadVarint32();
        return (int)(n >> 1) ^ -(int)(n & 1);
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint64();
        if (length > (ulong)(_data.Length - _position))
        {
            throw Malformed("a length-delimited field runs past the end");
        }
        var slice = _data.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    /// <summary>A string field's bytes; like the generated parsers, refuses bytes that are not UTF-8.</summary>
    public ReadOnlySpan<byte> ReadString()
    {
        var value = ReadLengthDelimited();
        if (!System.Text.Unicode.Utf8.IsValid(value))
        {
            throw Malformed("a string is not valid UTF-8");
        }
        return value;
    }

    /// <summary>Where the reader is, for callers that keep a field's place (offsets into the same span).</summary>
    public readonly int Position => _position;

    /// <summary>Skips the value of the field whose tag was just read.</summary>
    public void Skip(uint tag) => Skip(tag, 0);

    private void Skip(uint tag, int depth)
    {
        switch ((int)(tag & 7))
        {
            case Varint:
                ReadVarint64();
                break;
            case Fixed64:
                Advance(8);
                break;
            case LengthDelimited:
                ReadLengthDelimited();
                break;
            case Fixed32:
                Advance(4);
                break;
            case StartGroup:
                if (depth >= MaxGroupDepth)
                {
                    throw Malformed("groups are nested too deep");
                }
                while (true)
                {
                    if (AtEnd)
                    {
                        throw Malformed("a group has no end");
                    }
                    var inner = ReadTag();
                    if ((inner & 7) == EndGroup)
                    {
                        if (inner >> 3 != tag >> 3)
                        {
                            throw Malformed("a group ends with another field's number");
                        }
                        return;
                    }
                    Skip(inner, depth + 1);
                }
            default:
                throw Malformed("a field has an unknown wire type");
        }
    }

    private void Advance(int count)
    {
        if (count > _data.Length - _position)
        {
            throw Malformed("a fixed-size field runs past the end");
        }
        _position += count;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidDataException Malformed(string what) => new($"malformed protobuf: {what}");

    /// <summary>The number of bytes <paramref name="value"/> takes as a varint.</summary>
    public static int VarintSize(ulong value) => value == 0 ? 1 : (64 - System.Numerics.BitOperations.LeadingZeroCount(value) + 6) / 7;

    /// <summary>Writes <paramref name="value"/> as a varint; returns the bytes written.</summary>
    public static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }
}
