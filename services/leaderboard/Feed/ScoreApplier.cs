using Google.Protobuf;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Wire;
using Veltrix.Domain;

namespace Veltrix.Leaderboard;

/// <summary>
/// The single writer of every board, fed by the score feeds of every resolver instance (the source, by its
/// ordinal). World boards take the player's absolute score in that world; the global board takes the sum over
/// worlds, moved by the delta when one world's score changes, so a re-sent absolute score changes nothing and a
/// snapshot after a reconnect can be applied over the boards as they are. A snapshot also tells which scores
/// its source holds: at its end, scores of that source's worlds it did not mention are removed. A world's
/// source is the instance that last reported it (one partition, so one instance, owns a world), which keeps
/// one feed's re-snapshot from touching the worlds of the others.
/// Messages are read in place: ids are looked up by their bytes, and a player's id is made into a string once,
/// the first time any board sees them.
/// </summary>
internal sealed class ScoreApplier
{
    private readonly BoardStore _store;
    private readonly LeaderboardMetrics _metrics;
    private readonly ILogger<ScoreApplier> _logger;
    private readonly Dictionary<string, WorldBoard> _worlds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WorldBoard>.AlternateLookup<ReadOnlySpan<char>> _worldsByChars;
    private readonly Dictionary<int, SnapshotProgress> _snapshots = [];

    public ScoreApplier(BoardStore store, LeaderboardMetrics metrics, ILogger<ScoreApplier> logger)
    {
        _store = store;
        _metrics = metrics;
        _logger = logger;
        _worldsByChars = _worlds.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>A new subscription to <paramref name="source"/> starts; its snapshot replaces what the boards hold of that source.</summary>
    public void BeginSnapshot(int source = 0)
    {
        var progress = Progress(source);
        progress.Active = true;
        progress.Changes = 0;
        // With empty boards there is nothing a snapshot could leave behind, so nothing to track.
        if (_store.Global.Count > 0)
        {
            progress.Seen = [];
            progress.SeenPlayers = [];
        }
    }

    /// <summary>The subscription to <paramref name="source"/> broke before its snapshot ended: keep what was applied, sweep nothing.</summary>
    public void AbandonSnapshot(int source = 0)
    {
        if (_snapshots.TryGetValue(source, out var progress))
        {
            progress.Active = false;
            progress.Seen = null;
            progress.SeenPlayers = null;
        }
    }

    /// <summary>Applies one message of <paramref name="source"/>'s feed (tests and tools; the feed applies bytes).</summary>
    public bool Apply(ScoreChanges message, int source = 0)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Apply(message.ToByteArray(), source);
    }

    /// <summary>
    /// Applies one serialized ScoreChanges message of <paramref name="source"/>'s feed; returns true when it ended a
    /// snapshot. Throws <see cref="InvalidDataException"/> on bytes that are not one, after applying the changes before the fault.
    /// </summary>
    public bool Apply(ReadOnlySpan<byte> message, int source = 0)
    {
        _snapshots.TryGetValue(source, out var progress);
        var reader = new ScoreChangesReader(message);
        var applied = 0;
        var ignored = 0;
        Span<char> worldChars = stackalloc char[EventValidator.MaxIdLength];
        Span<char> playerChars = stackalloc char[EventValidator.MaxIdLength];
        while (reader.TryRead(out var change))
        {
            if (!EventValidator.IsValidId(change.WorldId) || !EventValidator.IsValidId(change.PlayerId))
            {
                ignored++;
                continue;
            }
            applied++;
            var worldId = WireIds.ToChars(change.WorldId, worldChars);
            var playerId = WireIds.ToChars(change.PlayerId, playerChars);
            if (change.Removed)
            {
                Remove(worldId, playerId);
            }
            else
            {
                Apply(World(worldId), _store.Ids.Intern(playerId), change.Score, change.ReachedAtMs, source, progress);
            }
        }
        _metrics.AddUpdatesApplied(applied);
        if (ignored > 0)
        {
            _metrics.AddChangesIgnored(ignored);
            Log.ChangesIgnored(_logger, ignored);
        }
        var inSnapshot = progress is { Active: true };
        if (inSnapshot)
        {
            progress!.Changes += applied;
        }
        var ended = reader.SnapshotDone && inSnapshot;
        if (ended)
        {
            var removed = Sweep(source, progress!);
            Log.FeedSnapshotApplied(_logger, source, progress!.Changes, removed);
            AbandonSnapshot(source);
        }
        _store.MarkChanged();
        return ended;
    }

