using Veltrix.Contracts.Internal;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>
/// Every spawn that is scheduled and not yet acknowledged by its partition: the state a spawn actor would own.
/// A spawn is <em>waiting</em> until it is taken as due, then <em>fired</em> until <see cref="Remove"/>; it is
/// pending, listed and counted, in both. A spawn is named by a handle, the number of its slot, which stays its
/// own until it is removed. Not thread-safe: exactly one owner (the scheduler's gate, an actor turn).
/// <para>
/// A million timers are pending at once, and each lives for seconds to hours, so their shape decides what the
/// GC does: each spawn is a struct in pages of slots (allocated once, reused through a free list), the waiting
/// order is a heap of (handle, due key) structs, and each world maps ids to handles. What remains on the heap
/// per spawn is its id string; the <see cref="Spawn"/> message is built only when the spawn fires.
/// </para>
/// </summary>
internal sealed class PendingSpawns
{
    // 4,096 slots of 56 bytes: each page is allocated once on the large-object heap and never moved.
    private const int PageShift = 12;
    private const int PageSize = 1 << PageShift;
    private const int PageMask = PageSize - 1;
    private const int NoSlot = -1;

    private static readonly Comparer<DueKey> LatestFirst = Comparer<DueKey>.Create(static (a, b) => b.CompareTo(a));

    // Waiting spawns only, by due time: what the timer is armed for. Keys sit in the heap's own array, so sifting
    // through a million entries compares in place instead of chasing a reference per step.
    private readonly PriorityQueue<int, DueKey> _waiting = new();

    // Every pending spawn, per world, by id: a repeated ScheduleOnce finds its twin.
    private readonly Dictionary<string, WorldSpawns> _worlds = new(StringComparer.Ordinal);

    private Slot[][] _pages = [];
    private int _used;
    private int _free = NoSlot;
    private long _sequence;

    public int Count { get; private set; }

    /// <summary>Due time of the earliest waiting spawn; <see cref="long.MaxValue"/> when none waits.</summary>
    public long NextDueMs => _waiting.TryPeek(out _, out var next) ? next.DueMs : long.MaxValue;

    public bool TryFind(string worldId, string treasureId, out ScheduledSpawn spawn)
    {
        if (_worlds.TryGetValue(worldId, out var world) && world.ById.TryGetValue(treasureId, out var handle))
        {
            spawn = View(handle);
            return true;
        }
        spawn = default;
        return false;
    }

    /// <summary>
    /// Adds a waiting spawn and returns its handle. The caller has checked capacity and that the id is not
    /// pending in the world.
    /// </summary>
    public int Add(string worldId, string treasureId, int x, int y, long value, long dueMs, int partition)
    {
        if (!_worlds.TryGetValue(worldId, out var world))
        {
            world = new WorldSpawns(worldId, partition);
            _worlds.Add(worldId, world);
        }
        var handle = TakeSlot();
        ref var slot = ref At(handle);
        slot.World = world;
        slot.TreasureId = treasureId;
        slot.X = x;
        slot.Y = y;
        slot.Value = value;
        slot.DueMs = dueMs;
        slot.Sequence = ++_sequence;
        world.ById.Add(treasureId, handle);
        _waiting.Enqueue(handle, new DueKey(dueMs, slot.Sequence));
        Count++;
        return handle;
    }

    /// <summary>Takes the earliest waiting spawn if it is due at <paramref name="nowMs"/>; it stays pending.</summary>
    public bool TryTakeDue(long nowMs, out int handle)
    {
        if (_waiting.TryPeek(out handle, out var key) && key.DueMs <= nowMs)
        {
            _waiting.Dequeue();
            return true;
        }
        handle = NoSlot;
        return false;
    }

    /// <summary>The partition whose stream a pending spawn goes to.</summary>
    public int PartitionOf(int handle) => At(handle).World!.Partition;

