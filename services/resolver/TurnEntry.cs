using Google.Protobuf;
using Veltrix.Contracts.Storage;
using Veltrix.Contracts.Wire;

namespace Veltrix.Resolver;

/// <summary>
/// The log entry of one partition turn, a <c>LogRecord</c> on the wire, written from its parts: the
/// batches as the bytes they arrived in (never parsed into messages, never serialized again), and the
/// flag set or rollback when the turn has one.
/// </summary>
internal sealed class TurnEntry
{
    private const byte BatchTag = LogRecordTags.Batch;
    private const byte FlagsTag = LogRecordTags.Flags;
    private const byte RollbackTag = LogRecordTags.Rollback;

    private readonly List<ReadOnlyMemory<byte>> _batches = [];

    /// <summary>True once the turn added anything to its entry; the turn then appends it.</summary>
    public bool Started { get; private set; }

    public FlagSetImage? Flags { get; private set; }

    public RollbackRecord? Rollback { get; private set; }

    public void Start(FlagSetImage? flags)
    {
        Started = true;
        Flags ??= flags;
    }

    /// <summary>Adds a batch's bytes; the caller keeps them unchanged until the entry is written.</summary>
    public void AddBatch(ReadOnlyMemory<byte> batch) => _batches.Add(batch);

    /// <summary>Makes the entry a rollback's: it holds nothing else.</summary>
    public void SetRollback(RollbackRecord rollback)
    {
        _batches.Clear();
        Rollback = rollback;
    }

    public int CalculateSize()
    {
        var size = 0;
        foreach (var batch in _batches)
        {
            size += FieldSize(batch.Length);
        }
        if (Flags is not null)
        {
            size += FieldSize(Flags.CalculateSize());
        }
        if (Rollback is not null)
        {
            size += FieldSize(Rollback.CalculateSize());
        }
        return size;
    }

    /// <summary>Writes the entry into <paramref name="destination"/>, exactly <see cref="CalculateSize"/> bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        var at = 0;
        if (Flags is not null)
        {
            at += WriteMessage(destination[at..], FlagsTag, Flags);
        }
        foreach (var batch in _batches)
        {
            destination[at++] = BatchTag;
            at += WireReader.WriteVarint(destination[at..], (ulong)batch.Length);
            batch.Span.CopyTo(destination[at..]);
            at += batch.Length;
        }
        if (Rollback is not null)
        {
            at += WriteMessage(destination[at..], RollbackTag, Rollback);
        }
        if (at != destination.Length)
        {
            throw new InvalidOperationException($"log entry wrote {at} bytes where {destination.Length} were sized");
        }
    }

    public void Clear()
    {
        _batches.Clear();
        Flags = null;
        Rollback = null;
        Started = false;
    }

    private static int FieldSize(int length) => 1 + WireReader.VarintSize((ulong)length) + length;

    private static int WriteMessage(Span<byte> destination, byte tag, IMessage message)
    {
        var length = message.CalculateSize();
        destination[0] = tag;
        var at = 1 + WireReader.WriteVarint(destination[1..], (ulong)length);
        message.WriteTo(destination.Slice(at, length));
        return at + length;
    }
}

/// <summary>The tags of <c>LogRecord</c>'s fields, all length-delimited, for the code that writes and reads entries in place.</summary>
internal static class LogRecordTags
{
    public const byte Batch = (1 << 3) | WireReader.LengthDelimited;
    public const byte Flags = (2 << 3) | WireReader.LengthDelimited;
    public const byte Rollback = (3 << 3) | WireReader.LengthDelimited;
}
