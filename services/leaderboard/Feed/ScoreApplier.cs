using Veltrix.Contracts.Internal;

namespace Veltrix.Leaderboard;

/// <summary>
/// The single writer of every board, fed by the score feeds of every resolver instance (the source, by its
/// ordinal). World boards take the player's absolute score in that world; the global board takes the sum over
/// worlds, moved by the delta when one world's score changes, so a re-sent absolute score changes nothing and a
/// snapshot after a reconnect can be applied over the boards as they are. A snapshot also tells which scores
/// its source holds: at its end, scores of that source's worlds it did not mention are removed. A world's
/// source is the instance that last reported it (one partition, so one instance, owns a world), which keeps
/// one feed's re-snapshot from touching the worlds of the others.
/// </summary>
internal sealed class ScoreApplier(BoardStore store, LeaderboardMetrics metrics, ILogger<ScoreApplier> logger)
{
    private readonly Dictionary<string, WorldBoard> _worlds = new(StringComparer.Ordinal);
    private readonly Dictionary<int, SnapshotProgress> _snapshots = [];

    /// <summary>A new subscription to <paramref name="source"/> starts; its snapshot replaces what the boards hold of that source.</summary>
    public void BeginSnapshot(int source = 0)
    {
        var progress = Progress(source);
        progress.Active = true;
        progress.Changes = 0;
        // With empty boards there is nothing a snapshot could leave behind, so nothing to track.
        if (store.Global.Count > 0)
        {
            progress.Seen = [];
            progress.SeenPlayers = new HashSet<string>(StringComparer.Ordinal);
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

    /// <summary>Applies one message of <paramref name="source"/>'s feed; returns true when it ended a snapshot.</summary>
    public bool Apply(ScoreChanges message, int source = 0)
    {
        _snapshots.TryGetValue(source, out var progress);
        var ignored = 0;
        var changes = message.Changes;
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            if (!BoardNames.IsValidId(change.WorldId) || !BoardNames.IsValidId(change.PlayerId))
            {
                ignored++;
                continue;
            }
            if (change.Removed)
            {
                Remove(change.WorldId, change.PlayerId);
            }
            else
            {
                Apply(change.WorldId, change.PlayerId, change.Score, change.ReachedAtMs, source, progress);
            }
        }
        var applied = changes.Count - ignored;
        metrics.AddUpdatesApplied(applied);
        if (ignored > 0)
        {
            metrics.AddChangesIgnored(ignored);
            Log.ChangesIgnored(logger, ignored);
        }
        var inSnapshot = progress is { Active: true };
        if (inSnapshot)
        {
            progress!.Changes += applied;
        }
        var ended = message.SnapshotDone && inSnapshot;
        if (ended)
        {
            var removed = Sweep(source, progress!);
            Log.FeedSnapshotApplied(logger, source, progress!.Changes, removed);
            AbandonSnapshot(source);
        }
        store.MarkChanged();
        return ended;
    }

    /// <summary>Sets a player's absolute score in a world and moves their global score by the difference.</summary>
    public void Apply(string worldId, string playerId, long score, long reachedAtMs) =>
        Apply(worldId, playerId, score, reachedAtMs, 0, _snapshots.GetValueOrDefault(0));

    private void Apply(string worldId, string playerId, long score, long reachedAtMs, int source, SnapshotProgress? progress)
    {
        if (!_worlds.TryGetValue(worldId, out var world))
        {
            world = new WorldBoard(store.GetOrAdd(BoardNames.World(worldId)));
            _worlds[worldId] = world;
        }
        world.Source = source;
        if (progress?.Seen is not null)
        {
            progress.Seen.Add((worldId, playerId));
            progress.SeenPlayers!.Add(playerId);
        }

        if (world.Board.Set(playerId, score, reachedAtMs, out var before))
        {
            // A player new to the world had 0 there; a player new to the global board starts at this score.
            store.Global.Add(playerId, score - before.Score, reachedAtMs);
        }
    }

    // A rollback voided the player's join: off the world's board, their score off the global one, and off the
    // global board too when no other world holds a score of theirs. Rare, so the scan of the worlds is affordable.
    private void Remove(string worldId, string playerId)
    {
        if (!_worlds.TryGetValue(worldId, out var world) || !world.Board.TryGetCurrent(playerId, out var gone))
        {
            return;
        }
        world.Board.Remove(playerId);
        store.Global.Add(playerId, -gone.Score, long.MinValue);
        foreach (var (_, other) in _worlds)
        {
            if (other.Board.TryGetCurrent(playerId, out _))
            {
                return;
            }
        }
        store.Global.Remove(playerId);
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
        var stale = new List<string>();
        HashSet<string>? homeless = null;
        foreach (var (worldId, world) in _worlds)
        {
            if (world.Source != source)
            {
                continue;
            }
            stale.Clear();
            foreach (var playerId in world.Board.Players)
            {
                if (!progress.Seen.Contains((worldId, playerId)))
                {
                    stale.Add(playerId);
                }
            }
            foreach (var playerId in stale)
            {
                world.Board.TryGetCurrent(playerId, out var gone);
                world.Board.Remove(playerId);
                removed++;
                store.Global.Add(playerId, -gone.Score, long.MinValue);
                if (!progress.SeenPlayers.Contains(playerId))
                {
                    (homeless ??= new HashSet<string>(StringComparer.Ordinal)).Add(playerId);
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
                foreach (var playerId in world.Board.Players)
                {
                    homeless.Remove(playerId);
                }
            }
            foreach (var playerId in homeless)
            {
                store.Global.Remove(playerId);
            }
        }
        return removed;
    }

    private SnapshotProgress Progress(int source)
    {
        if (!_snapshots.TryGetValue(source, out var progress))
        {
            progress = new SnapshotProgress();
            _snapshots[source] = progress;
        }
        return progress;
    }

    private sealed class WorldBoard(Board board)
    {
        public Board Board { get; } = board;

        /// <summary>The resolver instance that last reported this world.</summary>
        public int Source { get; set; }
    }

    private sealed class SnapshotProgress
    {
        public bool Active { get; set; }
        public int Changes { get; set; }
        public HashSet<(string World, string Player)>? Seen { get; set; }
        public HashSet<string>? SeenPlayers { get; set; }
    }
}
