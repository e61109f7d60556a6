using Google.Protobuf;
using Grpc.Core;
using Veltrix.Contracts.Wire;

namespace Veltrix.Leaderboard;

/// <summary>
/// A BoardFrame as bytes: the frame of a board's top, encoded once per version and shared by every watcher
/// of that top (<see cref="TopView.Encoded"/>), and this watcher's <c>sent_at_ms</c>, written after those bytes as
/// the frame goes out (a field may come anywhere in a message). A watcher keeps one and fills it before each
/// write: the write has serialized it by the time it completes.
/// </summary>
internal sealed class FrameBytes
{
    // BoardFrame.sent_at_ms: field 5, varint.
    private const byte SentAtTag = 5 << 3;

    private byte[] _shared = [];
    private int _length;

    public long SentAtMs { get; set; }

    /// <summary>Sends <paramref name="length"/> bytes of <paramref name="frame"/>, a serialized BoardFrame without sent_at_ms.</summary>
    public void Set(byte[] frame, int length)
    {
        _shared = frame;
        _length = length;
    }

    public int Length => _length + 1 + WireReader.VarintSize((ulong)SentAtMs);

    public void WriteTo(Span<byte> destination)
    {
        _shared.AsSpan(0, _length).CopyTo(destination);
        destination[_length] = SentAtTag;
        WireReader.WriteVarint(destination[(_length + 1)..], (ulong)SentAtMs);
    }

    /// <summary>The whole frame as a new array (tests).</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    public static readonly Marshaller<FrameBytes> Marshaller = new(
        static (frame, context) =>
        {
            var length = frame.Length;
            context.SetPayloadLength(length);
            var writer = context.GetBufferWriter();
            frame.WriteTo(writer.GetSpan(length));
            writer.Advance(length);
            context.Complete();
        },
        static _ => throw new NotSupportedException("frames are only written"));

    /// <summary>The serialized form of <paramref name="frame"/>, which must not set sent_at_ms.</summary>
    public static byte[] Encode(Contracts.V1.BoardFrame frame) => frame.ToByteArray();
}
