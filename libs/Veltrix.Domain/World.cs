namespace Veltrix.Domain;

/// <summary>A player's state in one world. Mutated only by the world's owner (a partition loop).</summary>
public sealed class Player
{
    internal Player(string id, int x, int y)
    {
        Id = id;
        X = x;
        Y = y;
    }

    public string Id { get; }
    public int X { get; internal set; }
    public int Y { get; internal set; }
    public long Score { get; internal set; }

    /// <summary>Stamp of the event that set <see cref="Score"/>: who reached a score first ranks first.</summary>
    public long ScoreReachedAtMs { get; internal set; }

    public ulong LastSeq { get; internal set; }

    /// <summary>
    /// False for a player the world knows only from rejected events: it keeps their seq watermark (a
    /// rejected event consumes its seq) but has no position, is on no board and cannot be read.
    /// </summary>
    public bool Joined { get; internal set; }

    public bool Online { get; internal set; }

    /// <summary>Client time of the last applied event; client clocks may not go backwards.</summary>
    public long LastClientTimeMs { get; internal set; }

    /// <summary>Client time of the last accepted Join, Move or Teleport: what Move's speed limit measures from.</summary>
    public long LastMotionClientTimeMs { get; internal set; }

    /// <summary>Stamp of the last accepted Teleport, or null if the player never teleported.</summary>
    public long? LastTeleportStampMs { get; internal set; }

    public long TeleportReadyAtMs(WorldRules rules) =>
        LastTeleportStampMs is { } last ? last + rules.TeleportCooldownMs : 0;
}

/// <summary>A player's whole state, as snapshots record it.</summary>
public readonly record struct PlayerImage(
    string Id,
    int X,
    int Y,
    long Score,
    long ScoreReachedAtMs,
    ulong LastSeq,
    bool Joined,
    bool Online,
    long LastClientTimeMs,
    long LastMotionClientTimeMs,
    long? LastTeleportStampMs)
{
    public static PlayerImage Of(Player p) => new(
        p.Id, p.X, p.Y, p.Score, p.ScoreReachedAtMs, p.LastSeq, p.Joined, p.Online,
        p.LastClientTimeMs, p.LastMotionClientTimeMs, p.LastTeleportStampMs);
}

/// <summary>A spawned treasure. Claimed once, by the first Dig in the partition's order.</summary>
public sealed class Treasure
{
    internal Treasure(string id, int x, int y, long value)
    {
        Id = id;
        X = x;
        Y = y;
        Value = value;
    }

    public string Id { get; }
    public int X { get; }
    public int Y { get; }
    public long Value { get; }
    public string? ClaimedBy { get; internal set; }
}

/// <summary>A player's score after an accepted event that set it (a join at 0, or a dig).</summary>
public readonly record struct ScoreChange(string PlayerId, long Score, long ReachedAtMs)
{
    public bool HasValue => PlayerId is not null;
}

/// <summary>
/// One world and its rules (DESIGN.md section 4). Pure and deterministic: the same events with the
/// same stamps give the same state. Not thread-safe by design: one partition loop owns each world.
/// </summary>
public sealed class World
{
    private readonly Dictionary<string, Player> _players = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Treasure> _treasures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Player>.AlternateLookup<ReadOnlySpan<char>> _playersBySpan;
    private readonly TreasureGrid _open;
    private readonly FlagSet _defaultFlags;
    private int _claimed;
    private int _joined;

    public World(string id, WorldRules rules)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(rules);
        Id = id;
        Rules = rules;
        _open = new TreasureGrid(Math.Max(1, rules.DigRadius));
        _defaultFlags = FlagSet.Defaults(rules);
        _playersBySpan = _players.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Id { get; }
    public WorldRules Rules { get; }
    /// <summary>Players who joined, online or not.</summary>
    public int PlayerCount => _joined;
    public int OpenTreasureCount => _open.Count;
    public int ClaimedTreasureCount => _claimed;
    /// <summary>Every player record, those known only from rejected events (<see cref="Player.Joined"/> false) included.</summary>
    public IReadOnlyCollection<Player> Players => _players.Values;
    public IEnumerable<Treasure> OpenTreasures => _open.All();

    /// <summary>A player who joined this world, or null.</summary>
    public Player? FindPlayer(string playerId) => _players.GetValueOrDefault(playerId) is { Joined: true } p ? p : null;

    /// <summary>
    /// The id string of the player record with this id, or a new string when the world has none: an event read
    /// off the wire allocates no id for a player the world knows.
    /// </summary>
    public string InternPlayerId(ReadOnlySpan<char> playerId) =>
        _playersBySpan.TryGetValue(playerId, out var known, out _) ? known : playerId.ToString();

