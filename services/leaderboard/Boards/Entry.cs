namespace Veltrix.Leaderboard;

/// <summary>One player's place on a board. Orders by score descending, then who reached it first, then id.</summary>
internal readonly struct Entry(string playerId, long score, long reachedAtMs)
{
    public string PlayerId { get; } = playerId;
    public long Score { get; } = score;
    public long ReachedAtMs { get; } = reachedAtMs;

    /// <summary>Negative when <paramref name="a"/> ranks above <paramref name="b"/>.</summary>
    public static int Compare(in Entry a, in Entry b)
    {
        if (a.Score != b.Score)
        {
            return a.Score > b.Score ? -1 : 1;
        }
        if (a.ReachedAtMs != b.ReachedAtMs)
        {
            return a.ReachedAtMs < b.ReachedAtMs ? -1 : 1;
        }
        return string.CompareOrdinal(a.PlayerId, b.PlayerId);
    }
}
