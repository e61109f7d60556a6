using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using HdrHistogram;
using Veltrix.Cli.Launch;

namespace Veltrix.Cli.Bench;

/// <summary>How a bench run is set up.</summary>
public sealed record BenchOptions
{
    public LoadSettings Load { get; init; } = new();
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Run the resolver on a private redis-server (appendfsync always) instead of the embedded store.</summary>
    public bool Redis { get; init; }

    /// <summary>The CI check: the figures are printed, only completion and acked = sent decide the outcome.</summary>
    public bool Smoke { get; init; }

    /// <summary>Run the bare gRPC sink baseline.</summary>
    public bool Sink { get; init; } = true;

    public required string RepoRoot { get; init; }

    /// <summary>Where the AOT binaries are (<c>DIR/Veltrix.X/Veltrix.X</c>); null runs every service from its JIT build output.</summary>
    public string? BinDir { get; init; }

    /// <summary>Build configuration of the JIT outputs (spawn-timer always, the others without <see cref="BinDir"/>).</summary>
    public string Configuration { get; init; } = "Release";

    /// <summary>The mesh's base port; null picks a free layout (never 7700, so a running <c>up</c> is left alone).</summary>
    public int? BasePort { get; init; }

    /// <summary>Where the JSON report goes.</summary>
    public required string OutputDir { get; init; }
    public string? Token { get; init; }

    /// <summary>The command line, for the report.</summary>
    public string Command { get; init; } = "veltrix-cli bench";
}

/// <summary>The mesh stopped serving during a run.</summary>
public sealed class BenchFailedException(string message) : Exception(message);

/// <summary>
/// One bench run: the bare sink under the load generator, then the mesh (from the AOT binaries, with its own
/// data folder, and with --redis a private redis-server) under the same load, sampled per process over the
/// measured window; then redis-benchmark against that Redis; then the table, the budget and the JSON report.
/// Every process it started is stopped by pid before it returns, whatever happened.
/// </summary>
public sealed class BenchRunner
{
    private readonly BenchOptions _options;
    private readonly TextWriter _out;
    private readonly TimeProvider _time;

    public BenchRunner(BenchOptions options, TextWriter output, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        options.Load.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Duration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Warmup, TimeSpan.Zero);
        _options = options;
        _out = output;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Where the JSON report was written, once <see cref="RunAsync"/> returned.</summary>
    public string? ReportPath { get; private set; }

    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var o = _options;
        var startedUtc = _time.GetUtcNow();
        var report = new BenchReport
        {
            StartedUtc = startedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = o.Command,
            Machine = Machine(),
            Settings = new BenchRunSettings(o.Redis ? "redis" : "embedded", o.Load.Streams, o.Load.Batch, o.Load.InFlight, o.Load.Rate,
                o.Load.Players, o.Load.Worlds, o.Load.DigEvery, o.Warmup.TotalSeconds, o.Duration.TotalSeconds, o.BinDir is not null, o.Smoke),
            LoadAverageBefore = LoadAverage(),
        };
        WriteHeader(report);

        var scratch = Directory.CreateTempSubdirectory("veltrix-bench-").FullName;
        var keepScratch = true;
        try
        {
            if (o.Sink)
            {
                report.Sink = await RunSinkAsync(cancellationToken);
            }
            await RunMeshAsync(report, scratch, cancellationToken);
            report.Completed = true;
            report.AllAcked = report.Mesh?.AllAcked == true && (report.Sink is null || report.Sink.AllAcked);
            keepScratch = !report.AllAcked;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            report.Failure = "interrupted";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            report.Failure = e is BenchFailedException or MeshStartException ? e.Message : e.GetType().Name + ": " + e.Message;
        }
        finally
        {
            report.LoadAverageAfter = LoadAverage();
            // Worth keeping only once the mesh ran: its logs say what went wrong.
            if (keepScratch && Directory.Exists(Path.Combine(scratch, "mesh")))
            {
                _out.WriteLine($"logs and data kept in {scratch}");
            }
            else
            {
                TryDelete(scratch);
            }
        }

