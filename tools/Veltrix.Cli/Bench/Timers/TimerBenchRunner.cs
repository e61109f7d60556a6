using System.Globalization;
using System.Text.Json;
using Grpc.Net.Client;
using Veltrix.Cli.Launch;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bench.Timers;

/// <summary>How a timers bench run is set up.</summary>
public sealed record TimerBenchOptions
{
    public int Timers { get; set; } = 1_000_000;

    /// <summary>Fires per second the due times are laid out at.</summary>
    public double Rate { get; set; } = 100_000;

    public int Worlds { get; set; } = 4096;

    /// <summary>ScheduleOnce calls in flight at once.</summary>
    public int InFlight { get; set; } = 64;

    /// <summary>Timers due 1 s after each is sent, scheduled first (JIT warm-up, and the schedule rate the lead is computed from).</summary>
    public int WarmupTimers { get; set; } = 20_000;

    /// <summary>From the start of scheduling to the first due time; null computes it from the warm-up's schedule rate.</summary>
    public TimeSpan? Lead { get; set; }

    /// <summary>How long after the last due time the run waits for spawns still to arrive.</summary>
    public TimeSpan Drain { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The whole run, start to stop, at most.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(20);

    public bool Smoke { get; set; }

    public required string RepoRoot { get; set; }

    /// <summary>Build configuration whose spawn-timer output is run.</summary>
    public string Configuration { get; set; } = "Release";

    /// <summary>The port layout's base; null picks a free one. The stand-in takes the resolver's port of the layout.</summary>
    public int? BasePort { get; set; }

    public required string OutputDir { get; set; }

    public string Command { get; set; } = "veltrix-cli bench-timers";
}

/// <summary>
/// One timers bench run: a stand-in resolver in this process, the real spawn-timer process from its build output
/// pointed at it, then N timers scheduled through ScheduleOnce with due times laid out at the target rate from a
/// first due time after the last is scheduled, then every spawn awaited at the stand-in. Every loop is bounded by
/// a count or the run's deadline; the spawn timer is stopped by pid before this returns, whatever happened.
/// </summary>
public sealed class TimerBenchRunner
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly TimerBenchOptions _options;
    private readonly TextWriter _out;
    private readonly TimeProvider _time;
    private readonly List<FireSecond> _seconds = [];
    private long _peakPending;

    // Unix ms of the earliest due time of the measured timers; set when they are scheduled.
    private long _firstDueMs;

