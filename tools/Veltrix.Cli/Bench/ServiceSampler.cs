using System.Diagnostics;

namespace Veltrix.Cli.Bench;

/// <summary>
/// A process the bench watches: its pid, and where its GC counters come from: its <c>/metrics</c>, this
/// process's own runtime (<paramref name="Self"/>), or nowhere (redis-server).
/// </summary>
public sealed record SampleTarget(string Name, int Pid, Uri? Metrics, bool Self = false);

/// <summary>One look at every target: /proc and the GC counters, taken at the start and at the end of the window.</summary>
public sealed record ServiceSnapshot(SampleTarget Target, ProcessSample? Process, GcCounters? Gc);

/// <summary>
/// Samples the mesh's processes: a full snapshot (/proc status, stat and every thread's status, then
/// <c>/metrics</c>) at the start and the end of the measured window, and VmRSS once a second between,
/// for the peak.
/// </summary>
public sealed class ServiceSampler : IDisposable
{
    private static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(3);

    private readonly IReadOnlyList<SampleTarget> _targets;
    private readonly HttpClient _http = new() { Timeout = ScrapeTimeout };
    private readonly long[] _maxRssKb;

    public ServiceSampler(IReadOnlyList<SampleTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        _targets = targets;
        _maxRssKb = new long[targets.Count];
    }

    public IReadOnlyList<SampleTarget> Targets => _targets;

    public async Task<IReadOnlyList<ServiceSnapshot>> SnapshotAsync(CancellationToken cancellationToken)
    {
        // /proc first for every process, close together in time; the scrapes come after.
        var processes = new ProcessSample?[_targets.Count];
        for (var i = 0; i < _targets.Count; i++)
        {
            processes[i] = ProcessSample.Read(_targets[i].Pid);
            if (processes[i] is { } p)
            {
                _maxRssKb[i] = Math.Max(_maxRssKb[i], p.RssKb);
            }
        }
        var snapshots = new ServiceSnapshot[_targets.Count];
        for (var i = 0; i < _targets.Count; i++)
        {
            var target = _targets[i];
            var gc = target.Metrics is { } url ? await ScrapeAsync(url, cancellationToken) : target.Self ? OwnGc() : null;
            snapshots[i] = new ServiceSnapshot(target, processes[i], gc);
        }
        return snapshots;
    }

    /// <summary>Forgets the peaks seen so far: the window starts.</summary>
    public void ResetPeaks()
    {
        for (var i = 0; i < _targets.Count; i++)
        {
            _maxRssKb[i] = 0;
        }
    }

    /// <summary>The once-a-second look at VmRSS.</summary>
    public void PollRss()
    {
        for (var i = 0; i < _targets.Count; i++)
        {
            if (ProcessSample.ReadRssKb(_targets[i].Pid) is { } rss)
            {
                _maxRssKb[i] = Math.Max(_maxRssKb[i], rss);
            }
        }
    }

    /// <summary>Each target's figures between two snapshots, per event for <paramref name="ackedEvents"/> events.</summary>
    public IReadOnlyList<ServiceFigures> Figures(IReadOnlyList<ServiceSnapshot> start, IReadOnlyList<ServiceSnapshot> end, long ackedEvents)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        var figures = new List<ServiceFigures>(_targets.Count);
        for (var i = 0; i < _targets.Count; i++)
        {
            if (start[i].Process is not { } p0 || end[i].Process is not { } p1)
            {
                continue;
            }
            var seconds = Math.Max(1e-9, (double)(p1.Timestamp - p0.Timestamp) / Stopwatch.Frequency);
            var cpu = (double)(p1.CpuTicks - p0.CpuTicks) / ProcStat.ClockTicksPerSecond;
            var switches = SwitchDelta.Between(p0, p1);
            GcFigures? gc = null;
            double? perEvent = null;
            if (start[i].Gc is { } g0 && end[i].Gc is { } g1)
            {
                var d = g1.Minus(g0);
                gc = new GcFigures(d.Gen0, d.Gen1, d.Gen2, d.PauseSeconds, d.PauseSeconds / seconds * 100, d.AllocatedBytes);
                perEvent = ackedEvents > 0 ? (double)d.AllocatedBytes / ackedEvents : null;
            }
            figures.Add(new ServiceFigures
            {
                Name = _targets[i].Name,
                Pid = _targets[i].Pid,
                WindowSeconds = seconds,
                RssStartMiB = p0.RssKb / 1024.0,
                RssEndMiB = p1.RssKb / 1024.0,
                RssMaxMiB = Math.Max(_maxRssKb[i], Math.Max(p0.RssKb, p1.RssKb)) / 1024.0,
                CpuSeconds = cpu,
                CpuPercent = cpu / seconds * 100,
                VoluntarySwitches = switches.Voluntary,
                InvoluntarySwitches = switches.Involuntary,
                Threads = switches.ThreadsSeen,
                ThreadsExited = switches.ThreadsExited,
                Gc = gc,
                AllocatedBytesPerEvent = perEvent,
            });
        }
        return figures;
    }

    public void Dispose() => _http.Dispose();

    private async Task<GcCounters?> ScrapeAsync(Uri url, CancellationToken cancellationToken)
    {
        try
        {
            var text = await _http.GetStringAsync(url, cancellationToken);
            return GcCounters.From(PrometheusText.Parse(text));
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>This process's own counters, the same ones the runtime meter reports for the services.</summary>
    private static GcCounters OwnGc()
    {
        var gen2 = GC.CollectionCount(2);
        var gen1 = GC.CollectionCount(1);
        var gen0 = GC.CollectionCount(0);
        // CollectionCount(n) includes the collections of higher generations; the meter counts each once.
        return new GcCounters(gen0 - gen1, gen1 - gen2, gen2, GC.GetTotalPauseDuration().TotalSeconds, GC.GetTotalAllocatedBytes());
    }
}
