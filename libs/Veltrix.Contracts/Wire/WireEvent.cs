using Veltrix.Domain;

namespace Veltrix.Contracts.Wire;

/// <summary>
/// A <c>veltrix.v1.Event</c> read in place: the ids are the message's own UTF-8 bytes, nothing is
/// allocated. Reads what the generated parser reads: the last of a repeated singular field wins, the last
/// kind of the <c>oneof</c> wins, and a kind message given twice is merged, as the parser merges it.
/// </summary>
public readonly ref struct WireEvent
{
    private const uint PlayerIdTag = (1 << 3) | WireReader.LengthDelimited;
    private const uint WorldIdTag = (2 << 3) | WireReader.LengthDelimited;
    private const uint SeqTag = (3 << 3) | WireReader.Varint;
    private const uint ClientTimeTag = (4 << 3) | WireReader.Varint;
    private const uint XTag = (1 << 3) | WireReader.Varint;
    private const uint YTag = (2 << 3) | WireReader.Varint;

    private WireEvent(ReadOnlySpan<byte> playerId, ReadOnlySpan<byte> worldId, ulong seq, long clientTimeMs, EventKind kind, int x, int y)
    {
        PlayerId = playerId;
        WorldId = worldId;
        Seq = seq;
        ClientTimeMs = clientTimeMs;
        Kind = kind;
        X = x;
        Y = y;
    }

    public ReadOnlySpan<byte> PlayerId { get; }
    public ReadOnlySpan<byte> WorldId { get; }
    public ulong Seq { get; }
    public long ClientTimeMs { get; }
    /// <summary><see cref="EventKind.None"/> when the event has no kind this server knows.</summary>
    public EventKind Kind { get; }
    /// <summary>The target of a Move or Teleport; zero otherwise.</summary>
    public int X { get; }
    public int Y { get; }

    /// <summary>The well-formedness checks of <see cref="EventValidator"/>, on the bytes as read.</summary>
    public Verdict Validate() =>
        EventValidator.Validate(EventValidator.IsValidId(PlayerId), EventValidator.IsValidId(WorldId), Seq, ClientTimeMs, Kind);

    /// <summary>The domain's event, with the id strings the caller found (interned) for these bytes.</summary>
    public GameEvent ToGameEvent(string playerId, string worldId) => new(playerId, worldId, Seq, ClientTimeMs, Kind, X, Y);

    /// <summary>Reads one serialized <c>Event</c>; throws <see cref="InvalidDataException"/> when it is not well-formed.</summary>
    public static WireEvent Read(ReadOnlySpan<byte> message)
    {
        var reader = new WireReader(message);
        ReadOnlySpan<byte> playerId = default;
        ReadOnlySpan<byte> worldId = default;
        ulong seq = 0;
        long clientTime = 0;
        var kind = EventKind.None;
        int x = 0, y = 0;
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            switch (tag)
            {
                case PlayerIdTag:
                    playerId = reader.ReadString();
                    break;
                case WorldIdTag:
                    worldId = reader.ReadString();
                    break;
                case SeqTag:
                    seq = reader.ReadVarint64();
                    break;
                case ClientTimeTag:
                    clientTime = (long)reader.ReadVarint64();
                    break;
                default:
                    var field = tag >> 3;
                    if ((tag & 7) == WireReader.LengthDelimited && field is >= (uint)EventKind.Join and <= (uint)EventKind.Dig)
                    {
                        var next = (EventKind)field;
                        if (next != kind)
                        {
                            // Another kind replaces the previous one, message and all.
                            x = 0;
                            y = 0;
                        }
                        kind = next;
                        var body = reader.ReadLengthDelimited();
                        ReadTarget(body, kind is EventKind.Move or EventKind.Teleport, ref x, ref y);
                    }
                    else
                    {
                        reader.Skip(tag);
                    }
                    break;
            }
        }
        return new WireEvent(playerId, worldId, seq, clientTime, kind, x, y);
    }

    /// <summary>
    /// Writes the event as a serializer would: each field once, in field order, defaults left out, unknown
    /// fields dropped. Never longer than the bytes it was read from, so a buffer of their length holds it.
    /// </summary>
    /// <returns>The bytes written.</returns>
    public int WriteCanonical(Span<byte> destination)
    {
        var at = 0;
        at += WriteBytes(destination[at..], PlayerIdTag, PlayerId);
        at += WriteBytes(destination[at..], WorldIdTag, WorldId);
        at += WriteVarintField(destination[at..], SeqTag, Seq);
        at += WriteVarintField(destination[at..], ClientTimeTag, (ulong)ClientTimeMs);
        if (Kind != EventKind.None)
        {
            destination[at++] = (byte)(((uint)Kind << 3) | WireReader.LengthDelimited);
            var lengthAt = at++;
            var body = WriteVarintField(destination[at..], XTag, ZigZag(X));
            body += WriteVarintField(destination[(at + body)..], YTag, ZigZag(Y));
            destination[lengthAt] = (byte)body; // at most 12 bytes: one length byte
            at += body;
        }
        return at;
    }

    private static ulong ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));

    private static int WriteBytes(Span<byte> destination, uint tag, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return 0;
        }
        destination[0] = (byte)tag;
        var at = 1 + WireReader.WriteVarint(destination[1..], (ulong)value.Length);
        value.CopyTo(destination[at..]);
        return at + value.Length;
    }

    private static int WriteVarintField(Span<byte> destination, uint tag, ulong value)
    {
        if (value == 0)
        {
            return 0;
        }
        destination[0] = (byte)tag;
        return 1 + WireReader.WriteVarint(destination[1..], value);
    }

    private static void ReadTarget(ReadOnlySpan<byte> body, bool hasTarget, ref int x, ref int y)
    {
        var reader = new WireReader(body);
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            if (hasTarget && tag == XTag)
            {
                x = reader.ReadSInt32();
            }
            else if (hasTarget && tag == YTag)
            {
                y = reader.ReadSInt32();
            }
            else
            {
                reader.Skip(tag);
            }
        }
    }
}
