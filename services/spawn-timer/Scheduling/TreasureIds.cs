using System.Globalization;
using System.Security.Cryptography;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>
/// Names treasures the caller did not name: <c>t-{prefix}-{n}</c>. The counter keeps ids unique within a
/// process; the random prefix (ten of [a-z0-9], about 52 bits) keeps them unique across restarts, which matters
/// because a world ignores an id it has already seen: a reused id would be a spawn silently lost. The first
/// 9,999,999 ids of a process are 20 characters at most, so a pending spawn holds its id packed
/// (<see cref="ShortId"/>) rather than as a string.
/// </summary>
internal sealed class TreasureIds
{
    private const string PrefixChars = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const int PrefixLength = 10;

    private readonly string _prefix;
    private long _next;

    public TreasureIds()
        : this(RandomNumberGenerator.GetString(PrefixChars, PrefixLength))
    {
    }

    public TreasureIds(string prefix)
    {
        _prefix = prefix;
    }

    public string Next() =>
        string.Create(CultureInfo.InvariantCulture, $"t-{_prefix}-{Interlocked.Increment(ref _next)}");
}
