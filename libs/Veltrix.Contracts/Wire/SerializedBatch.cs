using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Veltrix.Contracts.Internal;

namespace Veltrix.Contracts.Wire;

/// <summary>
/// A batch message as its serialized bytes, in a pooled buffer: an <c>EventBatch</c> as ingest receives
/// it, an <c>ApplyBatch</c> as the resolver receives it. The resolver reads it with <see cref="BatchLayout"/>
/// and logs the same bytes, so a batch is never parsed into messages nor written again on its way to the
/// log. <see cref="Dispose"/> returns the buffer: once, when nothing reads the bytes any more.
/// </summary>
public sealed class SerializedBatch : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;
    private readonly bool _pooled;

    private SerializedBatch(byte[] buffer, int length, bool pooled)
    {
        _buffer = buffer;
        _length = length;
        _pooled = pooled;
    }

    public int Length => _length;

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, _length);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(SerializedBatch));

    /// <summary>A copy of <paramref name="payload"/> in a pooled buffer.</summary>
    public static SerializedBatch Copy(in ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = WirePools.Bytes.Rent(Math.Max(length, 1));
        payload.CopyTo(buffer);
        return new SerializedBatch(buffer, length, pooled: true);
    }

    /// <summary>The bytes of <paramref name="batch"/>; for callers that hold a message (tests, tools), not the event path.</summary>
    public static SerializedBatch Of(ApplyBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var bytes = batch.ToByteArray();
        return new SerializedBatch(bytes, bytes.Length, pooled: false);
    }

    /// <summary>Bytes the caller owns and keeps unchanged until the call that sends them has ended; never returned to a pool.</summary>
    public static SerializedBatch Borrow(byte[] buffer, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, buffer.Length);
        return new SerializedBatch(buffer, length, pooled: false);
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null && _pooled)
        {
            WirePools.Bytes.Return(buffer);
        }
    }
}

/// <summary>
/// <c>PartitionWriter.Apply</c> with the batch as bytes (<see cref="SerializedBatch"/>) instead of a parsed
/// <c>ApplyBatch</c>: the same method on the wire, so callers that send messages and callers that send
/// bytes reach the same server.
/// </summary>
public static class PartitionWriterWire
{
    public static readonly Marshaller<SerializedBatch> BatchMarshaller = new(
        static (batch, context) =>
        {
            context.SetPayloadLength(batch.Length);
            context.GetBufferWriter().Write(batch.Span);
            context.Complete();
        },
        static context => SerializedBatch.Copy(context.PayloadAsReadOnlySequence()));

    public static readonly Marshaller<ApplyReply> ReplyMarshaller = MessageMarshaller.For(ApplyReply.Parser);

    public static readonly Method<SerializedBatch, ApplyReply> Apply = new(
        MethodType.Unary, PartitionWriter.Descriptor.FullName, "Apply", BatchMarshaller, ReplyMarshaller);

    public static readonly Method<SerializedBatch, ApplyReply> ApplyStream = new(
        MethodType.DuplexStreaming, PartitionWriter.Descriptor.FullName, "ApplyStream", BatchMarshaller, ReplyMarshaller);
}

/// <summary>Marshallers for generated messages, for methods bound by hand beside ones with custom marshallers.</summary>
public static class MessageMarshaller
{
    public static Marshaller<T> For<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        return new Marshaller<T>(
            static (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context => parser.ParseFrom(context.PayloadAsReadOnlySequence()));
    }
}
