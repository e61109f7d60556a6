using Veltrix.Contracts.Internal;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>
/// Every spawn that is scheduled and not yet acknowledged by its partition: the state a spawn actor would own.
/// A spawn is <em>waiting</em> until it is taken as due, then <em>fired</em> until <see cref="Remove"/>; it is
/// pending, listed and counted, in both. A spawn is named by a handle, the number of its slot, which stays its
/// own until it is removed. Not thread-safe: exactly one owner (the scheduler's gate, an actor turn).
/// <para>
/// A million timers are pending at once, each for seconds to hours, so their shape decides what the GC does and
/// how much memory the service holds. Nothing on the heap is per spawn: each spawn is a 64-byte struct in pages of
/// slots (allocated once, reused through a free list) with its treasure id packed in it (<see cref="ShortId"/>;
/// only ids that do not pack keep a string); the waiting order is a heap of (handle, due key) structs; one
/// open-addressing table of handles finds a spawn by world and id. The <see cref="Spawn"/> message is built
/// only when the spawn fires.
/// </para>
/// </summary>
internal sealed class PendingSpawns
{
    // 4,096 slots of 64 bytes: each page is allocated once on the large-object heap and never moved.
    private const int PageShift = 12;
    private const int PageSize = 1 << PageShift;
    private const int PageMask = PageSize - 1;
    private const int NoSlot = -1;

    private static readonly Comparer<DueKey> LatestFirst = Comparer<DueKey>.Create(static (a, b) => b.CompareTo(a));

    // Waiting spawns only, by due time: what the timer is armed for. Keys sit in the heap's own array, so sifting
    // through a million entries compares in place instead of reading a slot per step.
    private readonly PriorityQueue<int, DueKey> _waiting = new();

    // Worlds with a pending spawn, by id and by number; a world's number is free again once it has none.
    private readonly Dictionary<string, WorldSpawns> _worlds = new(StringComparer.Ordinal);
    private readonly Stack<int> _freeWorlds = new();
    private WorldSpawns?[] _worldsByNumber = [];
    private int _worldNumbers;

    private readonly Stack<int> _freeSlots = new();
    private Slot[][] _pages = [];
    private int _slotsUsed;

    // By (world, treasure id): handle + 1 per cell, 0 for an empty one; linear probing, at most half full.
    private int[] _byId = new int[16];
    private long _sequence;

    public int Count { get; private set; }

    /// <summary>Due time of the earliest waiting spawn; <see cref="long.MaxValue"/> when none waits.</summary>
    public long NextDueMs => _waiting.TryPeek(out _, out var next) ? next.DueMs : long.MaxValue;

    public bool TryFind(string worldId, string treasureId, out ScheduledSpawn spawn)
    {
        if (_worlds.TryGetValue(worldId, out var world))
        {
            var id = IdKey.Of(treasureId);
            var handle = Lookup(world.Number, id, HashOf(world.Number, id));
            if (handle != NoSlot)
            {
                spawn = View(handle);
                return true;
            }
        }
        spawn = default;
        return false;
    }

    /// <summary>
    /// Adds a waiting spawn and returns its handle. The caller has checked capacity, that the id is not pending in
    /// the world and that the value is within the contract's limits.
    /// </summary>
    public int Add(string worldId, string treasureId, int x, int y, long value, long dueMs, int partition)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, int.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(value, int.MinValue);
        var world = WorldFor(worldId, partition);
        var id = IdKey.Of(treasureId);
        var handle = TakeSlot();
        ref var slot = ref At(handle);
        slot.IdLow = id.Short.Low;
        slot.IdHigh = id.Short.High;
        slot.ShortLength = (byte)id.Short.Length;
        slot.LongId = id.Long;
        slot.World = world.Number;
        slot.Hash = HashOf(world.Number, id);
        slot.X = x;
        slot.Y = y;
        slot.Value = (int)value;
        slot.DueMs = dueMs;
        slot.Sequence = ++_sequence;
        world.Count++;
        Count++;
        Index(handle, slot.Hash);
        _waiting.Enqueue(handle, new DueKey(dueMs, slot.Sequence));
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
    public int PartitionOf(int handle) => _worldsByNumber[At(handle).World]!.Partition;

