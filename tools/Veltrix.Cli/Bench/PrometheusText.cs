using System.Globalization;
using System.Text;

namespace Veltrix.Cli.Bench;

/// <summary>One line of the Prometheus text format: <c>name{label="value",...} number</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>Reads the Prometheus text format that every service serves on <c>/metrics</c>.</summary>
public static class PrometheusText
{
    /// <summary>Every sample in <paramref name="text"/>; comments, blank and unreadable lines are skipped.</summary>
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var samples = new List<PrometheusSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            if (TryParseLine(line, out var sample))
            {
                samples.Add(sample);
            }
        }
        return samples;
    }

    private static bool TryParseLine(string line, out PrometheusSample sample)
    {
        sample = null!;
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ' && line[i] != '\t')
        {
            i++;
        }
        var name = line[..i];
        if (name.Length == 0)
        {
            return false;
        }
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && (line[i] == ',' || line[i] == ' '))
                {
                    i++;
                }
                if (i >= line.Length)
                {
                    return false;
                }
                if (line[i] == '}')
                {
                    i++;
                    break;
                }
                var eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"')
                {
                    return false;
                }
                var key = line[i..eq].Trim();
                var value = new StringBuilder();
                i = eq + 2;
                while (i < line.Length && line[i] != '"')
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        value.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        value.Append(line[i]);
                    }
                    i++;
                }
                if (i >= line.Length)
                {
                    return false;
                }
                i++;
                labels[key] = value.ToString();
            }
        }
        // The value, then an optional timestamp.
        var rest = line[i..].Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length == 0 || !TryParseNumber(rest[0], out var number))
        {
            return false;
        }
        sample = new PrometheusSample(name, labels, number);
        return true;
    }

    private static bool TryParseNumber(string text, out double value)
    {
        switch (text)
        {
            case "+Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }
}

/// <summary>
/// The runtime's GC counters of one process, as the System.Runtime meter reports them through the
/// services' exporter (libs/Veltrix.ServiceDefaults/PrometheusExporter.cs): cumulative since the process started.
/// </summary>
public sealed record GcCounters(long Gen0, long Gen1, long Gen2, double PauseSeconds, long AllocatedBytes)
{
    public const string Collections = "dotnet_gc_collections_total";
    public const string GenerationLabel = "gc_heap_generation";
    public const string PauseTime = "dotnet_gc_pause_time_seconds_total";
    public const string Allocated = "dotnet_gc_heap_total_allocated_bytes_total";

    /// <summary>The counters in <paramref name="samples"/>; null when the allocation or pause counter is missing.</summary>
    public static GcCounters? From(IReadOnlyList<PrometheusSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        long gen0 = 0, gen1 = 0, gen2 = 0;
        double? pause = null;
        double? allocated = null;
        foreach (var s in samples)
        {
            switch (s.Name)
            {
                case Collections when s.Labels.TryGetValue(GenerationLabel, out var generation):
                    switch (generation)
                    {
                        case "gen0":
                            gen0 = (long)s.Value;
                            break;
                        case "gen1":
                            gen1 = (long)s.Value;
                            break;
                        case "gen2":
                            gen2 = (long)s.Value;
                            break;
                        default:
                            break;
                    }
                    break;
                case PauseTime:
                    pause = s.Value;
                    break;
                case Allocated:
                    allocated = s.Value;
                    break;
                default:
                    break;
            }
        }
        return pause is { } p && allocated is { } a ? new GcCounters(gen0, gen1, gen2, p, (long)a) : null;
    }

    /// <summary>What happened between two readings of the same process.</summary>
    public GcCounters Minus(GcCounters earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        return new GcCounters(Gen0 - earlier.Gen0, Gen1 - earlier.Gen1, Gen2 - earlier.Gen2,
            PauseSeconds - earlier.PauseSeconds, AllocatedBytes - earlier.AllocatedBytes);
    }
}
