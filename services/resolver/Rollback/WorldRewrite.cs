using Google.Protobuf;
using Veltrix.Contracts.Wire;
using Veltrix.Contracts.Storage;
using Veltrix.Domain;

namespace Veltrix.Resolver.Rollback;

/// <summary>
/// Replays one world's inputs from a base state through the rules, leaving out the events a rollback
/// voids, the ones the earlier rollbacks voided included. Same rules, same stamps, same recorded flag
/// versions: the result is the world as it would be had the voided events never arrived.
/// </summary>
public sealed class WorldRewrite
{
    private readonly RollbackWindow _window;
    private readonly RollbackWindow[] _earlier;
    private readonly HashSet<long> _earlierPositions;
    private readonly LoggedEntry _entry = new();
    private readonly byte[] _worldId;

    /// <param name="start">The world at <paramref name="position"/> (a new, empty one when it did not exist then).</param>
    /// <param name="position">The log position the replay starts at.</param>
    /// <param name="window">What this rollback voids.</param>
    /// <param name="flags">The flag version in force at <paramref name="position"/>.</param>
    /// <param name="earlier">Rollbacks of this world committed after <paramref name="position"/>.</param>
    public WorldRewrite(World start, FlagSet flags, long position, RollbackWindow window, IEnumerable<RollbackMark> earlier)
    {
        World = start;
        _worldId = System.Text.Encoding.ASCII.GetBytes(start.Id);
        Flags = flags;
        Position = position;
        _window = window;
        var marks = earlier.Where(m => m.WorldId == start.Id).ToArray();
        _earlier = [.. marks.Select(RollbackWindow.Of)];
        _earlierPositions = [.. marks.Select(static m => (long)m.Position)];
    }

    public World World { get; }

    public FlagSet Flags { get; private set; }

    /// <summary>The next log position to apply.</summary>
    public long Position { get; private set; }

    /// <summary>Events this rollback voided.</summary>
    public long Voided { get; private set; }

    /// <summary>Events of the world at or after the window's start applied again.</summary>
    public long Replayed { get; private set; }

    /// <summary>A logged entry held as a message; for tests.</summary>
    public void Apply(long position, LogRecord record) => Apply(position, record.ToByteArray());

    /// <summary>Applies the world's inputs of one logged entry, read in place as the loop's replay reads them.</summary>
    public void Apply(long position, ReadOnlySpan<byte> entry)
    {
        if (position != Position)
        {
            throw new InvalidOperationException($"log entry {position} applied where entry {Position} was expected");
        }
        _entry.Read(entry);
        if (_entry.Flags is not null)
        {
            Flags = PartitionImages.FromImage(_entry.Flags);
        }
        var layout = _entry.Layout;
        foreach (var range in _entry.Batches)
        {
            var batch = entry[range];
            layout.Read(batch);
            foreach (var spawn in layout.Spawns)
            {
                if (spawn.WorldId == World.Id)
                {
                    World.Spawn(spawn.TreasureId, spawn.X, spawn.Y, spawn.Value);
                }
            }
            for (var i = 0; i < layout.Count; i++)
            {
                ApplyEvent(position, WireEvent.Read(layout.EventAt(batch, i)), layout.StampAt(i));
            }
        }
        if (_entry.Rollback is { } rollback && rollback.Mark.WorldId == World.Id && !_earlierPositions.Contains(position))
        {
            // Only a rollback committed while this one was planned gets here; its voids are not known above.
            throw new RollbackConflictException(World.Id, position);
        }
        Position++;
    }

    private void ApplyEvent(long position, WireEvent wire, long stampMs)
    {
        if (!_worldId.AsSpan().SequenceEqual(wire.WorldId))
        {
            return;
        }
        if (!wire.Validate().IsAccepted)
        {
            return;
        }
        Span<char> chars = stackalloc char[EventValidator.MaxIdLength];
        var e = wire.ToGameEvent(World.InternPlayerId(WireIds.ToChars(wire.PlayerId, chars)), World.Id);
        if (_window.Voids(position, e.PlayerId, stampMs))
        {
            Voided++;
            return;
        }
        foreach (var earlier in _earlier)
        {
            if (earlier.Voids(position, e.PlayerId, stampMs))
            {
                return;
            }
        }
        if (stampMs >= _window.FromMs)
        {
            Replayed++;
        }
        World.Apply(in e, stampMs, Flags, out _);
    }
}

/// <summary>Another rollback of the same world was committed meanwhile; plan again.</summary>
public sealed class RollbackConflictException(string worldId, long position)
    : Exception($"world '{worldId}' was rolled back at log entry {position} while this rollback was planned; try again");
