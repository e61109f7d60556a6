using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;

namespace Veltrix.ServiceDefaults;

/// <summary>
/// Serves the instruments of the meters this host created through its <see cref="IMeterFactory"/> and
/// the runtime's own <c>System.Runtime</c> meter (GC counts, pause time, allocated bytes, thread pool)
/// in Prometheus text format. Scoping to the host's factory keeps two hosts in one process (tests) apart.
/// Hot paths publish through observable instruments, so a measurement costs nothing until a scrape;
/// tagged synchronous measurements are aggregated per tag set.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new(SeriesKeyComparer.Instance);
    private readonly ConcurrentDictionary<SeriesKey, Series>.AlternateLookup<TagProbe> _seriesByTags;
    private readonly Lock _scrape = new();

    public PrometheusExporter(IMeterFactory meters)
    {
        _seriesByTags = _series.GetAlternateLookup<TagProbe>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) || instrument.Meter.Name == "System.Runtime")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public async ValueTask WriteAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        string text;
        lock (_scrape)
        {
            _listener.RecordObservableInstruments();
            text = Render();
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        await output.WriteAsync(bytes, cancellationToken);
    }

    public void Dispose() => _listener.Dispose();

    // Every request records tagged measurements (the hosting and gRPC meters): a tag set seen before finds its
    // series by the tags themselves, so recording allocates nothing; labels are formatted once per new tag set.
    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_seriesByTags.TryGetValue(new TagProbe(instrument, tags), out var series))
        {
            series = _series.GetOrAdd(SeriesKeyComparer.Instance.Create(new TagProbe(instrument, tags)), static k => new Series(k.Instrument));
        }
        series.Add(value);
    }

    private static string FormatLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sb = new StringBuilder();
        foreach (var tag in tags)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }
            sb.Append(Sanitize(tag.Key)).Append("=\"");
            var value = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
            sb.Append(value.Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("\n", "\\n", StringComparison.Ordinal));
            sb.Append('"');
        }
        return sb.ToString();
    }

    private string Render()
    {
        var groups = new SortedDictionary<string, List<KeyValuePair<SeriesKey, Series>>>(StringComparer.Ordinal);
        foreach (var pair in _series)
        {
            var name = MetricName(pair.Key.Instrument);
            if (!groups.TryGetValue(name, out var list))
            {
                groups[name] = list = [];
            }
            list.Add(pair);
        }

        var sb = new StringBuilder();
        foreach (var (name, list) in groups)
        {
            var instrument = list[0].Key.Instrument;
            var type = Kind(instrument);
            if (!string.IsNullOrEmpty(instrument.Description))
            {
                sb.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description.Replace('\n', ' ')).Append('\n');
            }
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type == "histogram" ? "summary" : type).Append('\n');
            foreach (var (key, series) in list)
            {
                var labels = key.Labels.Length == 0 ? "" : "{" + key.Labels + "}";
                var (sum, count, last) = series.Read();
                if (type == "histogram")
                {
                    sb.Append(name).Append("_sum").Append(labels).Append(' ').Append(Number(sum)).Append('\n');
                    sb.Append(name).Append("_count").Append(labels).Append(' ').Append(Number(count)).Append('\n');
                }
                else
                {
                    var value = IsCumulativeObservation(instrument) || type == "gauge" ? last : sum;
                    sb.Append(name).Append(labels).Append(' ').Append(Number(value)).Append('\n');
                }
            }
        }
        return sb.ToString();
    }

    // Observable counters report the running total on each observation; synchronous ones report deltas.
    private static bool IsCumulativeObservation(Instrument instrument) =>
        instrument.IsObservable && Kind(instrument) == "counter";

    private static string Kind(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return "untyped";
        }
        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
        {
            return "counter";
        }
        if (definition == typeof(Histogram<>))
        {
            return "histogram";
        }
        return "gauge";
    }

    private static string MetricName(Instrument instrument)
    {
        var name = Sanitize(instrument.Name);
        var unit = instrument.Unit switch
        {
            "By" => "bytes",
            "s" => "seconds",
            "ms" => "milliseconds",
            null or "" or "1" => null,
            { } u when u.StartsWith('{') => null,
            { } u => Sanitize(u),
        };
        if (unit is not null && !name.EndsWith("_" + unit, StringComparison.Ordinal))
        {
            name += "_" + unit;
        }
        if (Kind(instrument) == "counter" && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }
        return name;
    }

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!Allowed.Contains(chars[i]))
            {
                chars[i] = '_';
            }
        }
        return new string(chars);
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private sealed record SeriesKey(Instrument Instrument, KeyValuePair<string, object?>[] Tags, string Labels);

    /// <summary>An instrument and the tags of one measurement, to look a series up without building its key.</summary>
    private readonly ref struct TagProbe(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        public Instrument Instrument { get; } = instrument;
        public ReadOnlySpan<KeyValuePair<string, object?>> Tags { get; } = tags;
    }

    /// <summary>Series keys are equal when their instrument is the same and their tags are equal, in order.</summary>
    private sealed class SeriesKeyComparer : IEqualityComparer<SeriesKey>, IAlternateEqualityComparer<TagProbe, SeriesKey>
    {
        public static readonly SeriesKeyComparer Instance = new();

        public bool Equals(SeriesKey? x, SeriesKey? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && Same(x.Instrument, x.Tags, y));

        public int GetHashCode(SeriesKey obj) => Hash(obj.Instrument, obj.Tags);

        public bool Equals(TagProbe alternate, SeriesKey other) => Same(alternate.Instrument, alternate.Tags, other);

        public int GetHashCode(TagProbe alternate) => Hash(alternate.Instrument, alternate.Tags);

        public SeriesKey Create(TagProbe alternate) =>
            new(alternate.Instrument, alternate.Tags.ToArray(), alternate.Tags.IsEmpty ? "" : FormatLabels(alternate.Tags));

        private static bool Same(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags, SeriesKey key)
        {
            if (!ReferenceEquals(instrument, key.Instrument) || tags.Length != key.Tags.Length)
            {
                return false;
            }
            for (var i = 0; i < tags.Length; i++)
            {
                if (!string.Equals(tags[i].Key, key.Tags[i].Key, StringComparison.Ordinal) || !Equals(tags[i].Value, key.Tags[i].Value))
                {
                    return false;
                }
            }
            return true;
        }

        private static int Hash(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var hash = new HashCode();
            hash.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(instrument));
            foreach (var tag in tags)
            {
                hash.Add(tag.Key, StringComparer.Ordinal);
                hash.Add(tag.Value);
            }
            return hash.ToHashCode();
        }
    }

    private sealed class Series(Instrument instrument)
    {
        private readonly Lock _gate = new();
        private double _sum;
        private long _count;
        private double _last;

        public Instrument Instrument { get; } = instrument;

        public void Add(double value)
        {
            lock (_gate)
            {
                _sum += value;
                _count++;
                _last = value;
            }
        }

        public (double Sum, long Count, double Last) Read()
        {
            lock (_gate)
            {
                return (_sum, _count, _last);
            }
        }
    }
}