    /// <summary>Sets a player's absolute score in a world and moves their global score by the difference.</summary>
    public void Apply(string worldId, string playerId, long score, long reachedAtMs) =>
        Apply(World(worldId), _store.Ids.Intern(playerId), score, reachedAtMs, 0, _snapshots.GetValueOrDefault(0));

    private WorldBoard World(ReadOnlySpan<char> worldId)
    {
        if (!_worldsByChars.TryGetValue(worldId, out var world))
        {
            var id = new string(worldId);
            world = new WorldBoard(_store.GetOrAdd(BoardNames.World(id)), _worlds.Count);
            _worlds[id] = world;
        }
        return world;
    }

    private void Apply(WorldBoard world, int player, long score, long reachedAtMs, int source, SnapshotProgress? progress)
    {
        world.Source = source;
        if (progress?.Seen is not null)
        {
            progress.Seen.Add(Key(world, player));
            progress.SeenPlayers!.Add(player);
        }

        if (world.Board.Set(player, score, reachedAtMs, out var before))
        {
            // A player new to the world had 0 there; a player new to the global board starts at this score.
            _store.Global.Add(player, score - before.Score, reachedAtMs);
        }
    }

    // A rollback voided the player's join: off the world's board, their score off the global one, and off the
    // global board too when no other world holds a score of theirs. Rare, so the scan of the worlds is affordable.
    private void Remove(ReadOnlySpan<char> worldId, ReadOnlySpan<char> playerId)
    {
        if (!_worldsByChars.TryGetValue(worldId, out var world))
        {
            return;
        }
        if (!_store.Ids.TryFind(playerId, out var player) || !world.Board.TryGetCurrent(player, out var gone))
        {
            return;
        }
        world.Board.Remove(player);
        _store.Global.Add(player, -gone.Score, long.MinValue);
        foreach (var (_, other) in _worlds)
        {
            if (other.Board.TryGetCurrent(player, out _))
            {
                return;
            }
        }
        _store.Global.Remove(player);
    }

    // Removes the scores of the source's worlds that its snapshot did not mention, and takes off the global board
    // the players left with no world score anywhere (in this source's worlds or another's).
    private int Sweep(int source, SnapshotProgress progress)
    {
        if (progress.Seen is null || progress.SeenPlayers is null)
        {
            return 0;
        }
        var removed = 0;
        var stale = new List<int>();
        HashSet<int>? homeless = null;
        foreach (var (_, world) in _worlds)
        {
            if (world.Source != source)
            {
                continue;
            }
            stale.Clear();
            foreach (var player in world.Board.Players)
            {
                if (!progress.Seen.Contains(Key(world, player)))
                {
                    stale.Add(player);
                }
            }
            foreach (var player in stale)
            {
                world.Board.TryGetCurrent(player, out var gone);
                world.Board.Remove(player);
                removed++;
                _store.Global.Add(player, -gone.Score, long.MinValue);
                if (!progress.SeenPlayers.Contains(player))
                {
                    (homeless ??= []).Add(player);
                }
            }
        }
        if (homeless is not null)
        {
            // Rare (a resolver lost scores), so one pass over the other sources' entries is affordable here.
            foreach (var (_, world) in _worlds)
            {
                if (world.Source == source)
                {
                    continue;
                }
                foreach (var player in world.Board.Players)
                {
                    homeless.Remove(player);
                }
            }
            foreach (var player in homeless)
            {
                _store.Global.Remove(player);
            }
        }
        return removed;
    }

    private static long Key(WorldBoard world, int player) => ((long)world.Number << 32) | (uint)player;

    private SnapshotProgress Progress(int source)
    {
        if (!_snapshots.TryGetValue(source, out var progress))
        {
            progress = new SnapshotProgress();
            _snapshots[source] = progress;
        }
        return progress;
    }

    private sealed class WorldBoard(Board board, int number)
    {
        public Board Board { get; } = board;

        /// <summary>The world's number, in order of arrival: with a player's, it keys what a snapshot saw.</summary>
        public int Number { get; } = number;

        /// <summary>The resolver instance that last reported this world.</summary>
        public int Source { get; set; }
    }

    private sealed class SnapshotProgress
    {
        public bool Active { get; set; }
        public int Changes { get; set; }

        /// <summary>World and player numbers (<see cref="Key"/>) the snapshot mentioned.</summary>
        public HashSet<long>? Seen { get; set; }
        public HashSet<int>? SeenPlayers { get; set; }
    }
}