    public TimerBenchRunner(TimerBenchOptions options, TextWriter output, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Timers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Rate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Worlds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.InFlight, 1);
        _options = options;
        _out = output;
        _time = time ?? TimeProvider.System;
    }

    public string? ReportPath { get; private set; }

    public async Task<TimerBenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var o = _options;
        var startedUtc = _time.GetUtcNow();
        var maxPending = o.Timers + o.WarmupTimers;
        var report = new TimerBenchReport
        {
            StartedUtc = startedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = o.Command,
            Machine = BenchRunner.Machine(),
            Settings = new TimerBenchSettings(o.Timers, o.Rate, o.Worlds, o.InFlight, o.WarmupTimers, MeshSettings.DefaultPartitions, maxPending, o.Smoke, o.Configuration),
            LoadAverageBefore = BenchRunner.LoadAverage(),
        };
        var m = report.Machine;
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"veltrix bench timers: {m.Cpu}, {m.Cores} cores, {m.MemoryGiB:0} GiB; load average {string.Join(' ', report.LoadAverageBefore)}"));
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {o.Timers:N0} timers in {o.Worlds:N0} worlds, due at {o.Rate:N0}/s; {o.InFlight} ScheduleOnce in flight; {o.WarmupTimers:N0} warm-up timers{(o.Smoke ? " (smoke: only lost timers fail the run)" : "")}"));

        var scratch = Directory.CreateTempSubdirectory("veltrix-bench-timers-").FullName;
        var keepScratch = true;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(o.Deadline);
        try
        {
            await RunCoreAsync(report, scratch, maxPending, deadline.Token);
            report.Completed = true;
            report.AllArrived = report.Fire is { Lost: 0 } && report.Warmup is { Lost: 0 };
            keepScratch = !report.AllArrived;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            report.Failure = cancellationToken.IsCancellationRequested ? "interrupted" : $"the run's deadline ({BenchDuration.Format(o.Deadline)}) passed";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            report.Failure = e is BenchFailedException or MeshStartException ? e.Message : e.GetType().Name + ": " + e.Message;
        }
        finally
        {
            report.LoadAverageAfter = BenchRunner.LoadAverage();
            if (keepScratch)
            {
                _out.WriteLine($"spawn-timer log kept in {scratch}");
            }
            else
            {
                TryDelete(scratch);
            }
        }

        report.Seconds = [.. _seconds];
        report.Budget = TimerBudget.Evaluate(report);
        TimerBenchTable.Write(report, _out);
        ReportPath = WriteJson(report, startedUtc);
        _out.WriteLine($"report: {ReportPath}");
        return report;
    }

    private async Task RunCoreAsync(TimerBenchReport report, string scratch, int maxPending, CancellationToken cancellationToken)
    {
        var o = _options;
        var basePort = o.BasePort ?? PortProbe.FindFreeBase(Random.Shared);
        var ports = new PortLayout(basePort);
        var ledger = new TimerLedger(o.Timers, o.WarmupTimers);
        await using var receiver = await SpawnReceiver.StartAsync(ports.ResolverGrpc, ledger, _time, cancellationToken);
        _out.WriteLine($"stand-in resolver (PartitionWriter.Apply, in this process) on 127.0.0.1:{ports.ResolverGrpc}");

        var settings = new MeshSettings
        {
            RepoRoot = o.RepoRoot,
            DataDir = scratch,
            BasePort = basePort,
            Configuration = o.Configuration,
            Only = [ServiceCatalog.SpawnTimer],
            SpawnTimerArguments = ["--Veltrix:SpawnTimer:MaxPending=" + maxPending.ToString(CultureInfo.InvariantCulture)],
        };
        await using var mesh = new Mesh(settings, _out, _time);
        await mesh.StartAsync(cancellationToken);
        var timer = mesh.Processes[0];
        var metricsUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{timer.Spec.HttpPort(ports)}/metrics"));
        using var metrics = new TimerMetricsReader(metricsUrl);
        using var sampler = new ServiceSampler(
            [new SampleTarget("spawn-timer", timer.Pid, metricsUrl), new SampleTarget("veltrix-cli (stand-in, client)", Environment.ProcessId, null, Self: true)]);
        using var channel = GrpcChannel.ForAddress(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{timer.Spec.GrpcPort(ports)}"),
            new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    EnableMultipleHttp2Connections = true,
                    ConnectTimeout = TimeSpan.FromSeconds(5),
                    PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                },
            });
        var client = new SpawnTimer.SpawnTimerClient(channel);
        var worlds = new string[o.Worlds];
        for (var i = 0; i < worlds.Length; i++)
        {
            worlds[i] = "bench-" + i.ToString(CultureInfo.InvariantCulture);
        }

        var failed = mesh.Failure;
        var warmupRate = await WarmUpAsync(report, client, ledger, metrics, worlds, failed, cancellationToken);
        await ScheduleAsync(report, client, ledger, metrics, sampler, timer.Pid, worlds, warmupRate, failed, cancellationToken);
        await FireAsync(report, ledger, metrics, sampler, timer.Pid, failed, cancellationToken);

        if (failed.IsCompleted)
        {
            throw new BenchFailedException(await failed);
        }
        _out.WriteLine("stopping the spawn timer");
        await mesh.StopAsync();
        if (Posix.IsAlive(timer.Pid))
        {
            throw new BenchFailedException($"spawn-timer (pid {timer.Pid}) still running after stop");
        }
    }

    /// <summary>Timers due soon after they are sent: the code paths get compiled, and the schedule rate they reach sets the lead.</summary>
    private async Task<double> WarmUpAsync(TimerBenchReport report, SpawnTimer.SpawnTimerClient client, TimerLedger ledger, TimerMetricsReader metrics,
        string[] worlds, Task<string> failed, CancellationToken cancellationToken)
    {
        var o = _options;
        if (o.WarmupTimers == 0)
        {
            return 0;
        }
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up: {o.WarmupTimers:N0} timers, each due 1 s after it is sent"));
        var load = new TimerLoad(client, _time, o.InFlight, CallTimeout);
        var started = _time.GetTimestamp();
        // Each due 1 s after it is sent: every code path of both phases runs (scheduling, the due timer, sends,
        // acks) before the measured timers. The rate is taken from the second half, once the code is compiled.
        var half = o.WarmupTimers / 2;
        long SoonAfter(int n)
        {
            var due = _time.GetUtcNow().ToUnixTimeMilliseconds() + 1_000;
            ledger.Plan(n, due, warmup: true);
            return due;
        }
        await Guard(load.RunAsync(0, half, TimerLedger.WarmupPrefix, worlds, SoonAfter, ledger.ConfirmWarmup, cancellationToken), failed);
        var secondHalf = _time.GetTimestamp();
        var firstHalfScheduled = load.Scheduled;
        await Guard(load.RunAsync(half, o.WarmupTimers, TimerLedger.WarmupPrefix, worlds, SoonAfter, ledger.ConfirmWarmup, cancellationToken), failed);
        var seconds = _time.GetElapsedTime(started).TotalSeconds;
        var rate = (load.Scheduled - firstHalfScheduled) / Math.Max(1e-9, _time.GetElapsedTime(secondHalf).TotalSeconds);
        // Bounded: until every warm-up spawn arrived and none is pending, at most 30 s.
        var until = _time.GetTimestamp() + 30 * _time.TimestampFrequency;
        while (_time.GetTimestamp() < until)
        {
            var pending = (await metrics.ReadAsync(cancellationToken))?.Pending;
            if (ledger.TakeReading().WarmupArrived >= load.Scheduled && pending == 0)
            {
                break;
            }
            await Guard(Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken), failed);
        }
        var arrived = ledger.TakeReading().WarmupArrived;
        report.Warmup = new WarmupResult(load.Scheduled, load.Errors, seconds, rate, arrived, ledger.CountLost(warmup: true).Lost, ledger.Summaries(warmup: true).Arrival);
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {load.Scheduled:N0} scheduled in {seconds:0.0} s ({rate:N0}/s in the second half), {arrived:N0} arrived, errors {load.Errors:N0}{(load.LastError is { } e ? " (last: " + e + ")" : "")}"));
        return rate;
    }

    private async Task ScheduleAsync(TimerBenchReport report, SpawnTimer.SpawnTimerClient client, TimerLedger ledger, TimerMetricsReader metrics,
        ServiceSampler sampler, int pid, string[] worlds, double warmupRate, Task<string> failed, CancellationToken cancellationToken)
    {
        var o = _options;
        var c = CultureInfo.InvariantCulture;
        // The warm-up rate is measured while spawns also fire and code still compiles: the measured schedule ran
        // 2-3 times faster (24-28k/s against 8-13k/s here), so that time plus 5 s keeps the first due time after
        // the last ScheduleOnce with room to spare.
        var lead = o.Lead ?? TimeSpan.FromSeconds(Math.Ceiling(o.Timers / Math.Max(1_000, warmupRate)) + 5);
        var started = _time.GetTimestamp();
        var firstDueMs = _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)lead.TotalMilliseconds;
        // Timer n gets slot n·stride mod N: due times in scattered order, as players' timers would come,
        // rather than each new timer landing at the end of the scheduler's order.
        var stride = CoprimeStride(o.Timers);
        var msPerSlot = 1000.0 / o.Rate;
        long DueOf(int n) => firstDueMs + (long)((long)n * stride % o.Timers * msPerSlot);
        for (var n = 0; n < o.Timers; n++)
        {
            ledger.Plan(n, DueOf(n));
        }
        _out.WriteLine(string.Create(c,
            $"schedule: {o.Timers:N0} timers, first due in {lead.TotalSeconds:0} s, the last {o.Timers / o.Rate:0.0} s after it"));

        sampler.ResetPeaks();
        var start = await sampler.SnapshotAsync(cancellationToken);
        var load = new TimerLoad(client, _time, o.InFlight, CallTimeout);
        var scheduling = load.RunAsync(0, o.Timers, TimerLedger.TimerPrefix, worlds, DueOf, ledger.Confirm, cancellationToken);
        var lastCount = 0L;
        var lastAt = started;
        // Bounded by the run's deadline: one pass per second until the scheduling completes.
        while (!scheduling.IsCompleted)
        {
            await Task.WhenAny(scheduling, Task.Delay(Tick, _time, cancellationToken), failed);
            cancellationToken.ThrowIfCancellationRequested();
            if (failed.IsCompleted)
            {
                throw new BenchFailedException(await failed);
            }
            var now = _time.GetTimestamp();
            var count = load.Scheduled;
            var reading = await metrics.ReadAsync(cancellationToken);
            Peak(reading);
            sampler.PollRss();
            _out.WriteLine(string.Create(c,
                $"  schedule {_time.GetElapsedTime(started).TotalSeconds,5:0}s {(count - lastCount) / Math.Max(1e-9, (double)(now - lastAt) / _time.TimestampFrequency),9:N0} calls/s   " +
                $"scheduled {count,11:N0}   pending {reading?.Pending,11:N0}   errors {load.Errors:N0}   RSS {ProcessSample.ReadRssKb(pid) / 1024 ?? 0:N0} MiB"));
            lastCount = count;
            lastAt = now;
        }
        await scheduling;
        var seconds = _time.GetElapsedTime(started).TotalSeconds;
        var marginMs = firstDueMs - _time.GetUtcNow().ToUnixTimeMilliseconds();
        var end = await sampler.SnapshotAsync(cancellationToken);
        var after = await metrics.ReadAsync(cancellationToken);
        Peak(after);
        report.ScheduleProcesses = sampler.Figures(start, end, load.Scheduled);
        report.Schedule = new ScheduleResult
        {
            Scheduled = load.Scheduled,
            Errors = load.Errors,
            LastError = load.LastError,
            Moved = load.Moved,
            Seconds = seconds,
            CallsPerSecond = load.Scheduled / Math.Max(1e-9, seconds),
            LeadSeconds = lead.TotalSeconds,
            MarginSeconds = marginMs / 1000.0,
            PeakPending = Interlocked.Read(ref _peakPending),
            PendingAfterSchedule = after?.Pending ?? -1,
            RssAfterScheduleMiB = (end[0].Process?.RssKb ?? 0) / 1024.0,
        };
        _out.WriteLine(string.Create(c,
            $"  {load.Scheduled:N0} scheduled in {seconds:0.0} s ({report.Schedule.CallsPerSecond:N0}/s); pending {after?.Pending:N0}; {marginMs / 1000.0:0.0} s to the first due time"));
        _firstDueMs = firstDueMs;
        report.Listing = await ProbeListingAsync(client, worlds[0], report.Schedule.PendingAfterSchedule, cancellationToken);
        _out.WriteLine(string.Create(c,
            $"  ListPending: every world {string.Join(", ", report.Listing.AllWorldsMs.Select(ms => ms.ToString("0.0", c)))} ms; one world {string.Join(", ", report.Listing.OneWorldMs.Select(ms => ms.ToString("0.0", c)))} ms"));
    }

    // A few listings, one at a time, while the pending set is at its fullest and nothing fires yet.
    private async Task<ListingResult> ProbeListingAsync(SpawnTimer.SpawnTimerClient client, string world, long pending, CancellationToken cancellationToken)
    {
        const int Rounds = 3;
        var all = new double[Rounds];
        var one = new double[Rounds];
        int allReturned = 0, oneReturned = 0;
        for (var i = 0; i < Rounds; i++)
        {
            var started = _time.GetTimestamp();
            var reply = await client.ListPendingAsync(new ListPendingRequest { Limit = 1_000 }, deadline: _time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: cancellationToken);
            all[i] = _time.GetElapsedTime(started).TotalMilliseconds;
            allReturned = reply.Spawns.Count;

            started = _time.GetTimestamp();
            reply = await client.ListPendingAsync(new ListPendingRequest { WorldId = world, Limit = 100 }, deadline: _time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: cancellationToken);
            one[i] = _time.GetElapsedTime(started).TotalMilliseconds;
            oneReturned = reply.Spawns.Count;
        }
        return new ListingResult(pending, all, allReturned, one, oneReturned);
    }

    private async Task FireAsync(TimerBenchReport report, TimerLedger ledger, TimerMetricsReader metrics, ServiceSampler sampler, int pid,
        Task<string> failed, CancellationToken cancellationToken)
    {
        var o = _options;
        var c = CultureInfo.InvariantCulture;
        var scheduled = report.Schedule!.Scheduled;
        // Until the first due time, the pending set is at its fullest: keep reading the gauge.
        var waitMs = _firstDueMs - _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var pass = 0; waitMs > 0 && pass < 3_600; pass++)
        {
            await Guard(Task.Delay(TimeSpan.FromMilliseconds(Math.Min(waitMs, 1_000)), _time, cancellationToken), failed);
            var reading = await metrics.ReadAsync(cancellationToken);
            Peak(reading);
            waitMs = _firstDueMs - _time.GetUtcNow().ToUnixTimeMilliseconds();
            _out.WriteLine(string.Create(c,
                $"  wait     {Math.Max(0, waitMs) / 1000.0,5:0}s to the first due time   pending {reading?.Pending,11:N0}   RSS {ProcessSample.ReadRssKb(pid) / 1024 ?? 0:N0} MiB"));
        }
        report.Schedule = report.Schedule with { PeakPending = Interlocked.Read(ref _peakPending) };

        _out.WriteLine("fire: waiting for every spawn at the stand-in");
        sampler.ResetPeaks();
        var start = await sampler.SnapshotAsync(cancellationToken);
        var before = await metrics.ReadAsync(cancellationToken);
        ledger.TakeReading();
        var started = _time.GetTimestamp();
        var lastDueMs = _firstDueMs + (long)(o.Timers * 1000.0 / o.Rate);
        var giveUpMs = lastDueMs + (long)o.Drain.TotalMilliseconds;
        var last = new LedgerReading();
        var lastFired = before?.Fired ?? 0;
        var lastCpu = CpuTicks(pid);
        var lastGc = before?.Gc;
        var lastAt = started;
        long peakSecond = 0;
        // Bounded: one pass per second until every scheduled timer arrived or the drain time after the last due time is over.
        for (var pass = 0; pass < 36_000; pass++)
        {
            await Guard(Task.Delay(Tick, _time, cancellationToken), failed);
            var now = _time.GetTimestamp();
            var reading = ledger.TakeReading();
            var m = await metrics.ReadAsync(cancellationToken);
            var cpu = CpuTicks(pid);
            sampler.PollRss();
            var elapsed = (double)(now - lastAt) / _time.TimestampFrequency;
            var arrivedPerSecond = (long)((reading.Arrived - last.Arrived) / elapsed);
            peakSecond = Math.Max(peakSecond, arrivedPerSecond);
            // Collections and pause in this second: a pause stops the timer's thread and every spawn due meanwhile is late by it.
            var gc = m?.Gc is { } g1 && lastGc is { } g0 ? g1.Minus(g0) : null;
            var second = new FireSecond(
                _time.GetElapsedTime(started).TotalSeconds, arrivedPerSecond, (long)(((m?.Fired ?? lastFired) - lastFired) / elapsed),
                m?.Pending ?? -1, reading.IntervalP99Us, reading.IntervalMaxUs,
                (cpu - lastCpu) / (double)ProcStat.ClockTicksPerSecond / elapsed * 100, (ProcessSample.ReadRssKb(pid) ?? 0) / 1024.0,
                gc is null ? null : string.Create(c, $"{gc.Gen0}/{gc.Gen1}/{gc.Gen2}"), gc?.PauseSeconds * 1000);
            _seconds.Add(second);
            _out.WriteLine(string.Create(c,
                $"  fire {second.Elapsed,5:0}s {second.Arrived,9:N0} arrived/s {second.Fired,9:N0} fired/s   pending {second.Pending,11:N0}   " +
                $"late p99 {second.P99Us / 1000.0,7:0.0} ms max {second.MaxUs / 1000.0,7:0.0} ms   dup {reading.Duplicates:N0}   CPU {second.CpuPercent,4:0} %   RSS {second.RssMiB:N0} MiB   GC {second.Collections ?? "-"} {second.PauseMs ?? 0:0} ms"));
            last = reading;
            lastFired = m?.Fired ?? lastFired;
            lastCpu = cpu;
            lastGc = m?.Gc ?? lastGc;
            lastAt = now;
            if (reading.Arrived >= scheduled || _time.GetUtcNow().ToUnixTimeMilliseconds() > giveUpMs)
            {
                break;
            }
        }
        var end = await sampler.SnapshotAsync(cancellationToken);
        var after = await metrics.ReadAsync(cancellationToken);
        report.FireProcesses = sampler.Figures(start, end, last.Arrived);
        var (lateness, fireLateness, lastArrivalUs) = ledger.Summaries();
        var final = ledger.TakeReading();
        var (lost, firstLost) = ledger.CountLost();
        var seconds = Math.Max(1e-3, (lastArrivalUs - _firstDueMs * 1000) / 1e6);
        var fired = (after?.Fired ?? 0) - (before?.Fired ?? 0);
        report.Fire = new FireResult
        {
            Arrived = final.Arrived,
            Duplicates = final.Duplicates,
            Lost = lost,
            FirstLost = firstLost < 0 ? null : firstLost,
            Early = final.Early,
            Foreign = final.Foreign,
            SpawnsReceived = final.Spawns,
            Batches = final.Batches,
            SpawnsPerBatch = final.Batches == 0 ? 0 : (double)final.Spawns / final.Batches,
            Seconds = seconds,
            FiresPerSecond = final.Arrived / seconds,
            FiredCounter = fired,
            FiredCounterPerSecond = fired / seconds,
            PeakSecondFires = peakSecond,
            SendFailures = after?.SendFailures ?? -1,
            Rejected = after?.Rejected ?? -1,
            LatenessUs = lateness,
            FireLatenessUs = fireLateness,
        };
    }

    private void Peak(TimerMetricsReading? reading)
    {
        if (reading is { } r && r.Pending > Interlocked.Read(ref _peakPending))
        {
            Interlocked.Exchange(ref _peakPending, r.Pending);
        }
    }

    /// <summary>Awaits <paramref name="task"/>, or throws as soon as the spawn timer exits.</summary>
    private static async Task Guard(Task task, Task<string> failed)
    {
        if (await Task.WhenAny(task, failed) == failed)
        {
            throw new BenchFailedException(await failed);
        }
        await task;
    }

    private static long CpuTicks(int pid)
    {
        try
        {
            return ProcStat.CpuTicks(File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"))) ?? 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>A stride coprime with <paramref name="n"/> near 0.618·n, so n·stride mod N visits every slot once, scattered.</summary>
    private static long CoprimeStride(int n)
    {
        var stride = Math.Max(1L, (long)(n * 0.6180339887));
        while (System.Numerics.BigInteger.GreatestCommonDivisor(stride, n) != 1)
        {
            stride++;
        }
        return stride;
    }

    private string WriteJson(TimerBenchReport report, DateTimeOffset startedUtc)
    {
        Directory.CreateDirectory(_options.OutputDir);
        var path = Path.Combine(_options.OutputDir, $"timers-{startedUtc.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(report, TimerBenchJsonContext.Default.TimerBenchReport) + "\n");
        return path;
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

/// <summary>The spawn timer's own counts from its <c>/metrics</c>.</summary>
public readonly record struct TimerMetricsReading(long Pending, long Scheduled, long Fired, long SendFailures, long Rejected, GcCounters? Gc);

/// <summary>Reads <see cref="TimerMetricsReading"/> from a spawn timer's <c>/metrics</c> (the Veltrix.SpawnTimer meter).</summary>
public sealed class TimerMetricsReader(Uri url) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };

    /// <summary>Null when the scrape failed; a scrape takes the scheduler's gate once (the pending gauge).</summary>
    public async Task<TimerMetricsReading?> ReadAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync(url, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        long pending = 0, scheduled = 0, fired = 0, failures = 0, rejected = 0;
        var samples = PrometheusText.Parse(text);
        foreach (var s in samples)
        {
            // The exporter appends the unit and _total to the instrument's name; the prefix is what is stable.
            if (!s.Name.StartsWith("veltrix_spawntimer_", StringComparison.Ordinal))
            {
                continue;
            }
            var name = s.Name["veltrix_spawntimer_".Length..];
            var value = (long)s.Value;
            if (name.StartsWith("pending", StringComparison.Ordinal))
            {
                pending = value;
            }
            else if (name.StartsWith("scheduled", StringComparison.Ordinal))
            {
                scheduled = value;
            }
            else if (name.StartsWith("fired", StringComparison.Ordinal))
            {
                fired = value;
            }
            else if (name.StartsWith("send_failures", StringComparison.Ordinal))
            {
                failures = value;
            }
            else if (name.StartsWith("rejected", StringComparison.Ordinal))
            {
                rejected = value;
            }
        }
        return new TimerMetricsReading(pending, scheduled, fired, failures, rejected, GcCounters.From(samples));
    }

    public void Dispose() => _http.Dispose();
}
