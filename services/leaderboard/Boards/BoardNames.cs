using System.Buffers;

namespace Veltrix.Leaderboard;

/// <summary>Ids and board names as the contract spells them.</summary>
internal static class BoardNames
{
    private const int MaxIdLength = 64;

    private static readonly SearchValues<char> IdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    /// <summary>1..64 chars of [A-Za-z0-9_-]: player, world and season ids.</summary>
    public static bool IsValidId(ReadOnlySpan<char> id) =>
        id.Length is > 0 and <= MaxIdLength && !id.ContainsAnyExcept(IdChars);

    /// <summary><c>global</c> or <c>world:{id}</c>, each optionally followed by <c>@{season}</c>.</summary>
    public static bool IsValidBoard(ReadOnlySpan<char> name)
    {
        var at = name.IndexOf('@');
        if (at >= 0)
        {
            if (!IsValidId(name[(at + 1)..]))
            {
                return false;
            }
            name = name[..at];
        }
        if (name.SequenceEqual(BoardStore.GlobalName))
        {
            return true;
        }
        return name.StartsWith(BoardStore.WorldPrefix, StringComparison.Ordinal)
            && IsValidId(name[BoardStore.WorldPrefix.Length..]);
    }

    public static string World(string worldId) => BoardStore.WorldPrefix + worldId;
}