    /// <summary>The message a pending spawn is sent as, stamped with when it entered the stream.</summary>
    public Spawn ToMessage(int handle, long stampMs)
    {
        ref readonly var slot = ref At(handle);
        return new Spawn
        {
            // The world's own id string is shared by all its spawns instead of one copy per request.
            WorldId = slot.World!.Id,
            TreasureId = slot.TreasureId,
            X = slot.X,
            Y = slot.Y,
            Value = slot.Value,
            StampMs = stampMs,
        };
    }

    /// <summary>Forgets a fired spawn once its partition has acknowledged it; its handle may then name another.</summary>
    public void Remove(int handle)
    {
        ref var slot = ref At(handle);
        var world = slot.World!;
        world.ById.Remove(slot.TreasureId);
        if (world.ById.Count == 0)
        {
            _worlds.Remove(world.Id);
        }
        slot = default;
        slot.NextFree = _free;
        _free = handle;
        Count--;
    }

    /// <summary>
    /// Copies up to <paramref name="limit"/> pending spawns of one world (or of all when
    /// <paramref name="worldId"/> is null) in due order and returns how many are pending there in all. It reads
    /// every spawn of the world (or every slot), keeping the earliest <paramref name="limit"/> in a bounded heap:
    /// an operator's listing, not a path that runs per spawn.
    /// </summary>
    public int CopyInDueOrder(string? worldId, int limit, List<ScheduledSpawn> into)
    {
        var earliest = new PriorityQueue<int, DueKey>(limit + 1, LatestFirst);
        if (worldId is not null)
        {
            if (!_worlds.TryGetValue(worldId, out var world))
            {
                return 0;
            }
            foreach (var handle in world.ById.Values)
            {
                Keep(earliest, handle, limit);
            }
        }
        else
        {
            for (var handle = 0; handle < _used; handle++)
            {
                if (At(handle).World is not null)
                {
                    Keep(earliest, handle, limit);
                }
            }
        }

        // The heap gives the latest first: fill the page from its end.
        var start = into.Count;
        for (var i = 0; i < earliest.Count; i++)
        {
            into.Add(default);
        }
        for (var i = into.Count - 1; i >= start; i--)
        {
            into[i] = View(earliest.Dequeue());
        }
        return worldId is null ? Count : _worlds[worldId].ById.Count;
    }

    private void Keep(PriorityQueue<int, DueKey> earliest, int handle, int limit)
    {
        ref readonly var slot = ref At(handle);
        var key = new DueKey(slot.DueMs, slot.Sequence);
        if (earliest.Count < limit)
        {
            earliest.Enqueue(handle, key);
        }
        else if (earliest.TryPeek(out _, out var latest) && key.CompareTo(latest) < 0)
        {
            earliest.DequeueEnqueue(handle, key);
        }
    }

    private ScheduledSpawn View(int handle)
    {
        ref readonly var slot = ref At(handle);
        return new ScheduledSpawn(slot.World!.Id, slot.TreasureId, slot.X, slot.Y, slot.Value, slot.DueMs);
    }

    private ref Slot At(int handle) => ref _pages[handle >> PageShift][handle & PageMask];

    private int TakeSlot()
    {
        if (_free != NoSlot)
        {
            var reused = _free;
            _free = At(reused).NextFree;
            return reused;
        }
        var handle = _used;
        var page = handle >> PageShift;
        if (page == _pages.Length || _pages[page] is null)
        {
            if (page == _pages.Length)
            {
                Array.Resize(ref _pages, Math.Max(4, _pages.Length * 2));
            }
            _pages[page] = new Slot[PageSize];
        }
        _used++;
        return handle;
    }

    private struct Slot
    {
        // Null while the slot is free.
        public WorldSpawns? World;
        public string TreasureId;
        public long Value;
        public long DueMs;
        public long Sequence;
        public int X;
        public int Y;
        public int NextFree;
    }

    private sealed class WorldSpawns(string id, int partition)
    {
        public string Id { get; } = id;
        public int Partition { get; } = partition;
        public Dictionary<string, int> ById { get; } = new(StringComparer.Ordinal);
    }
}
