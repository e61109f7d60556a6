using Google.Protobuf;
using Veltrix.Contracts.Storage;
using Veltrix.Contracts.Wire;

namespace Veltrix.Resolver;

/// <summary>
/// Reads a logged <c>LogRecord</c> in place: where its batches are, and its flag set and rollback (rare,
/// read into messages). Replays (recovery, the background snapshot, a rollback's plan) read the batches
/// with <see cref="BatchLayout"/> as the loop did, without building a message per event.
/// </summary>
internal sealed class LoggedEntry
{
    private const uint BatchTag = LogRecordTags.Batch;
    private const uint FlagsTag = LogRecordTags.Flags;
    private const uint RollbackTag = LogRecordTags.Rollback;

    private readonly List<Range> _batches = [];

    /// <summary>Where each batch of the entry last read is, in order.</summary>
    public IReadOnlyList<Range> Batches => _batches;

    /// <summary>The flag set the entry's batches were applied under, when the entry records a new one.</summary>
    public FlagSetImage? Flags { get; private set; }

    public RollbackRecord? Rollback { get; private set; }

    /// <summary>The layout for reading each batch, reused entry after entry.</summary>
    public BatchLayout Layout { get; } = new();

    /// <summary>Reads <paramref name="entry"/>; throws <see cref="InvalidDataException"/> when it is not a well-formed record.</summary>
    public void Read(ReadOnlySpan<byte> entry)
    {
        _batches.Clear();
        Flags = null;
        Rollback = null;
        var reader = new WireReader(entry);
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            switch (tag)
            {
                case BatchTag:
                    var batch = reader.ReadLengthDelimited();
                    _batches.Add(new Range(reader.Position - batch.Length, reader.Position));
                    break;
                case FlagsTag:
                    // A message field given twice is merged, as the generated parser merges it.
                    (Flags ??= new FlagSetImage()).MergeFrom(reader.ReadLengthDelimited());
                    break;
                case RollbackTag:
                    (Rollback ??= new RollbackRecord()).MergeFrom(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.Skip(tag);
                    break;
            }
        }
    }
}
