using System.Globalization;

namespace Veltrix.Cli.Bench;

/// <summary>Durations as the command line writes them: <c>60s</c>, <c>2m</c>, <c>1h</c>, <c>500ms</c>, or plain seconds.</summary>
public static class BenchDuration
{
    /// <summary>The duration <paramref name="text"/> names, or null when it names none (negative and fractional units included).</summary>
    public static TimeSpan? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var s = text.Trim();
        var (digits, unit) = s.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (s[..^2], TimeSpan.FromMilliseconds(1))
            : s.EndsWith('s') || s.EndsWith('S') ? (s[..^1], TimeSpan.FromSeconds(1))
            : s.EndsWith('m') || s.EndsWith('M') ? (s[..^1], TimeSpan.FromMinutes(1))
            : s.EndsWith('h') || s.EndsWith('H') ? (s[..^1], TimeSpan.FromHours(1))
            : (s, TimeSpan.FromSeconds(1));
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > 24 * 3_600_000L)
        {
            return null;
        }
        var ticks = unit.Ticks * count;
        return ticks > TimeSpan.FromDays(1).Ticks ? null : TimeSpan.FromTicks(ticks);
    }

    /// <summary>How the report shows a duration: whole minutes as <c>2m</c>, other whole seconds as <c>90s</c>, the rest as <c>250ms</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalMilliseconds}ms");
        }
        var seconds = (long)duration.TotalSeconds;
        return seconds >= 60 && seconds % 60 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60}m")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds}s");
    }
}
