using Veltrix.Contracts.V1;
using Veltrix.Domain;
using ScoreChangeMessage = Veltrix.Contracts.Internal.ScoreChange;

namespace Veltrix.Resolver.Rollback;

/// <summary>What a rollback changes: scores and treasure owners for the report, board entries for the leaderboard.</summary>
public static class RollbackDiff
{
    /// <summary>Players whose score differs and treasures whose owner differs, each ordered by id.</summary>
    public static void Fill(RollbackReport report, World? before, World after)
    {
        foreach (var id in UnionOfIds(before?.Players.Select(static p => p.Id), after.Players.Select(static p => p.Id)))
        {
            var was = before?.FindPlayer(id)?.Score ?? 0;
            var now = after.FindPlayer(id)?.Score ?? 0;
            if (was != now)
            {
                report.Players.Add(new PlayerDiff { PlayerId = id, ScoreBefore = was, ScoreAfter = now });
            }
        }
        foreach (var id in UnionOfIds(before?.AllTreasures.Select(static t => t.Id), after.AllTreasures.Select(static t => t.Id)))
        {
            var was = before?.FindTreasure(id)?.ClaimedBy ?? "";
            var now = after.FindTreasure(id)?.ClaimedBy ?? "";
            if (was != now)
            {
                report.Treasures.Add(new TreasureDiff { TreasureId = id, OwnerBefore = was, OwnerAfter = now });
            }
        }
    }

    /// <summary>
    /// The board entries that change: a new score or the time it was reached, a player who is on the board
    /// only now, and one whose join was voided (removed).
    /// </summary>
    public static IEnumerable<ScoreChangeMessage> ScoreChanges(World? before, World after)
    {
        foreach (var id in UnionOfIds(before?.Players.Select(static p => p.Id), after.Players.Select(static p => p.Id)))
        {
            var was = before?.FindPlayer(id);
            var now = after.FindPlayer(id);
            if (now is null)
            {
                if (was is not null)
                {
                    yield return new ScoreChangeMessage { WorldId = after.Id, PlayerId = id, Removed = true };
                }
            }
            else if (was is null || was.Score != now.Score || was.ScoreReachedAtMs != now.ScoreReachedAtMs)
            {
                yield return new ScoreChangeMessage { WorldId = after.Id, PlayerId = id, Score = now.Score, ReachedAtMs = now.ScoreReachedAtMs };
            }
        }
    }

    private static string[] UnionOfIds(IEnumerable<string>? a, IEnumerable<string> b)
    {
        var ids = new HashSet<string>(b, StringComparer.Ordinal);
        if (a is not null)
        {
            ids.UnionWith(a);
        }
        var sorted = ids.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }
}
