using Veltrix.Contracts.Internal;

namespace Veltrix.Leaderboard;

/// <summary>
/// The single writer of every board. World boards take the player's absolute score in that world; the
/// global board takes the sum over worlds, moved by the delta when one world's score changes, so a
/// re-sent absolute score changes nothing and a snapshot after a reconnect can be applied over the
/// boards as they are. A snapshot also tells which scores exist: at its end, scores it did not
/// mention are removed.
/// </summary>
internal sealed class ScoreApplier(BoardStore store, LeaderboardMetrics metrics, ILogger<ScoreApplier> logger)
{
    private readonly Dictionary<string, Board> _worlds = new(StringComparer.Ordinal);
    private HashSet<(string World, string Player)>? _seen;
    private HashSet<string>? _seenPlayers;
    private bool _inSnapshot;
    private int _snapshotChanges;

    /// <summary>A new subscription starts; its snapshot replaces what the boards hold.</summary>
    public void BeginSnapshot()
    {
        _inSnapshot = true;
        _snapshotChanges = 0;
        // With empty boards there is nothing a snapshot could leave behind, so nothing to track.
        if (store.Global.Count > 0)
        {
            _seen = [];
            _seenPlayers = new HashSet<string>(StringComparer.Ordinal);
        }
    }

    /// <summary>The subscription broke before its snapshot ended: keep what was applied, sweep nothing.</summary>
    public void AbandonSnapshot()
    {
        _inSnapshot = false;
        _seen = null;
        _seenPlayers = null;
    }

    /// <summary>Applies one message of the feed; returns true when it ended a snapshot.</summary>
    public bool Apply(ScoreChanges message)
    {
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
            Apply(change.WorldId, change.PlayerId, change.Score, change.ReachedAtMs);
        }
        var applied = changes.Count - ignored;
        metrics.AddUpdatesApplied(applied);
        if (ignored > 0)
        {
            metrics.AddChangesIgnored(ignored);
            Log.ChangesIgnored(logger, ignored);
        }
        if (_inSnapshot)
        {
            _snapshotChanges += applied;
        }
        var ended = message.SnapshotDone && _inSnapshot;
        if (ended)
        {
            var removed = Sweep();
            Log.FeedSnapshotApplied(logger, _snapshotChanges, removed);
            AbandonSnapshot();
        }
        store.MarkChanged();
        return ended;
    }

    /// <summary>Sets a player's absolute score in a world and moves their global score by the difference.</summary>
    public void Apply(string worldId, string playerId, long score, long reachedAtMs)
    {
        if (!_worlds.TryGetValue(worldId, out var world))
        {
            world = store.GetOrAdd(BoardNames.World(worldId));
            _worlds[worldId] = world;
        }
        if (_seen is not null)
        {
            _seen.Add((worldId, playerId));
            _seenPlayers!.Add(playerId);
        }

        if (world.Set(playerId, score, reachedAtMs, out var before))
        {
            // A player new to the world had 0 there; a player new to the global board starts at this score.
            store.Global.Add(playerId, score - before.Score, reachedAtMs);
        }
    }

    // Removes the scores the snapshot did not mention; players it did not mention at all leave the global board.
    private int Sweep()
    {
        if (_seen is null || _seenPlayers is null)
        {
            return 0;
        }
        var removed = 0;
        var stale = new List<string>();
        foreach (var (worldId, world) in _worlds)
        {
            stale.Clear();
            foreach (var playerId in world.Players)
            {
                if (!_seen.Contains((worldId, playerId)))
                {
                    stale.Add(playerId);
                }
            }
            foreach (var playerId in stale)
            {
                world.TryGetCurrent(playerId, out var gone);
                world.Remove(playerId);
                removed++;
                if (_seenPlayers.Contains(playerId))
                {
                    store.Global.Add(playerId, -gone.Score, long.MinValue);
                }
            }
        }
        stale.Clear();
        foreach (var playerId in store.Global.Players)
        {
            if (!_seenPlayers.Contains(playerId))
            {
                stale.Add(playerId);
            }
        }
        foreach (var playerId in stale)
        {
            store.Global.Remove(playerId);
        }
        return removed;
    }
}
