namespace Veltrix.Leaderboard;

/// <summary>
/// One player's place on a board: the player's number in the board's <see cref="PlayerIds"/> and the first
/// characters of their id (<see cref="PlayerIds.SortPrefix"/>), so that an entry holds no reference and most
/// ties are broken without reading the id. Orders by score descending, then who reached it first, then id.
/// </summary>
internal readonly struct Entry(int player, ulong idPrefix, long score, long reachedAtMs)
{
    public long Score { get; } = score;
    public long ReachedAtMs { get; } = reachedAtMs;
    public ulong IdPrefix { get; } = idPrefix;
    public int Player { get; } = player;

    /// <summary>Negative when <paramref name="a"/> ranks above <paramref name="b"/>.</summary>
    public static int Compare(in Entry a, in Entry b, PlayerIds ids)
    {
        if (a.Score != b.Score)
        {
            return a.Score > b.Score ? -1 : 1;
        }
        if (a.ReachedAtMs != b.ReachedAtMs)
        {
            return a.ReachedAtMs < b.ReachedAtMs ? -1 : 1;
        }
        if (a.IdPrefix != b.IdPrefix)
        {
            return a.IdPrefix < b.IdPrefix ? -1 : 1;
        }
        return a.Player == b.Player ? 0 : string.CompareOrdinal(ids[a.Player], ids[b.Player]);
    }
}
