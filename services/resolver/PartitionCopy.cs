using System.Buffers;
using Veltrix.Contracts.Storage;
using DomainPlayerImage = Veltrix.Domain.PlayerImage;

namespace Veltrix.Resolver;

/// <summary>A treasure's state, as a snapshot records it.</summary>
public readonly record struct TreasureCopy(string Id, int X, int Y, long Value, string? ClaimedBy);

/// <summary>One world of a <see cref="PartitionCopy"/>: its players and treasures by value, in pooled arrays.</summary>
public sealed class WorldCopy(string id, DomainPlayerImage[] players, int playerCount, TreasureCopy[] treasures, int treasureCount)
{
    public string Id { get; } = id;

    public Span<DomainPlayerImage> Players => players.AsSpan(0, playerCount);

    public Span<TreasureCopy> Treasures => treasures.AsSpan(0, treasureCount);

    internal void Sort()
    {
        Players.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        Treasures.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
    }

    internal void Return()
    {
        // Cleared so that the pools keep no ids alive.
        Players.Clear();
        Treasures.Clear();
        ArrayPool<DomainPlayerImage>.Shared.Return(players);
        ArrayPool<TreasureCopy>.Shared.Return(treasures);
    }
}

/// <summary>
/// A partition's state at one point, by value: what the loop takes between two turns for a snapshot, so that
/// it stops only to copy (a few values per player; ids are shared, being immutable) while the sorting and the
/// encoding (<see cref="PartitionImages.Write"/>) run in the background. Dispose returns its arrays to the pools.
/// </summary>
public sealed class PartitionCopy : IDisposable
{
    private WorldCopy[] _worlds;
    private bool _sorted;

    private PartitionCopy(uint partition, FlagSetImage flags, long maxStampMs, RollbackMark[] rollbacks, WorldCopy[] worlds)
    {
        Partition = partition;
        Flags = flags;
        MaxStampMs = maxStampMs;
        Rollbacks = rollbacks;
        _worlds = worlds;
    }

    public uint Partition { get; }
    public FlagSetImage Flags { get; }
    public long MaxStampMs { get; }
    public IReadOnlyList<RollbackMark> Rollbacks { get; }
    public IReadOnlyList<WorldCopy> Worlds => _worlds;

    /// <summary>Copies <paramref name="state"/>; on its loop, between turns.</summary>
    public static PartitionCopy Take(PartitionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var worlds = new WorldCopy[state.Worlds.Count];
        var w = 0;
        foreach (var world in state.Worlds)
        {
            var players = ArrayPool<DomainPlayerImage>.Shared.Rent(Math.Max(1, world.Players.Count));
            var playerCount = 0;
            foreach (var player in world.Players)
            {
                players[playerCount++] = DomainPlayerImage.Of(player);
            }
            var treasures = ArrayPool<TreasureCopy>.Shared.Rent(Math.Max(1, world.AllTreasures.Count));
            var treasureCount = 0;
            foreach (var t in world.AllTreasures)
            {
                treasures[treasureCount++] = new TreasureCopy(t.Id, t.X, t.Y, t.Value, t.ClaimedBy);
            }
            worlds[w++] = new WorldCopy(world.Id, players, playerCount, treasures, treasureCount);
        }
        // Rollback marks are never changed once recorded, so the copy shares them.
        return new PartitionCopy((uint)state.Id, PartitionImages.ToImage(state.Flags), state.MaxStampMs, [.. state.Rollbacks], worlds);
    }

    /// <summary>Orders worlds, players and treasures by id, as images are; once.</summary>
    internal void Sort()
    {
        if (_sorted)
        {
            return;
        }
        Array.Sort(_worlds, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        foreach (var world in _worlds)
        {
            world.Sort();
        }
        _sorted = true;
    }

    public void Dispose()
    {
        foreach (var world in _worlds)
        {
            world.Return();
        }
        _worlds = [];
    }
}