        Finish(report);
        BenchTable.Write(report, _out);
        ReportPath = WriteJson(report, startedUtc);
        _out.WriteLine($"report: {ReportPath}");
        return report;
    }

    private async Task<LoadResult> RunSinkAsync(CancellationToken cancellationToken)
    {
        _out.WriteLine("bare gRPC sink (in-process Kestrel, h2c on 127.0.0.1): the transport ceiling");
        await using var sink = await BareSink.StartAsync(cancellationToken);
        using var client = new GatewayClients(sink.Address, _options.Token, _time);
        var (result, _, _) = await RunLoadAsync("sink", client, sampler: null, failure: null, cancellationToken);
        return result;
    }

    private async Task RunMeshAsync(BenchReport report, string scratch, CancellationToken cancellationToken)
    {
        var o = _options;
        BenchRedis? redis = null;
        try
        {
            if (o.Redis)
            {
                redis = await BenchRedis.StartAsync(Path.Combine(scratch, "redis"), cancellationToken);
                _out.WriteLine($"redis-server pid {redis.Pid} on {redis.ConnectionString} (appendonly yes, appendfsync always)");
            }
            var settings = new MeshSettings
            {
                RepoRoot = o.RepoRoot,
                DataDir = Path.Combine(scratch, "mesh"),
                BasePort = o.BasePort ?? PortProbe.FindFreeBase(Random.Shared),
                Configuration = o.Configuration,
                BinDir = o.BinDir,
                ResolverArguments = redis is null ? [] : ["--Veltrix:Storage:Kind=redis", "--Veltrix:Storage:Redis=" + redis.ConnectionString],
            };
            _out.WriteLine($"mesh ({(o.BinDir is null ? "JIT, " + o.Configuration : "native AOT from " + o.BinDir)}; {(o.Redis ? "Redis" : "embedded")} store; " +
                $"gateway on 127.0.0.1:{settings.BasePort}; logs in {Path.Combine(settings.DataDir, "logs")})");
            await using var mesh = new Mesh(settings, _out, _time);
            await mesh.StartAsync(cancellationToken);

            var targets = mesh.Processes
                .Select(p => new SampleTarget(p.Name, p.Pid, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{p.Spec.HttpPort(mesh.Ports)}/metrics"))))
                .Append(new SampleTarget("veltrix-cli (load)", Environment.ProcessId, null, Self: true))
                .ToList();
            if (redis is not null)
            {
                targets.Add(new SampleTarget("redis-server", redis.Pid, null));
            }
            using var sampler = new ServiceSampler(targets);
            using var gateway = new GatewayClients(mesh.GatewayAddress, o.Token, _time);
            var (result, start, end) = await RunLoadAsync("mesh", gateway, sampler, mesh.Failure, cancellationToken);
            report.Mesh = result;
            if (start is not null && end is not null)
            {
                var figures = sampler.Figures(start, end, result.Acked);
                var services = mesh.Processes.Select(p => p.Pid).ToHashSet();
                report.Services = [.. figures.Where(f => services.Contains(f.Pid))];
                report.Companions = [.. figures.Where(f => !services.Contains(f.Pid))];
            }
            if (mesh.Failure.IsCompleted)
            {
                throw new BenchFailedException(await mesh.Failure);
            }
            _out.WriteLine("stopping the mesh");
            await mesh.StopAsync();
            var alive = mesh.Processes.Where(p => Posix.IsAlive(p.Pid)).Select(p => $"{p.Name} (pid {p.Pid})").ToList();
            if (alive.Count > 0)
            {
                throw new BenchFailedException("still running after stop: " + string.Join(", ", alive));
            }

            if (redis is not null)
            {
                _out.WriteLine("redis-benchmark against the same redis-server (the mesh stopped)");
                report.RedisBenchmark = await RedisBenchmark.RunAsync(redis.Port, _out, cancellationToken);
            }
        }
        finally
        {
            if (redis is not null)
            {
                await redis.DisposeAsync();
            }
        }
    }

    /// <summary>One load phase: warm-up, the measured window (progress every second), then a bounded drain.</summary>
    private async Task<(LoadResult Result, IReadOnlyList<ServiceSnapshot>? Start, IReadOnlyList<ServiceSnapshot>? End)> RunLoadAsync(
        string target, GatewayClients client, ServiceSampler? sampler, Task<string>? failure, CancellationToken cancellationToken)
    {
        var o = _options;
        var settings = o.Load with { StreamLifetime = o.Warmup + o.Duration + o.Load.DrainTimeout + TimeSpan.FromMinutes(1) };
        await using var load = new LoadGenerator(client.Ingest, client.Call, settings, _time);
        var stats = load.Stats;
        var phase = new LongHistogram(1, LoadStats.HighestLatencyUs, 3);
        var frequency = _time.TimestampFrequency;
        var started = _time.GetTimestamp();
        var warmupEnd = started + (long)(o.Warmup.TotalSeconds * frequency);
        var windowEnd = warmupEnd + (long)(o.Duration.TotalSeconds * frequency);
        var nextTick = started + frequency;
        var measuring = false;
        LoadCounts atStart = default, atEnd = default, last = default;
        long t0 = started, t1 = started, lastAt = started;
        IReadOnlyList<ServiceSnapshot>? first = null, final = null;
        Task failed = (Task?)failure ?? Task.Delay(Timeout.Infinite, cancellationToken);

        load.Start();
        try
        {
            // Bounded: one pass per second of the run and one per boundary, with room to spare for early wake-ups.
            var passes = 2 * (int)(o.Warmup + o.Duration).TotalSeconds + 20;
            for (var pass = 0; pass < passes; pass++)
            {
                var wakeAt = Math.Min(nextTick, measuring ? windowEnd : warmupEnd);
                var ahead = wakeAt - _time.GetTimestamp();
                if (ahead > 0)
                {
                    var delay = Task.Delay(TimeSpan.FromSeconds((double)ahead / frequency), _time, cancellationToken);
                    await Task.WhenAny(delay, failed);
                    cancellationToken.ThrowIfCancellationRequested();
                }
                if (failure is { IsCompleted: true })
                {
                    throw new BenchFailedException(await failure);
                }
                var now = _time.GetTimestamp();
                phase.Add(stats.Latency.GetIntervalHistogram());
                // The second that just ended is reported before a boundary changes the phase.
                if (now >= nextTick)
                {
                    var counts = stats.Read();
                    var perSecond = (counts.Acked - last.Acked) / Math.Max(1e-9, (double)(now - lastAt) / frequency);
                    _out.WriteLine(Progress(target, (double)(now - started) / frequency, measuring, perSecond, counts, phase));
                    last = counts;
                    lastAt = now;
                    while (nextTick <= now)
                    {
                        nextTick += frequency;
                    }
                }
                if (!measuring && now >= warmupEnd)
                {
                    atStart = stats.Read();
                    t0 = now;
                    phase.Reset();
                    sampler?.ResetPeaks();
                    first = sampler is null ? null : await sampler.SnapshotAsync(cancellationToken);
                    measuring = true;
                }
                else if (measuring && now >= windowEnd)
                {
                    atEnd = stats.Read();
                    t1 = now;
                    final = sampler is null ? null : await sampler.SnapshotAsync(cancellationToken);
                    break;
                }
                else if (measuring)
                {
                    sampler?.PollRss();
                }
            }
        }
        finally
        {
            await load.StopAsync();
        }
        if (t1 == started)
        {
            throw new BenchFailedException($"{target}: the measured window never ended");
        }

        var total = stats.Read();
        var window = atEnd - atStart;
        var seconds = (double)(t1 - t0) / frequency;
        var result = new LoadResult
        {
            Target = target,
            WindowSeconds = seconds,
            EventsPerSecond = window.Acked / seconds,
            Sent = window.Sent,
            Acked = window.Acked,
            Accepted = window.Accepted,
            Rejected = window.Rejected,
            Duplicate = window.Duplicate,
            Malformed = window.Malformed,
            Unspecified = window.Unspecified,
            LatencyUs = Summarize(phase),
            TotalSent = total.Sent,
            TotalAcked = total.Acked,
            TotalUnspecified = total.Unspecified,
            Lost = total.Lost,
            Errors = total.Errors,
            StreamsOpened = total.StreamsOpened,
            LastError = stats.LastError,
        };
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {target}: {result.EventsPerSecond:N0} events/s acked over {seconds:0.0} s; whole phase sent {total.Sent:N0}, acked {total.Acked:N0}, " +
            $"lost {total.Lost:N0}, errors {total.Errors:N0}{(stats.LastError is { } e ? " (last: " + e + ")" : "")}"));
        return (result, first, final);
    }

    /// <summary>Percentiles of a latency histogram (µs).</summary>
    public static LatencySummary Summarize(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return histogram.TotalCount == 0
            ? new LatencySummary(0, 0, 0, 0, 0, 0)
            : new LatencySummary(histogram.TotalCount, histogram.GetMean(), histogram.GetValueAtPercentile(50),
                histogram.GetValueAtPercentile(99), histogram.GetValueAtPercentile(99.9), histogram.GetMaxValue());
    }

    private static string Progress(string target, double elapsed, bool measuring, double perSecond, LoadCounts counts, HistogramBase phase)
    {
        var p99 = phase.TotalCount == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{phase.GetValueAtPercentile(99) / 1000.0:0.00} ms");
        return string.Create(CultureInfo.InvariantCulture,
            $"  {target,-4} {elapsed,4:0}s {(measuring ? "measure" : "warm-up"),-7} {perSecond,12:N0} events/s   acked {counts.Acked,13:N0}   errors {counts.Errors:N0}   p99 {p99}");
    }

    /// <summary>Totals over the services, the ratio to the sink, and the budget's verdicts.</summary>
    private void Finish(BenchReport report)
    {
        if (report.Mesh is not { } mesh)
        {
            return;
        }
        if (report.Sink is { EventsPerSecond: > 0 } sink)
        {
            report.MeshToSinkRatio = mesh.EventsPerSecond / sink.EventsPerSecond;
        }
        var services = report.Services;
        if (services.Count == 0)
        {
            return;
        }
        var window = mesh.WindowSeconds;
        var cpu = services.Sum(s => s.CpuSeconds);
        var switches = services.Sum(s => s.VoluntarySwitches + s.InvoluntarySwitches);
        var gcKnown = services.All(s => s.Gc is not null);
        long? allocated = gcKnown ? services.Sum(s => s.Gc!.AllocatedBytes) : null;
        long? gen2 = gcKnown ? services.Sum(s => s.Gc!.Gen2) : null;
        double? pause = gcKnown ? services.Sum(s => s.Gc!.PauseSeconds) : null;
        var biggest = services.MaxBy(s => s.RssMaxMiB)!;
        var totals = new MeshTotals(
            cpu, cpu / window * 100, switches, mesh.Acked > 0 ? switches * 1e6 / mesh.Acked : 0,
            allocated, allocated is { } a && mesh.Acked > 0 ? (double)a / mesh.Acked : null, allocated is { } b ? b / window : null,
            gen2, pause, pause is { } p ? p / window * 100 : null, biggest.RssMaxMiB, biggest.Name);
        report.Totals = totals;
        report.Budget = Budget.Evaluate(new BudgetInputs
        {
            EventsPerSecond = mesh.EventsPerSecond,
            TargetRate = _options.Load.Rate,
            P999Us = mesh.LatencyUs.P999,
            SinkEventsPerSecond = report.Sink?.EventsPerSecond,
            AllocatedBytesPerEvent = totals.AllocatedBytesPerEvent,
            AllocatedBytesPerSecond = totals.AllocatedBytesPerSecond,
            Gen2 = totals.Gen2,
            GcPausePercent = totals.GcPausePercent,
            ContextSwitchesPerMillionEvents = totals.ContextSwitchesPerMillionEvents,
            RssMaxMiB = totals.RssMaxMiB,
            RssMaxService = totals.RssMaxService,
            Players = _options.Load.Players,
            WindowSeconds = window,
        });
    }

    private void WriteHeader(BenchReport report)
    {
        var s = report.Settings;
        var m = report.Machine;
        var c = CultureInfo.InvariantCulture;
        _out.WriteLine(string.Create(c, $"veltrix bench: {m.Cpu}, {m.Cores} cores, {m.MemoryGiB:0} GiB; load average {string.Join(' ', report.LoadAverageBefore)}"));
        var rate = s.Rate is { } r ? r.ToString("N0", c) + " events/s" : "flat out";
        var smoke = s.Smoke ? " (smoke: only completion and acked = sent are checked)" : "";
        _out.WriteLine(string.Create(c,
            $"  {s.Streams} streams × {s.InFlight} batches in flight × {s.Batch} events, {rate}, {s.Players:N0} players in {s.Worlds} worlds; " +
            $"warm-up {BenchDuration.Format(_options.Warmup)}, window {BenchDuration.Format(_options.Duration)}{smoke}"));
    }

    private string WriteJson(BenchReport report, DateTimeOffset startedUtc)
    {
        Directory.CreateDirectory(_options.OutputDir);
        var path = Path.Combine(_options.OutputDir, $"bench-{startedUtc.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(report, BenchJsonContext.Default.BenchReport) + "\n");
        return path;
    }

    internal static MachineInfo Machine()
    {
        var cpu = "unknown CPU";
        var memory = 0.0;
        var kernel = "";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) is { } line
                ? line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()
                : cpu;
            var mem = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (mem is not null && long.TryParse(mem["MemTotal:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
            {
                memory = kb / 1024.0 / 1024.0;
            }
            kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            // Not Linux: the report says less about the machine.
        }
        return new MachineInfo(cpu, Environment.ProcessorCount, memory, kernel, RuntimeInformation.FrameworkDescription);
    }

    /// <summary>/proc/loadavg's 1, 5 and 15 minute averages.</summary>
    internal static double[] LoadAverage()
    {
        try
        {
            return [.. File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(3)
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return [];
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is no reason to fail a run.
        }
    }
}
