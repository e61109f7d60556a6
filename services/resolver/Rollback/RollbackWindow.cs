using Veltrix.Contracts.Storage;

namespace Veltrix.Resolver.Rollback;

/// <summary>
/// Which events a rollback voids: those of one world whose player is in the chosen set (or any player)
/// and whose stamp lies in [<see cref="FromMs"/>, <see cref="ToMs"/>], logged before <see cref="BeforePosition"/>.
/// </summary>
public sealed class RollbackWindow
{
    private readonly HashSet<string>? _players;

    public RollbackWindow(string worldId, IEnumerable<string> playerIds, long fromMs, long toMs, long beforePosition)
    {
        WorldId = worldId;
        var players = new HashSet<string>(playerIds, StringComparer.Ordinal);
        _players = players.Count == 0 ? null : players;
        FromMs = fromMs;
        ToMs = toMs;
        BeforePosition = beforePosition;
    }

    public string WorldId { get; }

    public long FromMs { get; }

    public long ToMs { get; }

    /// <summary>Only events logged before this position are voided; <see cref="long.MaxValue"/> for a rollback being planned.</summary>
    public long BeforePosition { get; }

    public static RollbackWindow Of(RollbackMark mark) =>
        new(mark.WorldId, mark.PlayerIds, mark.FromMs, mark.ToMs, (long)mark.Position);

    public bool Voids(long position, string playerId, long stampMs) =>
        position < BeforePosition
        && stampMs >= FromMs && stampMs <= ToMs
        && (_players is null || _players.Contains(playerId));
}
