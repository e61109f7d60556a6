using System.Buffers;
using Veltrix.Contracts.V1;

namespace Veltrix.Leaderboard;

/// <summary>
/// One leaderboard. Exactly one thread writes (the feed loop); any number read concurrently. Every
/// access to the ranking and the player index takes a short lock: a write moves at most one block of
/// entries, a read copies at most a page, and protobuf messages are built outside the lock.
/// The writer may read the player index without the lock, since nobody else changes it. Players are
/// known by their numbers in <see cref="Ids"/>, shared by every board of a store.
/// </summary>
internal sealed class Board
{
    /// <summary>The deepest top a Watch may ask for; changes below it do not wake watchers.</summary>
    public const int WatchDepth = 100;

    private readonly Lock _gate = new();
    private readonly RankedList _ranking;
    private readonly PlayerSlots _players;
    private long _version;
    private long _topVersion;
    private int _count;
    private TopView? _top;

    /// <summary>A board ranking players of <paramref name="ids"/>; <paramref name="dense"/> when it will hold most of them (the global board).</summary>
    public Board(string name, PlayerIds ids, bool dense = false)
    {
        Name = name;
        Ids = ids;
        _ranking = new RankedList(ids);
        _players = new PlayerSlots(dense);
    }

    /// <summary>A board with its own id table (tests).</summary>
    public Board(string name) : this(name, new PlayerIds())
    {
    }

    public string Name { get; }

    public PlayerIds Ids { get; }

    /// <summary>Signalled whenever the first <see cref="WatchDepth"/> entries change.</summary>
    public ChangeSignal TopChanged { get; } = new();

    /// <summary>Grows with every change of the board.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>The <see cref="Version"/> of the last change that touched the top <see cref="WatchDepth"/>.</summary>
    public long TopVersion => Volatile.Read(ref _topVersion);

    public int Count => Volatile.Read(ref _count);

    /// <summary>Writer only: the player's current entry.</summary>
    public bool TryGetCurrent(int player, out Entry entry) => _players.TryGet(player, out entry);

    /// <summary>Writer only: the player's current entry.</summary>
    public bool TryGetCurrent(string playerId, out Entry entry)
    {
        entry = default;
        return Ids.TryFind(playerId, out var player) && _players.TryGet(player, out entry);
    }

    /// <summary>Writer only: sets a player's score; false when it already was exactly that.</summary>
    public bool Set(string playerId, long score, long reachedAtMs) => Set(Ids.Intern(playerId), score, reachedAtMs, out _);

    /// <summary>
    /// Writer only: sets a player's score; false when it already was exactly that. <paramref name="previous"/>
    /// is the entry it replaced (default when the player is new to the board).
    /// </summary>
    public bool Set(int player, long score, long reachedAtMs, out Entry previous)
    {
        bool topChanged;
        lock (_gate)
        {
            ref var slot = ref _players.GetOrAdd(player, out var exists);
            previous = slot;
            if (exists && slot.Score == score && slot.ReachedAtMs == reachedAtMs)
            {
                return false;
            }
            topChanged = Replace(ref slot, exists, player, score, reachedAtMs);
        }
        if (topChanged)
        {
            TopChanged.Notify();
        }
        return true;
    }

    /// <summary>Writer only: <see cref="Add(int, long, long)"/> by id.</summary>
    public void Add(string playerId, long delta, long reachedAtMs) => Add(Ids.Intern(playerId), delta, reachedAtMs);

    /// <summary>
    /// Writer only: moves a player's score by <paramref name="delta"/>, or puts them on the board at
    /// <paramref name="delta"/> when new. The sum counts as reached at the latest time of its parts.
    /// </summary>
    public void Add(int player, long delta, long reachedAtMs)
    {
        bool topChanged;
        lock (_gate)
        {
            ref var slot = ref _players.GetOrAdd(player, out var exists);
            if (exists && delta == 0)
            {
                return;
            }
            topChanged = exists
                ? Replace(ref slot, true, player, slot.Score + delta, Math.Max(slot.ReachedAtMs, reachedAtMs))
                : Replace(ref slot, false, player, delta, reachedAtMs);
        }
        if (topChanged)
        {
            TopChanged.Notify();
        }
    }

    // Under the lock: re-ranks the player; true when the change reached the watched top.
    private bool Replace(ref Entry slot, bool exists, int player, long score, long reachedAtMs)
    {
        var oldIndex = int.MaxValue;
        if (exists)
        {
            oldIndex = _ranking.Remove(slot);
        }
        slot = new Entry(player, Ids.SortPrefix(player), score, reachedAtMs);
        var newIndex = _ranking.Insert(slot);
        var topChanged = Math.Min(oldIndex, newIndex) < WatchDepth;
        Publish(topChanged);
        return topChanged;
    }

    /// <summary>Writer only: takes a player off the board; false when they were not on it.</summary>
    public bool Remove(string playerId) => Ids.TryFind(playerId, out var player) && Remove(player);

