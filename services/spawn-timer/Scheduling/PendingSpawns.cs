using System.Diagnostics.CodeAnalysis;
using Veltrix.Contracts.Internal;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>
/// Every spawn that is scheduled and not yet acknowledged by its partition: the state a spawn actor would own.
/// A spawn is <em>waiting</em> until it is taken as due, then <em>fired</em> until <see cref="Remove"/>; it is
/// pending, listed and counted, in both. Not thread-safe: exactly one owner (the scheduler's gate, an actor turn).
/// </summary>
internal sealed class PendingSpawns
{
    // Waiting spawns only, by due time: what the timer is armed for. The key is a struct kept in the heap's own
    // array, so sifting through a million entries compares in place instead of chasing a pointer per step.
    private readonly PriorityQueue<ScheduledSpawn, DueKey> _waiting = new();

    // Every pending spawn, per world: ordered for ListPending, by id so a repeated ScheduleOnce finds its twin.
    private readonly Dictionary<string, WorldSpawns> _worlds = new(StringComparer.Ordinal);
    private long _sequence;

    public int Count { get; private set; }

    /// <summary>Due time of the earliest waiting spawn; <see cref="long.MaxValue"/> when none waits.</summary>
    public long NextDueMs => _waiting.TryPeek(out _, out var next) ? next.DueMs : long.MaxValue;

    public ScheduledSpawn? Find(string worldId, string treasureId) =>
        _worlds.TryGetValue(worldId, out var world) && world.ById.TryGetValue(treasureId, out var spawn) ? spawn : null;

    /// <summary>Adds a waiting spawn. The caller has checked capacity and that the id is not pending in the world.</summary>
    public ScheduledSpawn Add(string worldId, string treasureId, int x, int y, long value, long dueMs, int partition)
    {
        if (!_worlds.TryGetValue(worldId, out var world))
        {
            world = new WorldSpawns(worldId);
            _worlds.Add(worldId, world);
        }
        // The world's own id string is shared by all its spawns instead of one copy per request.
        var message = new Spawn { WorldId = world.Id, TreasureId = treasureId, X = x, Y = y, Value = value };
        var spawn = new ScheduledSpawn(message, new DueKey(dueMs, ++_sequence), partition);
        world.ById.Add(treasureId, spawn);
        world.ByDue.Add(spawn);
        _waiting.Enqueue(spawn, spawn.Key);
        Count++;
        return spawn;
    }

    /// <summary>Takes the earliest waiting spawn if it is due at <paramref name="nowMs"/>; it stays pending.</summary>
    public bool TryTakeDue(long nowMs, [NotNullWhen(true)] out ScheduledSpawn? spawn)
    {
        if (_waiting.TryPeek(out spawn, out var key) && key.DueMs <= nowMs)
        {
            _waiting.Dequeue();
            return true;
        }
        spawn = null;
        return false;
    }

    /// <summary>Forgets a fired spawn once its partition has acknowledged it.</summary>
    public void Remove(ScheduledSpawn spawn)
    {
        var world = _worlds[spawn.Message.WorldId];
        if (!world.ById.Remove(spawn.Message.TreasureId))
        {
            return;
        }
        world.ByDue.Remove(spawn);
        Count--;
        if (world.ById.Count == 0)
        {
            _worlds.Remove(world.Id);
        }
    }

    /// <summary>
    /// Copies up to <paramref name="limit"/> pending spawns of one world (or of all when
    /// <paramref name="worldId"/> is null) in due order and returns how many are pending there in all.
    /// </summary>
    public int CopyInDueOrder(string? worldId, int limit, List<ScheduledSpawn> into)
    {
        if (worldId is not null)
        {
            if (!_worlds.TryGetValue(worldId, out var world))
            {
                return 0;
            }
            foreach (var spawn in world.ByDue)
            {
                if (into.Count == limit)
                {
                    break;
                }
                into.Add(spawn);
            }
            return world.ById.Count;
        }

        // A k-way merge of the per-world orders: O(worlds + limit log worlds), never a sort of everything.
        var heads = new PriorityQueue<SortedSet<ScheduledSpawn>.Enumerator, DueKey>(_worlds.Count);
        foreach (var world in _worlds.Values)
        {
            var cursor = world.ByDue.GetEnumerator();
            if (cursor.MoveNext())
            {
                heads.Enqueue(cursor, cursor.Current.Key);
            }
        }
        while (into.Count < limit && heads.TryDequeue(out var cursor, out _))
        {
            into.Add(cursor.Current);
            if (cursor.MoveNext())
            {
                heads.Enqueue(cursor, cursor.Current.Key);
            }
        }
        return Count;
    }

    private sealed class WorldSpawns(string id)
    {
        public string Id { get; } = id;
        public Dictionary<string, ScheduledSpawn> ById { get; } = new(StringComparer.Ordinal);
        public SortedSet<ScheduledSpawn> ByDue { get; } = new(DueOrder.Instance);
    }
}
