using System.Globalization;
using System.Text.Json;
using HdrHistogram;
using Veltrix.Cli.Launch;

namespace Veltrix.Cli.Bench.Leaderboard;

/// <summary>
/// The leaderboard alone against the budget's leaderboard row: the service (AOT binary) follows a stand-in score
/// feed on the resolver's port, which sends a snapshot of every player and then score changes. Two windows: the
/// feed flat out while a probe times Top and Around (updates/s, query latency), then a crowd of Watch subscribers
/// of the global board with the feed at a fixed rate (frame delay). Then <c>redis-benchmark</c> ZADD against a
/// private in-memory redis-server, the baseline the row compares with. Everything started is stopped by pid.
/// </summary>
public sealed class LeaderboardBench : IDisposable
{
    private const string UpdatesCounter = "veltrix_leaderboard_updates_applied";
    private const string CutOffsCounter = "veltrix_leaderboard_watch_cutoffs";
    private static readonly TimeSpan SnapshotTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan RampTimeout = TimeSpan.FromSeconds(90);

    private readonly LeaderboardBenchOptions _options;
    private readonly TextWriter _out;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };

    public LeaderboardBench(LeaderboardBenchOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        _options = options;
        _out = output;
    }

    public string? ReportPath { get; private set; }

    public void Dispose() => _http.Dispose();

    public async Task<LeaderboardBenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var o = _options;
        var startedUtc = DateTimeOffset.UtcNow;
        var report = new LeaderboardBenchReport
        {
            StartedUtc = startedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = o.Command,
            Machine = BenchRunner.Machine(),
            Settings = new LeaderboardRunSettings(o.Players, o.Worlds, o.Warmup.TotalSeconds, o.Duration.TotalSeconds, o.Subscribers,
                o.TopN, o.MaxHz, o.WatchRate, o.FeedBatch, o.BinDir is not null),
            LoadAverageBefore = BenchRunner.LoadAverage(),
        };
        var c = CultureInfo.InvariantCulture;
        _out.WriteLine(string.Create(c,
            $"veltrix bench leaderboard: {report.Machine.Cpu}, {report.Machine.Cores} cores; load average {string.Join(' ', report.LoadAverageBefore)}"));
        _out.WriteLine(string.Create(c,
            $"  {o.Players:N0} players in {o.Worlds:N0} worlds, feed messages of {o.FeedBatch} changes; windows of {BenchDuration.Format(o.Duration)} " +
            $"after {BenchDuration.Format(o.Warmup)}; {o.Subscribers:N0} Watch subscribers of top {o.TopN} at {o.MaxHz} Hz"));

        var scratch = Directory.CreateTempSubdirectory("veltrix-bench-leaderboard-").FullName;
        var keepScratch = true;
        try
        {
            await RunLeaderboardAsync(report, scratch, cancellationToken);
            if (o.Redis)
            {
                await RunRedisAsync(report, scratch, cancellationToken);
            }
            report.Completed = true;
            keepScratch = false;
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
            report.LoadAverageAfter = BenchRunner.LoadAverage();
            if (keepScratch && Directory.Exists(Path.Combine(scratch, "mesh")))
            {
                _out.WriteLine($"logs kept in {scratch}");
            }
            else
            {
                BenchRunner.TryDelete(scratch);
            }
        }

        report.Budget = Evaluate(report);
        WriteTable(report);
        Directory.CreateDirectory(o.OutputDir);
        ReportPath = Path.Combine(o.OutputDir, $"leaderboard-{startedUtc.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", c)}.json");
        await File.WriteAllTextAsync(ReportPath, JsonSerializer.Serialize(report, LeaderboardJsonContext.Default.LeaderboardBenchReport) + "\n", CancellationToken.None);
        _out.WriteLine($"report: {ReportPath}");
        return report;
    }

    private async Task RunLeaderboardAsync(LeaderboardBenchReport report, string scratch, CancellationToken cancellationToken)
    {
        var o = _options;
        var basePort = o.BasePort ?? PortProbe.FindFreeBase(Random.Shared);
        var ports = new PortLayout(basePort);
        var traffic = new ScoreTraffic(o.Players, o.Worlds, TimeSpan.FromMilliseconds(10));
        await using var feed = await ScoreFeedStandIn.StartAsync(ports.ResolverGrpc, traffic, o.FeedBatch, cancellationToken);
        _out.WriteLine($"score feed stand-in on 127.0.0.1:{ports.ResolverGrpc} (the resolver's port)");

        var settings = new MeshSettings
        {
            RepoRoot = o.RepoRoot,
            DataDir = Path.Combine(scratch, "mesh"),
            BasePort = basePort,
            Configuration = o.Configuration,
            BinDir = o.BinDir,
            Only = [ServiceCatalog.Leaderboard],
        };
        await using var mesh = new Mesh(settings, _out);
        var subscribed = ScoreTraffic.Clock();
        await mesh.StartAsync(cancellationToken);
        var leaderboard = mesh.Processes.Single();
        var metrics = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{ports.LeaderboardHttp}/metrics"));
        var address = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{ports.LeaderboardGrpc}"));

        // The snapshot: every player and the beacon, applied.
        var deadline = DateTime.UtcNow + SnapshotTimeout;
        while (await CounterAsync(metrics, UpdatesCounter, cancellationToken) < o.Players + 1)
        {
            await FailIfExitedAsync(mesh);
            if (DateTime.UtcNow > deadline)
            {
                throw new BenchFailedException($"the leaderboard did not apply the snapshot of {o.Players:N0} players within {SnapshotTimeout.TotalMinutes:0} min");
            }
            await Task.Delay(100, cancellationToken);
        }
        report.SnapshotSeconds = (ScoreTraffic.Clock() - subscribed) / 1e6;
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  snapshot of {o.Players:N0} players applied {report.SnapshotSeconds:0.0} s after the start"));

        using var sampler = new ServiceSampler(
        [
            new SampleTarget(leaderboard.Name, leaderboard.Pid, metrics),
            new SampleTarget("veltrix-cli (feed, probes)", Environment.ProcessId, null, Self: true),
        ]);

        // Window 1: the feed flat out, the probe reading.
        feed.Rate = 0;
        await using (var probe = new QueryProbe(address, o.Players))
        {
            await Task.Delay(o.Warmup, cancellationToken);
            probe.TopUs.Reset();
            probe.AroundUs.Reset();
            var (window, start, end) = await MeasureAsync("updates", mesh, metrics, feed, sampler, crowd: null, cancellationToken);
            var seconds = window.Seconds;
            var processes = sampler.Figures(start, end, window.Updates);
            report.Updates = new UpdatesPhase
            {
                WindowSeconds = seconds,
                UpdatesPerSecond = window.Updates / seconds,
                FedPerSecond = window.Fed / seconds,
                TopUs = BenchRunner.Summarize(probe.TopUs.GetIntervalHistogram()),
                AroundUs = BenchRunner.Summarize(probe.AroundUs.GetIntervalHistogram()),
                QueryErrors = probe.Errors,
                LastQueryError = probe.LastError,
                Processes = processes,
                AllocatedBytesPerUpdate = processes[0].AllocatedBytesPerEvent,
            };
        }

        // Window 2: the crowd watching, the feed at the watch rate.
        feed.Rate = o.WatchRate;
        if (o.Subscribers > 0)
        {
            await WatchAsync(report, mesh, metrics, address, feed, sampler, cancellationToken);
        }

        _out.WriteLine("stopping the leaderboard");
        await mesh.StopAsync();
        if (Posix.IsAlive(leaderboard.Pid))
        {
            throw new BenchFailedException($"the leaderboard (pid {leaderboard.Pid}) still runs after stop");
        }
    }

    private async Task WatchAsync(LeaderboardBenchReport report, Mesh mesh, Uri metrics, Uri address, ScoreFeedStandIn feed,
        ServiceSampler sampler, CancellationToken cancellationToken)
    {
        var o = _options;
        await using (var crowd = new WatchCrowd(address, "global", o.TopN, o.MaxHz))
        {
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  opening {o.Subscribers:N0} Watch streams"));
            await crowd.AddAsync(o.Subscribers, perStep: 250, pause: TimeSpan.FromMilliseconds(25), cancellationToken);
            var rampEnd = DateTime.UtcNow + RampTimeout;
            while (crowd.Read() is var counts && counts.Receiving + counts.Failed + counts.Ended < o.Subscribers && DateTime.UtcNow < rampEnd)
            {
                await FailIfExitedAsync(mesh);
                await Task.Delay(250, cancellationToken);
            }
            await Task.Delay(o.Warmup, cancellationToken);
            var receivingAtStart = crowd.Read().Receiving;
            crowd.Delay.Reset();
            var cutOffsBefore = await CounterAsync(metrics, CutOffsCounter, cancellationToken);
            var (window, start, end) = await MeasureAsync("watch", mesh, metrics, feed, sampler, crowd, cancellationToken);
            var delays = window.Delays!;
            var after = crowd.Read();
            var seconds = window.Seconds;
            var cutOffs = await CounterAsync(metrics, CutOffsCounter, cancellationToken) - cutOffsBefore;
            report.Watch = new WatchPhase
            {
                Subscribers = crowd.Subscribers,
                ReceivingAtStart = receivingAtStart,
                ReceivingAtEnd = after.Receiving,
                Failed = after.Failed,
                Ended = after.Ended,
                LastError = crowd.LastError ?? (cutOffs > 0 ? $"{cutOffs} subscribers cut off by the leaderboard" : null),
                WindowSeconds = seconds,
                FramesPerSecond = window.Frames / seconds,
                FramesPerSubscriberPerSecond = after.Receiving > 0 ? window.Frames / seconds / after.Receiving : 0,
                Heartbeats = window.Heartbeats,
                DelayUs = BenchRunner.Summarize(delays),
                UpdatesPerSecond = window.Updates / seconds,
                Processes = sampler.Figures(start, end, window.Frames),
            };
        }
    }

    private readonly record struct Window(double Seconds, long Updates, long Fed, long Frames, long Heartbeats, HistogramBase? Delays);

    /// <summary>One measured window with a line of progress a second; bounded by its duration.</summary>
    private async Task<(Window Window, IReadOnlyList<ServiceSnapshot> Start, IReadOnlyList<ServiceSnapshot> End)> MeasureAsync(
        string name, Mesh mesh, Uri metrics, ScoreFeedStandIn feed, ServiceSampler sampler, WatchCrowd? crowd, CancellationToken cancellationToken)
    {
        sampler.ResetPeaks();
        var start = await sampler.SnapshotAsync(cancellationToken);
        var updates0 = await CounterAsync(metrics, UpdatesCounter, cancellationToken);
        var fed0 = feed.Traffic.ChangesWritten;
        var crowd0 = crowd?.Read() ?? default;
        var t0 = ScoreTraffic.Clock();
        var lastUpdates = updates0;
        var lastFrames = crowd0.Frames;
        var lastAt = t0;
        var delays = crowd is null ? null : new LongHistogram(1, LoadStats.HighestLatencyUs, 3);
        var seconds = (int)Math.Ceiling(_options.Duration.TotalSeconds);
        for (var second = 1; second <= seconds; second++)
        {
            var wakeAt = t0 + (long)(Math.Min(second, _options.Duration.TotalSeconds) * 1e6);
            var ahead = wakeAt - ScoreTraffic.Clock();
            if (ahead > 0)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(ahead), cancellationToken);
            }
            await FailIfExitedAsync(mesh);
            sampler.PollRss();
            var now = ScoreTraffic.Clock();
            var updates = await CounterAsync(metrics, UpdatesCounter, cancellationToken);
            var elapsed = Math.Max(1e-6, (now - lastAt) / 1e6);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"  {name,-7} {second,3}s {(updates - lastUpdates) / elapsed,12:N0} updates/s");
            if (crowd is not null)
            {
                var counts = crowd.Read();
                var thisSecond = crowd.Delay.GetIntervalHistogram();
                delays!.Add(thisSecond);
                line += string.Create(CultureInfo.InvariantCulture,
                    $"   {(counts.Frames - lastFrames) / elapsed,9:N0} frames/s   receiving {counts.Receiving:N0}   delay p99 {(thisSecond.TotalCount == 0 ? "-" : BenchTable.Ms(thisSecond.GetValueAtPercentile(99)))}");
                lastFrames = counts.Frames;
            }
            _out.WriteLine(line);
            lastUpdates = updates;
            lastAt = now;
        }
        var end = await sampler.SnapshotAsync(cancellationToken);
        var t1 = ScoreTraffic.Clock();
        var crowd1 = crowd?.Read() ?? default;
        if (crowd is not null)
        {
            delays!.Add(crowd.Delay.GetIntervalHistogram());
        }
        var window = new Window((t1 - t0) / 1e6, await CounterAsync(metrics, UpdatesCounter, cancellationToken) - updates0,
            feed.Traffic.ChangesWritten - fed0, crowd1.Frames - crowd0.Frames, crowd1.Heartbeats - crowd0.Heartbeats, delays);
        return (window, start, end);
    }

    private async Task RunRedisAsync(LeaderboardBenchReport report, string scratch, CancellationToken cancellationToken)
    {
        if (!File.Exists(BenchRedis.ServerPath) || !File.Exists(BenchRedis.BenchmarkPath))
        {
            _out.WriteLine($"  {BenchRedis.ServerPath} or {BenchRedis.BenchmarkPath} missing (apt-get install redis-server redis-tools): no ZADD baseline");
            return;
        }
        await using var redis = await BenchRedis.StartAsync(Path.Combine(scratch, "redis"), cancellationToken, durable: false);
        _out.WriteLine($"redis-benchmark ZADD against redis-server pid {redis.Pid} (in memory), {_options.Players:N0} members, pipelined 16 deep");
        report.RedisZadd = await RedisBenchmark.ZaddAsync(redis.Port, _options.Players, cancellationToken);
        if (report.RedisZadd is { RequestsPerSecond: > 0 } zadd && report.Updates is { } updates)
        {
            report.UpdatesToZadd = updates.UpdatesPerSecond / zadd.RequestsPerSecond;
        }
    }

    private async Task<long> CounterAsync(Uri metrics, string name, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync(metrics, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new BenchFailedException($"the leaderboard's /metrics did not answer: {e.Message}");
        }
        long total = 0;
        foreach (var sample in PrometheusText.Parse(text))
        {
            if (sample.Name.StartsWith(name, StringComparison.Ordinal))
            {
                total += (long)sample.Value;
            }
        }
        return total;
    }

    private static async Task FailIfExitedAsync(Mesh mesh)
    {
        if (mesh.Failure.IsCompleted)
        {
            throw new BenchFailedException(await mesh.Failure);
        }
    }

    private List<BudgetRow> Evaluate(LeaderboardBenchReport report)
    {
        var c = CultureInfo.InvariantCulture;
        var rows = new List<BudgetRow>();
        if (report.Updates is { } u)
        {
            rows.Add(new BudgetRow("leaderboard score updates", "≥ 1,000,000/s",
                string.Create(c, $"{u.UpdatesPerSecond:N0}/s with {_options.Players:N0} players"),
                u.UpdatesPerSecond >= 1_000_000 ? Budget.Met : Budget.NotMet));
            var worst = Math.Max(u.TopUs.P99, u.AroundUs.P99);
            rows.Add(new BudgetRow("leaderboard Top/Around p99", "≤ 1 ms",
                string.Create(c, $"Top p99 {BenchTable.Ms(u.TopUs.P99)}, Around p99 {BenchTable.Ms(u.AroundUs.P99)} while updated flat out"),
                u.TopUs.Count > 0 && u.AroundUs.Count > 0 && u.QueryErrors == 0 && worst <= 1_000 ? Budget.Met : Budget.NotMet));
        }
        if (report.UpdatesToZadd is { } ratio)
        {
            rows.Add(new BudgetRow("leaderboard vs redis-benchmark ZADD", "≥ 5×",
                string.Create(c, $"{ratio:0.00}× ({report.RedisZadd!.RequestsPerSecond:N0} ZADD/s, -P 16)"),
                ratio >= 5 ? Budget.Met : Budget.NotMet));
        }
        if (report.Watch is { } w)
        {
            var all = w.ReceivingAtEnd == _options.Subscribers && w.Failed == 0 && w.Ended == 0;
            // The top changes every 10 ms (the beacon), so every subscriber is owed a frame every 1/max_hz.
            var atRate = w.FramesPerSubscriberPerSecond >= 0.95 * _options.MaxHz;
            rows.Add(new BudgetRow("Watch: top-100 at 10 Hz", "10,000 subscribers, p99 frame delay ≤ 250 ms",
                string.Create(c, $"{w.ReceivingAtEnd:N0} receiving, {w.FramesPerSubscriberPerSecond:0.0} frames/s each, delay p99 {BenchTable.Ms(w.DelayUs.P99)} (max {BenchTable.Ms(w.DelayUs.Max)})"),
                all && atRate && _options.Subscribers >= 10_000 && _options.TopN >= 100 && w.DelayUs.Count > 0 && w.DelayUs.P99 <= 250_000 ? Budget.Met : Budget.NotMet));
        }
        return rows;
    }

    private void WriteTable(LeaderboardBenchReport report)
    {
        var c = CultureInfo.InvariantCulture;
        _out.WriteLine();
        _out.WriteLine($"results (load average before {BenchTable.Join(report.LoadAverageBefore)}, after {BenchTable.Join(report.LoadAverageAfter)})");
        if (report.Updates is { } u)
        {
            _out.WriteLine(string.Create(c,
                $"  updates, feed flat out: {u.UpdatesPerSecond:N0} applied/s (fed {u.FedPerSecond:N0}/s); " +
                $"{(u.AllocatedBytesPerUpdate is { } a ? a.ToString("0.0", c) + " B/update allocated" : "")}"));
            _out.WriteLine(string.Create(c,
                $"  Top 100:    {u.TopUs.Count,7:N0} calls, p50 {BenchTable.Ms(u.TopUs.P50)}, p99 {BenchTable.Ms(u.TopUs.P99)}, max {BenchTable.Ms(u.TopUs.Max)}"));
            _out.WriteLine(string.Create(c,
                $"  Around ±10: {u.AroundUs.Count,7:N0} calls, p50 {BenchTable.Ms(u.AroundUs.P50)}, p99 {BenchTable.Ms(u.AroundUs.P99)}, max {BenchTable.Ms(u.AroundUs.Max)}; errors {u.QueryErrors}{(u.LastQueryError is { } e ? " (" + e + ")" : "")}"));
            BenchTable.WriteProcesses(u.Processes, _out, "B/update");
        }
        if (report.Watch is { } w)
        {
            _out.WriteLine(string.Create(c,
                $"  watch, feed at {(_options.WatchRate == 0 ? "flat out" : _options.WatchRate.ToString("N0", c) + "/s")}: {w.ReceivingAtEnd:N0} of {w.Subscribers:N0} receiving " +
                $"({w.Failed} failed, {w.Ended} ended{(w.LastError is { } e ? ": " + e : "")}); {w.FramesPerSecond:N0} frames/s, {w.FramesPerSubscriberPerSecond:0.00} per subscriber; " +
                $"updates {w.UpdatesPerSecond:N0}/s"));
            _out.WriteLine(string.Create(c,
                $"  frame delay: p50 {BenchTable.Ms(w.DelayUs.P50)}, p99 {BenchTable.Ms(w.DelayUs.P99)}, p99.9 {BenchTable.Ms(w.DelayUs.P999)}, max {BenchTable.Ms(w.DelayUs.Max)} over {w.DelayUs.Count:N0} frames"));
            BenchTable.WriteProcesses(w.Processes, _out, "B/frame");
        }
        if (report.RedisZadd is { } z)
        {
            _out.WriteLine(string.Create(c, $"  redis-benchmark {z.Test}: {z.RequestsPerSecond:N0} ops/s"));
        }
        BenchTable.WriteBudget(report.Budget, _out);
        _out.WriteLine();
        _out.WriteLine(report.Failure is { } failure ? "bench failed: " + failure : "bench: completed");
    }
}
