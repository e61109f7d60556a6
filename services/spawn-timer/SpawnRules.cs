using System.Buffers;

namespace Veltrix.SpawnTimer;

/// <summary>What a spawn may look like: the limits of DESIGN.md section 4 and of the SpawnTimer contract.</summary>
internal static class SpawnRules
{
    public const int WorldSize = 100_000;
    public const long MinValue = 1;
    public const long MaxValue = 1_000_000;
    public const int MaxIdLength = 64;
    public const long MaxAheadMs = 30L * 24 * 60 * 60 * 1000;

    private static readonly SearchValues<char> IdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    /// <summary>Player, world and treasure ids: 1..64 characters of [A-Za-z0-9_-].</summary>
    public static bool IsValidId(ReadOnlySpan<char> id) =>
        id.Length is >= 1 and <= MaxIdLength && !id.ContainsAnyExcept(IdChars);

    public static bool IsInWorld(int coordinate) => (uint)coordinate < WorldSize;

    public static bool IsValidValue(long value) => value is >= MinValue and <= MaxValue;
}
