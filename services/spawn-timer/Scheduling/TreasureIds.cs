using System.Globalization;
using System.Security.Cryptography;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>
/// Names treasures the caller did not name: <c>t-{prefix}-{n}</c>. The counter keeps ids unique within a
/// process; the random 64-bit prefix keeps them unique across restarts, which matters because a world ignores
/// an id it has already seen: a reused id would be a spawn silently lost.
/// </summary>
internal sealed class TreasureIds
{
    private readonly string _prefix;
    private long _next;

    public TreasureIds()
        : this(RandomNumberGenerator.GetHexString(16, lowercase: true))
    {
    }

    public TreasureIds(string prefix)
    {
        _prefix = prefix;
    }

    public string Next() =>
        string.Create(CultureInfo.InvariantCulture, $"t-{_prefix}-{Interlocked.Increment(ref _next)}");
}