    public Treasure? FindTreasure(string treasureId) => _treasures.GetValueOrDefault(treasureId);

    /// <summary>
    /// Applies one well-formed event stamped with the server's receive time. Returns the outcome;
    /// <paramref name="change"/> carries the player's new score when the event set one.
    /// </summary>
    public Verdict Apply(in GameEvent e, long stampMs, out ScoreChange change) =>
        Apply(in e, stampMs, _defaultFlags, out change);

    /// <summary>
    /// Applies one well-formed event under <paramref name="flags"/>, the flag version its batch recorded,
    /// so a replay decides exactly as the first run did.
    /// </summary>
    public Verdict Apply(in GameEvent e, long stampMs, FlagSet flags, out ScoreChange change)
    {
        ArgumentNullException.ThrowIfNull(flags);
        change = default;
        var player = _players.GetValueOrDefault(e.PlayerId);
        if (player is not null && e.Seq <= player.LastSeq)
        {
            return Verdict.Duplicate;
        }

        var verdict = Decide(in e, stampMs, flags, player, ref change);
        if (player is null)
        {
            if (verdict.IsAccepted)
            {
                player = _players[e.PlayerId];
            }
            else if (verdict.Outcome == Outcome.Rejected && _players.Count - _joined < Rules.MaxPlayers)
            {
                // Rejected events consume their seq even before a join; without a record of it, a
                // replay would take the same seq again and a later event could be applied twice.
                player = new Player(e.PlayerId, 0, 0);
                _players.Add(e.PlayerId, player);
            }
        }
        if (player is not null)
        {
            // Rejected events consume their seq too; only accepted ones move the client clock.
            player.LastSeq = e.Seq;
            if (verdict.IsAccepted)
            {
                player.LastClientTimeMs = e.ClientTimeMs;
            }
        }
        return verdict;
    }

    private Verdict Decide(in GameEvent e, long stampMs, FlagSet flags, Player? player, ref ScoreChange change)
    {
        if (e.ClientTimeMs > stampMs + Rules.MaxSkewMs)
        {
            return Verdict.Rejected(Reasons.ClockAhead);
        }
        if (player is not null && e.ClientTimeMs < player.LastClientTimeMs)
        {
            return Verdict.Rejected(Reasons.ClockBackwards);
        }

        if (e.Kind == EventKind.Join)
        {
            return Join(in e, stampMs, player, ref change);
        }
        if (player is null || !player.Online)
        {
            return Verdict.Rejected(Reasons.NotJoined);
        }

        switch (e.Kind)
        {
            case EventKind.Leave:
                player.Online = false;
                return Verdict.Accepted;
            case EventKind.Move:
                return Move(in e, player);
            case EventKind.Teleport:
                return Teleport(in e, stampMs, flags, player);
            case EventKind.Dig:
                return Dig(stampMs, flags, player, ref change);
            default:
                return Verdict.Malformed(Reasons.KindUnknown);
        }
    }

    private Verdict Join(in GameEvent e, long stampMs, Player? player, ref ScoreChange change)
    {
        if (player is null || !player.Joined)
        {
            // Only joined players count: records kept for rejected events (capped on their own) cannot
            // fill a world against the players who want in.
            if (_joined >= Rules.MaxPlayers)
            {
                return Verdict.Rejected(Reasons.WorldFull);
            }
            var (x, y) = StartingPoint(Id, e.PlayerId, Rules.Size);
            if (player is null)
            {
                player = new Player(e.PlayerId, x, y);
                _players.Add(e.PlayerId, player);
            }
            player.X = x;
            player.Y = y;
            player.Joined = true;
            player.ScoreReachedAtMs = stampMs;
            _joined++;
            change = new ScoreChange(player.Id, 0, stampMs);
        }
        player.Online = true;
        player.LastMotionClientTimeMs = e.ClientTimeMs;
        return Verdict.Accepted;
    }

    private Verdict Move(in GameEvent e, Player player)
    {
        if (!InBounds(e.X, e.Y))
        {
            return Verdict.Rejected(Reasons.OutOfBounds);
        }
        var elapsedMs = Math.Max(0, e.ClientTimeMs - player.LastMotionClientTimeMs);
        // Capped at the world's diagonal so the square below cannot overflow, whatever the clock says.
        var reachCap = 2L * Rules.Size;
        var reach = elapsedMs >= reachCap * 1000 ? reachCap : Math.Min(reachCap, Rules.MaxSpeed * elapsedMs / 1000 + Rules.MoveSlack);
        long dx = e.X - player.X;
        long dy = e.Y - player.Y;
        if (dx * dx + dy * dy > reach * reach)
        {
            return Verdict.Rejected(Reasons.TooFast);
        }
        player.X = e.X;
        player.Y = e.Y;
        player.LastMotionClientTimeMs = e.ClientTimeMs;
        return Verdict.Accepted;
    }

