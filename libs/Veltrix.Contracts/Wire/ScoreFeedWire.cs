using Grpc.Core;
using Veltrix.Contracts.Internal;

namespace Veltrix.Contracts.Wire;

/// <summary>
/// <c>ScoreFeed.Subscribe</c> with each <c>ScoreChanges</c> message as its bytes (<see cref="SerializedBatch"/>),
/// for a leaderboard that reads changes in place and for whatever stands in for a resolver's feed.
/// </summary>
public static class ScoreFeedWire
{
    public static readonly Method<ScoreFeedRequest, SerializedBatch> Subscribe = new(
        MethodType.ServerStreaming, ScoreFeed.Descriptor.FullName, "Subscribe",
        MessageMarshaller.For(ScoreFeedRequest.Parser), PartitionWriterWire.BatchMarshaller);
}

/// <summary>One <c>ScoreChange</c> as read off the wire: the ids as the message's own bytes.</summary>
public readonly ref struct WireScoreChange(ReadOnlySpan<byte> worldId, ReadOnlySpan<byte> playerId, long score, long reachedAtMs, bool removed)
{
    public ReadOnlySpan<byte> WorldId { get; } = worldId;
    public ReadOnlySpan<byte> PlayerId { get; } = playerId;
    public long Score { get; } = score;
    public long ReachedAtMs { get; } = reachedAtMs;
    public bool Removed { get; } = removed;
}

/// <summary>
/// Reads a serialized <c>ScoreChanges</c> in place: its flags, then its changes one by one, with the generated
/// parser's rules (the last value of a repeated scalar wins, unknown fields are skipped, strings must be UTF-8).
/// Throws <see cref="InvalidDataException"/> on bytes that are not such a message.
/// </summary>
public ref struct ScoreChangesReader
{
    private const uint ChangeTag = (1 << 3) | WireReader.LengthDelimited;
    private const uint SnapshotTag = 2 << 3;
    private const uint SnapshotDoneTag = 3 << 3;
    private const uint WorldTag = (1 << 3) | WireReader.LengthDelimited;
    private const uint PlayerTag = (2 << 3) | WireReader.LengthDelimited;
    private const uint ScoreTag = 3 << 3;
    private const uint ReachedAtTag = 4 << 3;
    private const uint RemovedTag = 5 << 3;

    private WireReader _reader;

    public ScoreChangesReader(ReadOnlySpan<byte> message)
    {
        _reader = new WireReader(message);
        // The flags may come anywhere in the message: one pass over its top level finds them.
        var scan = new WireReader(message);
        while (!scan.AtEnd)
        {
            var tag = scan.ReadTag();
            switch (tag)
            {
                case SnapshotTag:
                    Snapshot = scan.ReadVarint64() != 0;
                    break;
                case SnapshotDoneTag:
                    SnapshotDone = scan.ReadVarint64() != 0;
                    break;
                default:
                    scan.Skip(tag);
                    break;
            }
        }
    }

    /// <summary>Part of the initial snapshot.</summary>
    public bool Snapshot { get; }

    /// <summary>The snapshot of every partition has been sent.</summary>
    public bool SnapshotDone { get; }

    /// <summary>The next change; false at the end of the message.</summary>
    public bool TryRead(out WireScoreChange change)
    {
        while (!_reader.AtEnd)
        {
            var tag = _reader.ReadTag();
            if (tag == ChangeTag)
            {
                change = ReadChange(_reader.ReadLengthDelimited());
                return true;
            }
            _reader.Skip(tag);
        }
        change = default;
        return false;
    }

    private static WireScoreChange ReadChange(ReadOnlySpan<byte> bytes)
    {
        var reader = new WireReader(bytes);
        ReadOnlySpan<byte> world = default, player = default;
        long score = 0, reachedAt = 0;
        var removed = false;
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            switch (tag)
            {
                case WorldTag:
                    world = reader.ReadString();
                    break;
                case PlayerTag:
                    player = reader.ReadString();
                    break;
                case ScoreTag:
                    score = (long)reader.ReadVarint64();
                    break;
                case ReachedAtTag:
                    reachedAt = (long)reader.ReadVarint64();
                    break;
                case RemovedTag:
                    removed = reader.ReadVarint64() != 0;
                    break;
                default:
                    reader.Skip(tag);
                    break;
            }
        }
        return new WireScoreChange(world, player, score, reachedAt, removed);
    }
}