    /// <summary>The message a pending spawn is sent as, stamped with when it entered the stream.</summary>
    public Spawn ToMessage(int handle, long stampMs)
    {
        ref readonly var slot = ref At(handle);
        return new Spawn
        {
            // The world's own id string is shared by all its spawns instead of one copy per spawn.
            WorldId = _worldsByNumber[slot.World]!.Id,
            TreasureId = IdOf(slot),
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
        Unindex(handle, slot.Hash);
        var world = _worldsByNumber[slot.World]!;
        if (--world.Count == 0)
        {
            _worlds.Remove(world.Id);
            _worldsByNumber[world.Number] = null;
            _freeWorlds.Push(world.Number);
        }
        slot = default;
        _freeSlots.Push(handle);
        Count--;
    }

    /// <summary>
    /// Copies up to <paramref name="limit"/> pending spawns of one world (or of all when
    /// <paramref name="worldId"/> is null) in due order and returns how many are pending there in all. It reads
    /// every slot, keeping the earliest <paramref name="limit"/> in a bounded heap: about a millisecond per
    /// 100,000 pending spawns, for an operator's listing, not for a path that runs per spawn.
    /// </summary>
    public int CopyInDueOrder(string? worldId, int limit, List<ScheduledSpawn> into)
    {
        var world = -1;
        var total = Count;
        if (worldId is not null)
        {
            if (!_worlds.TryGetValue(worldId, out var found))
            {
                return 0;
            }
            world = found.Number;
            total = found.Count;
        }

        var earliest = new PriorityQueue<int, DueKey>(limit + 1, LatestFirst);
        for (var handle = 0; handle < _slotsUsed; handle++)
        {
            ref readonly var slot = ref At(handle);
            if (slot.Sequence == 0 || (world >= 0 && slot.World != world))
            {
                continue;
            }
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
        return total;
    }

    private ScheduledSpawn View(int handle)
    {
        ref readonly var slot = ref At(handle);
        return new ScheduledSpawn(_worldsByNumber[slot.World]!.Id, IdOf(slot), slot.X, slot.Y, slot.Value, slot.DueMs);
    }

    private static string IdOf(in Slot slot) =>
        slot.LongId ?? new ShortId(slot.IdLow, slot.IdHigh, slot.ShortLength).ToString();

    private static int HashOf(int world, IdKey id) =>
        id.Long is null ? HashCode.Combine(world, id.Short) : HashCode.Combine(world, id.Long);

    private ref Slot At(int handle) => ref _pages[handle >> PageShift][handle & PageMask];

    private WorldSpawns WorldFor(string worldId, int partition)
    {
        if (_worlds.TryGetValue(worldId, out var world))
        {
            return world;
        }
        if (!_freeWorlds.TryPop(out var number))
        {
            number = _worldNumbers++;
            if (number == _worldsByNumber.Length)
            {
                Array.Resize(ref _worldsByNumber, Math.Max(16, number * 2));
            }
        }
        world = new WorldSpawns(worldId, partition, number);
        _worlds.Add(worldId, world);
        _worldsByNumber[number] = world;
        return world;
    }

    private int TakeSlot()
    {
        if (_freeSlots.TryPop(out var reused))
        {
            return reused;
        }
        var handle = _slotsUsed++;
        var page = handle >> PageShift;
        if (page == _pages.Length)
        {
            Array.Resize(ref _pages, Math.Max(4, _pages.Length * 2));
        }
        _pages[page] ??= new Slot[PageSize];
        return handle;
    }

    private int Lookup(int world, IdKey id, int hash)
    {
        var mask = _byId.Length - 1;
        for (var cell = hash & mask; _byId[cell] != 0; cell = (cell + 1) & mask)
        {
            var handle = _byId[cell] - 1;
            ref readonly var slot = ref At(handle);
            if (slot.Hash == hash && slot.World == world && slot.ShortLength == id.Short.Length &&
                (id.Long is null ? slot.IdLow == id.Short.Low && slot.IdHigh == id.Short.High : string.Equals(slot.LongId, id.Long, StringComparison.Ordinal)))
            {
                return handle;
            }
        }
        return NoSlot;
    }

    private void Index(int handle, int hash)
    {
        if (Count * 2 > _byId.Length)
        {
            var old = _byId;
            _byId = new int[old.Length * 2];
            foreach (var entry in old)
            {
                if (entry != 0)
                {
                    Place(entry, At(entry - 1).Hash);
                }
            }
        }
        Place(handle + 1, hash);
    }

    private void Place(int entry, int hash)
    {
        var mask = _byId.Length - 1;
        var cell = hash & mask;
        while (_byId[cell] != 0)
        {
            cell = (cell + 1) & mask;
        }
        _byId[cell] = entry;
    }

    // Removes by shifting back the entries after it that would otherwise be cut off from their home cell.
    private void Unindex(int handle, int hash)
    {
        var mask = _byId.Length - 1;
        var hole = hash & mask;
        while (_byId[hole] != handle + 1)
        {
            hole = (hole + 1) & mask;
        }
        for (var next = (hole + 1) & mask; _byId[next] != 0; next = (next + 1) & mask)
        {
            var home = At(_byId[next] - 1).Hash & mask;
            // The entry may fill the hole when its home is not in the cyclic range (hole, next].
            var reachable = hole <= next ? home > hole && home <= next : home > hole || home <= next;
            if (!reachable)
            {
                _byId[hole] = _byId[next];
                hole = next;
            }
        }
        _byId[hole] = 0;
    }

    /// <summary>A treasure id as a slot holds it: packed when it packs, else the string.</summary>
    private readonly record struct IdKey(ShortId Short, string? Long)
    {
        public static IdKey Of(string id) => ShortId.TryPack(id, out var packed) ? new IdKey(packed, null) : new IdKey(default, id);
    }

    private struct Slot
    {
        public ulong IdLow;
        public ulong IdHigh;

        // The treasure id when it does not pack; null when it does.
        public string? LongId;
        public long DueMs;

        // From 1; 0 while the slot is free.
        public long Sequence;
        public int World;
        public int Hash;
        public int X;
        public int Y;
        public int Value;

        // The packed id's length; 0 when the id is in LongId.
        public byte ShortLength;
    }

    private sealed class WorldSpawns(string id, int partition, int number)
    {
        public string Id { get; } = id;
        public int Partition { get; } = partition;
        public int Number { get; } = number;
        public int Count { get; set; }
    }
}
