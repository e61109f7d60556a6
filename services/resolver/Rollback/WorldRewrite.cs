using Veltrix.Contracts;
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

    /// <param name="start">The world at <paramref name="position"/> (a new, empty one when it did not exist then).</param>
    /// <param name="position">The log position the replay starts at.</param>
    /// <param name="window">What this rollback voids.</param>
    /// <param name="flags">The flag version in force at <paramref name="position"/>.</param>
    /// <param name="earlier">Rollbacks of this world committed after <paramref name="position"/>.</param>
    public WorldRewrite(World start, FlagSet flags, long position, RollbackWindow window, IEnumerable<RollbackMark> earlier)
    {
        World = start;
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

    public void Apply(long position, ReadOnlySpan<byte> entry) => Apply(position, LogRecord.Parser.ParseFrom(entry));

    public void Apply(long position, LogRecord record)
    {
        if (position != Position)
        {
            throw new InvalidOperationException($"log entry {position} applied where entry {Position} was expected");
        }
        if (record.Flags is not null)
        {
            Flags = PartitionImages.FromImage(record.Flags);
        }
        foreach (var batch in record.Batches)
        {
            foreach (var spawn in batch.Spawns)
            {
                if (spawn.WorldId == World.Id)
                {
                    World.Spawn(spawn.TreasureId, spawn.X, spawn.Y, spawn.Value);
                }
            }
            var events = batch.Events;
            for (var i = 0; i < events.Count; i++)
            {
                if (events[i].WorldId == World.Id)
                {
                    ApplyEvent(position, events[i], batch.StampsMs[i]);
                }
            }
        }
        if (record.Rollback is { } rollback && rollback.Mark.WorldId == World.Id && !_earlierPositions.Contains(position))
        {
            // Only a rollback committed while this one was planned gets here; its voids are not known above.
            throw new RollbackConflictException(World.Id, position);
        }
        Position++;
    }

    private void ApplyEvent(long position, Contracts.V1.Event wire, long stampMs)
    {
        var e = wire.ToGameEvent();
        if (!EventValidator.Validate(in e).IsAccepted)
        {
            return;
        }
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