    /// <summary>Writer only: takes a player off the board; false when they were not on it.</summary>
    public bool Remove(int player)
    {
        bool topChanged;
        lock (_gate)
        {
            if (!_players.Remove(player, out var entry))
            {
                return false;
            }
            topChanged = _ranking.Remove(entry) < WatchDepth;
            Publish(topChanged);
        }
        if (topChanged)
        {
            TopChanged.Notify();
        }
        return true;
    }

    /// <summary>Writer only: the players on the board, for sweeping those a new snapshot no longer has.</summary>
    public IEnumerable<int> Players => _players.Players;

    /// <summary>Copies entries from the 0-based <paramref name="offset"/>; returns how many, and the board size.</summary>
    public int Read(int offset, Span<Entry> destination, out int total)
    {
        lock (_gate)
        {
            total = _ranking.Count;
            return _ranking.CopyTo(offset, destination);
        }
    }

    /// <summary>
    /// Copies up to <paramref name="before"/> entries above the player, the player, and up to
    /// <paramref name="after"/> below; false when the player is not on the board.
    /// </summary>
    public bool TryReadAround(string playerId, int before, int after, Span<Entry> destination,
        out int firstIndex, out int copied, out int total)
    {
        var known = Ids.TryFind(playerId, out var player);
        lock (_gate)
        {
            total = _ranking.Count;
            if (!known || !_players.TryGet(player, out var entry))
            {
                firstIndex = 0;
                copied = 0;
                return false;
            }
            var index = _ranking.IndexOf(entry);
            firstIndex = Math.Max(0, index - before);
            var last = Math.Min(total - 1, index + after);
            copied = _ranking.CopyTo(firstIndex, destination[..(last - firstIndex + 1)]);
            return true;
        }
    }

    /// <summary>
    /// The first <see cref="WatchDepth"/> entries as frames carry them. Built once per change of the top
    /// and shared by every watcher of the board; the messages in it are never modified.
    /// </summary>
    public TopView ReadTop()
    {
        var cached = Volatile.Read(ref _top);
        if (cached is not null && cached.TopVersion == TopVersion)
        {
            return cached;
        }
        var buffer = ArrayPool<Entry>.Shared.Rent(WatchDepth);
        int count;
        long version;
        long topVersion;
        BoardEntry[] entries;
        try
        {
            lock (_gate)
            {
                count = _ranking.CopyTo(0, buffer.AsSpan(0, WatchDepth));
                version = _version;
                topVersion = _topVersion;
            }
            entries = new BoardEntry[count];
            for (var i = 0; i < count; i++)
            {
                entries[i] = new BoardEntry { Rank = (ulong)i + 1, PlayerId = Ids[buffer[i].Player], Score = buffer[i].Score };
            }
        }
        finally
        {
            ArrayPool<Entry>.Shared.Return(buffer);
        }
        var view = new TopView(topVersion, version, entries);
        // Whichever reader built the newest view keeps it; an older one never replaces it.
        while (true)
        {
            var current = Volatile.Read(ref _top);
            if (current is not null && current.TopVersion >= topVersion)
            {
                return current.TopVersion == topVersion ? current : view;
            }
            if (Interlocked.CompareExchange(ref _top, view, current) == current)
            {
                return view;
            }
        }
    }

    // Runs under the lock, by the writer.
    private void Publish(bool topChanged)
    {
        var version = _version + 1;
        Volatile.Write(ref _version, version);
        Volatile.Write(ref _count, _ranking.Count);
        if (topChanged)
        {
            Volatile.Write(ref _topVersion, version);
        }
    }
}

/// <summary>The top of a board at one version, ready to send.</summary>
internal sealed class TopView(long topVersion, long version, BoardEntry[] entries)
{
    // The frames of this top for the depths watchers asked for, each encoded once: index topN - 1.
    private readonly byte[]?[] _encoded = new byte[]?[Board.WatchDepth];

    public long TopVersion { get; } = topVersion;
    public long Version { get; } = version;
    public BoardEntry[] Entries { get; } = entries;

    /// <summary>
    /// The BoardFrame of this top's first <paramref name="topN"/> entries for <paramref name="boardName"/>, without
    /// sent_at_ms, serialized by whichever watcher asks first and shared by all: a thousand watchers of a top
    /// cost one encoding, not a thousand.
    /// </summary>
    public byte[] Encoded(string boardName, int topN)
    {
        ref var slot = ref _encoded[topN - 1];
        var bytes = Volatile.Read(ref slot);
        if (bytes is not null)
        {
            return bytes;
        }
        var frame = new BoardFrame { Board = boardName, Version = (ulong)Version };
        var count = Math.Min(topN, Entries.Length);
        for (var i = 0; i < count; i++)
        {
            frame.Entries.Add(Entries[i]);
        }
        bytes = FrameBytes.Encode(frame);
        // Two watchers may encode at once; they make the same bytes, and either copy will do.
        Volatile.Write(ref slot, bytes);
        return bytes;
    }
}