    private Verdict Teleport(in GameEvent e, long stampMs, FlagSet flags, Player player)
    {
        if (!InBounds(e.X, e.Y))
        {
            return Verdict.Rejected(Reasons.OutOfBounds);
        }
        if (!flags.IsEnabled(FlagName.TeleportEnabled, Id, player.Id, stampMs))
        {
            return Verdict.Rejected(Reasons.TeleportDisabled);
        }
        if (player.LastTeleportStampMs is { } last && stampMs < last + flags.Evaluate(FlagName.TeleportCooldownMs, Id, player.Id, stampMs))
        {
            return Verdict.Rejected(Reasons.TeleportCooldown);
        }
        player.X = e.X;
        player.Y = e.Y;
        player.LastMotionClientTimeMs = e.ClientTimeMs;
        player.LastTeleportStampMs = stampMs;
        return Verdict.Accepted;
    }

    private Verdict Dig(long stampMs, FlagSet flags, Player player, ref ScoreChange change)
    {
        var treasure = _open.Nearest(player.X, player.Y, Rules.DigRadius);
        if (treasure is null)
        {
            return Verdict.Rejected(Reasons.NothingToDig);
        }
        _open.Remove(treasure);
        treasure.ClaimedBy = player.Id;
        _claimed++;
        player.Score += treasure.Value * flags.Evaluate(FlagName.ScoreMultiplierPct, Id, player.Id, stampMs) / 100;
        player.ScoreReachedAtMs = stampMs;
        change = new ScoreChange(player.Id, player.Score, stampMs);
        return Verdict.Accepted;
    }

    /// <summary>Adds a treasure. An id this world has seen is ignored, so re-fired timers never double-spawn.</summary>
    public bool Spawn(string treasureId, int x, int y, long value)
    {
        ArgumentNullException.ThrowIfNull(treasureId);
        if (!InBounds(x, y) || _treasures.ContainsKey(treasureId))
        {
            return false;
        }
        var treasure = new Treasure(treasureId, x, y, value);
        _treasures.Add(treasureId, treasure);
        _open.Add(treasure);
        return true;
    }

    /// <summary>
    /// Puts back a player exactly as a snapshot recorded it. Only for rebuilding a world from a
    /// snapshot; the rules never call it.
    /// </summary>
    public void RestorePlayer(in PlayerImage image)
    {
        var player = new Player(image.Id, image.X, image.Y)
        {
            Score = image.Score,
            ScoreReachedAtMs = image.ScoreReachedAtMs,
            LastSeq = image.LastSeq,
            Joined = image.Joined,
            Online = image.Online,
            LastClientTimeMs = image.LastClientTimeMs,
            LastMotionClientTimeMs = image.LastMotionClientTimeMs,
            LastTeleportStampMs = image.LastTeleportStampMs,
        };
        if (image.Joined && !(_players.TryGetValue(image.Id, out var old) && old.Joined))
        {
            _joined++;
        }
        _players[image.Id] = player;
    }

    /// <summary>Puts back a treasure, claimed or open, exactly as a snapshot recorded it.</summary>
    public void RestoreTreasure(string treasureId, int x, int y, long value, string? claimedBy)
    {
        var treasure = new Treasure(treasureId, x, y, value) { ClaimedBy = claimedBy };
        _treasures[treasureId] = treasure;
        if (claimedBy is null)
        {
            _open.Add(treasure);
        }
        else
        {
            _claimed++;
        }
    }

    /// <summary>Every treasure this world has seen, claimed ones included.</summary>
    public IReadOnlyCollection<Treasure> AllTreasures => _treasures.Values;

    private bool InBounds(int x, int y) => (uint)x < (uint)Rules.Size && (uint)y < (uint)Rules.Size;

    /// <summary>Where a new player starts: a point derived from (world, player) alone.</summary>
    public static (int X, int Y) StartingPoint(string worldId, string playerId, int size)
    {
        var seed = Partitioning.StableHash(worldId);
        var hx = Partitioning.StableHash(playerId, seed);
        var hy = Partitioning.StableHash(playerId, hx ^ 0x9E3779B9u);
        return ((int)(hx % (uint)size), (int)(hy % (uint)size));
    }
}
