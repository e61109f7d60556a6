using System.Globalization;
using System.Text.Json.Serialization;

namespace Veltrix.Cli.Bench.Timers;

/// <summary>Everything one <c>veltrix-cli bench-timers</c> run measured; written as JSON to <c>artifacts/bench/</c>.</summary>
public sealed record TimerBenchReport
{
    public required string StartedUtc { get; init; }
    public required string Command { get; init; }
    public required MachineInfo Machine { get; init; }
    public required TimerBenchSettings Settings { get; init; }
    public required double[] LoadAverageBefore { get; init; }
    public double[] LoadAverageAfter { get; set; } = [];

    /// <summary>Timers due 1 s after each was sent, scheduled before the measured ones: JIT warm-up, and the schedule rate the lead is computed from.</summary>
    public WarmupResult? Warmup { get; set; }
    public ScheduleResult? Schedule { get; set; }

    /// <summary>ListPending with every timer pending: what an operator's listing costs at that size.</summary>
    public ListingResult? Listing { get; set; }
    public FireResult? Fire { get; set; }

    /// <summary>Each second of the fire phase.</summary>
    public IReadOnlyList<FireSecond> Seconds { get; set; } = [];

    /// <summary>The spawn timer and this program (stand-in resolver and scheduling client) while timers were scheduled.</summary>
    public IReadOnlyList<ServiceFigures> ScheduleProcesses { get; set; } = [];

    /// <summary>The same from the first due time until the last spawn arrived.</summary>
    public IReadOnlyList<ServiceFigures> FireProcesses { get; set; } = [];
    public IReadOnlyList<BudgetRow> Budget { get; set; } = [];
    public bool Completed { get; set; }

    /// <summary>Every timer the spawn timer accepted arrived at the stand-in at least once.</summary>
    public bool AllArrived { get; set; }
    public string? Failure { get; set; }
}

public sealed record TimerBenchSettings(
    int Timers, double Rate, int Worlds, int InFlight, int WarmupTimers, int Partitions, int MaxPending, bool Smoke, string Configuration);

/// <summary>The warm-up; <see cref="LatenessUs"/> is receipt − due at the stand-in, µs, while spawns fired as others were scheduled.</summary>
public sealed record WarmupResult(long Scheduled, long Errors, double Seconds, double CallsPerSecond, long Arrived, long Lost, LatencySummary LatenessUs);

public sealed record ScheduleResult
{
    public required long Scheduled { get; init; }
    public required long Errors { get; init; }
    public string? LastError { get; init; }

    /// <summary>Accepted with a later due time than asked (the asked one had passed): the lead was too short.</summary>
    public required long Moved { get; init; }
    public required double Seconds { get; init; }
    public required double CallsPerSecond { get; init; }

    /// <summary>Between the start of scheduling and the first due time.</summary>
    public required double LeadSeconds { get; init; }

    /// <summary>Time left before the first due time when the last ScheduleOnce was answered; negative: the fire window had begun.</summary>
    public required double MarginSeconds { get; init; }

    /// <summary>The <c>veltrix_spawntimer_pending</c> gauge, read each second and once when scheduling ended.</summary>
    public required long PeakPending { get; init; }
    public required long PendingAfterSchedule { get; init; }
    public required double RssAfterScheduleMiB { get; init; }
}

/// <summary>
/// Round trips, ms, of <c>ListPending</c> over every world (limit 1,000) and over one world (limit 100), taken one
/// after another with <see cref="Pending"/> timers pending; and how many spawns each returned.
/// </summary>
public sealed record ListingResult(long Pending, double[] AllWorldsMs, int AllWorldsReturned, double[] OneWorldMs, int OneWorldReturned);

public sealed record FireResult
{
    /// <summary>Distinct timers whose spawn arrived.</summary>
    public required long Arrived { get; init; }

    /// <summary>Arrivals of a timer that had arrived before (re-sends, allowed by design).</summary>
    public required long Duplicates { get; init; }

    /// <summary>Accepted timers that never arrived.</summary>
    public required long Lost { get; init; }
    public int? FirstLost { get; init; }

    /// <summary>Spawns stamped or received before their due time: the timer must never do this.</summary>
    public required long Early { get; init; }

    /// <summary>Spawns with ids this run did not schedule.</summary>
    public required long Foreign { get; init; }
    public required long SpawnsReceived { get; init; }
    public required long Batches { get; init; }
    public required double SpawnsPerBatch { get; init; }

    /// <summary>From the first due time to the last arrival.</summary>
    public required double Seconds { get; init; }
    public required double FiresPerSecond { get; init; }

    /// <summary>The spawn timer's own <c>fired</c> counter over the same time.</summary>
    public required long FiredCounter { get; init; }
    public required double FiredCounterPerSecond { get; init; }
    public required long PeakSecondFires { get; init; }
    public required long SendFailures { get; init; }
    public required long Rejected { get; init; }

    /// <summary>Receipt at the stand-in − due time, µs.</summary>
    public required LatencySummary LatenessUs { get; init; }

    /// <summary>The spawn's stamp (when the timer put it in a batch) − due time, µs at ms resolution.</summary>
    public required LatencySummary FireLatenessUs { get; init; }
}

/// <summary>One second of the fire phase; <see cref="Collections"/> is the spawn timer's gen0/gen1/gen2 count in it.</summary>
public sealed record FireSecond(double Elapsed, long Arrived, long Fired, long Pending, long P99Us, long MaxUs, double CpuPercent, double RssMiB, string? Collections, double? PauseMs);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(TimerBenchReport))]
internal sealed partial class TimerBenchJsonContext : JsonSerializerContext;

/// <summary>The budget row "spawn timers" of DESIGN.md section 7, and the memory row as it applies to the spawn timer.</summary>
public static class TimerBudget
{
    public const int TargetTimers = 1_000_000;
    public const double TargetFiresPerSecond = 100_000;
    public const long TargetLatenessP99Us = 20_000;

    public static IReadOnlyList<BudgetRow> Evaluate(TimerBenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = CultureInfo.InvariantCulture;
        var rows = new List<BudgetRow>();
        var s = report.Settings;
        if (report.Schedule is { } schedule)
        {
            var peak = schedule.PeakPending;
            rows.Add(new("spawn timers: active on one instance", "1,000,000",
                string.Create(c, $"peak pending {peak:N0} of {schedule.Scheduled:N0} scheduled"),
                peak >= TargetTimers ? Budget.Met : s.Timers < TargetTimers ? Budget.Open : Budget.NotMet));
        }
        if (report.Fire is { } fire)
        {
            // The fire rate cannot exceed the rate the due times were laid out at: below 100,000/s only a miss says something.
            var reached = fire.FiresPerSecond >= TargetFiresPerSecond * Budget.ReachedShare;
            rows.Add(new("spawn timers: fires/s", "≥ 100,000 fires/s",
                string.Create(c, $"{fire.FiresPerSecond:N0} fires/s with due times at {s.Rate:N0}/s (peak second {fire.PeakSecondFires:N0})"),
                reached ? Budget.Met : s.Rate < TargetFiresPerSecond && fire.FiresPerSecond >= s.Rate * Budget.ReachedShare ? Budget.Open : Budget.NotMet));
            var p99 = fire.LatenessUs.P99;
            var atTarget = s.Timers >= TargetTimers && s.Rate >= TargetFiresPerSecond;
            rows.Add(new("spawn timers: lateness p99", "≤ 20 ms",
                string.Create(c, $"p99 {p99 / 1000.0:0.0} ms (p50 {fire.LatenessUs.P50 / 1000.0:0.0}, p99.9 {fire.LatenessUs.P999 / 1000.0:0.0}, max {fire.LatenessUs.Max / 1000.0:0.0} ms)"),
                p99 > TargetLatenessP99Us ? Budget.NotMet : atTarget ? Budget.Met : Budget.Open));
        }
        var timer = report.ScheduleProcesses.Concat(report.FireProcesses).Where(p => p.Name == "spawn-timer").ToList();
        if (timer.Count > 0)
        {
            var rss = timer.Max(p => p.RssMaxMiB);
            rows.Add(new("memory per service (spawn-timer)", "≤ 256 MB RSS",
                string.Create(c, $"max {rss:N0} MiB with {report.Schedule?.PeakPending ?? 0:N0} timers pending"),
                rss <= Budget.MaxRssMiB ? Budget.Met : Budget.NotMet));
        }
        return rows;
    }
}

/// <summary>The report as the terminal shows it at the end of a run.</summary>
public static class TimerBenchTable
{
    public static void Write(TimerBenchReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        var c = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine(string.Create(c, $"results (load average before {Join(report.LoadAverageBefore)}, after {Join(report.LoadAverageAfter)})"));
        if (report.Warmup is { } w)
        {
            output.WriteLine(string.Create(c, $"  warm-up   {w.Scheduled:N0} timers due 1 s after each was sent: {w.CallsPerSecond:N0} ScheduleOnce/s, {w.Arrived:N0} arrived, {w.Lost:N0} lost; lateness {Summary(w.LatenessUs)}"));
        }
        if (report.Schedule is { } s)
        {
            output.WriteLine(string.Create(c,
                $"  schedule  {s.Scheduled:N0} timers in {s.Seconds:0.0} s: {s.CallsPerSecond:N0} ScheduleOnce/s; errors {s.Errors:N0}{(s.LastError is { } e ? " (last: " + e + ")" : "")}; moved {s.Moved:N0}"));
            output.WriteLine(string.Create(c,
                $"            peak pending {s.PeakPending:N0} (after scheduling {s.PendingAfterSchedule:N0}), RSS {s.RssAfterScheduleMiB:N0} MiB; lead {s.LeadSeconds:0.0} s, margin {s.MarginSeconds:0.0} s before the first due time"));
        }
        if (report.Listing is { } l)
        {
            output.WriteLine(string.Create(c,
                $"  list      ListPending with {l.Pending:N0} pending: every world, limit 1,000: {Millis(l.AllWorldsMs)} ms; one world, limit 100: {Millis(l.OneWorldMs)} ms"));
        }
        if (report.Fire is { } f)
        {
            output.WriteLine(string.Create(c,
                $"  fire      {f.Arrived:N0} arrived in {f.Seconds:0.00} s: {f.FiresPerSecond:N0} fires/s (service counter {f.FiredCounterPerSecond:N0}/s, peak second {f.PeakSecondFires:N0})"));
            output.WriteLine(string.Create(c,
                $"            lost {f.Lost:N0}, duplicates {f.Duplicates:N0}, early {f.Early:N0}, foreign {f.Foreign:N0}; {f.Batches:N0} Apply calls, {f.SpawnsPerBatch:0.0} spawns each; send failures {f.SendFailures:N0}, rejected {f.Rejected:N0}"));
            output.WriteLine(string.Create(c, $"            lateness at the stand-in (receipt − due): {Summary(f.LatenessUs)}"));
            output.WriteLine(string.Create(c, $"            lateness at the timer (stamp − due, 1 ms steps): {Summary(f.FireLatenessUs)}"));
        }
        WriteProcesses(output, "while scheduling", report.ScheduleProcesses);
        WriteProcesses(output, "while firing", report.FireProcesses);
        if (report.Budget.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("  budget (DESIGN.md section 7)");
            var what = report.Budget.Max(b => b.What.Length);
            var target = report.Budget.Max(b => b.Target.Length);
            foreach (var b in report.Budget)
            {
                output.WriteLine($"    {b.What.PadRight(what)}  {b.Target.PadRight(target)}  {b.Verdict,-9}  {b.Measured}");
            }
        }
        output.WriteLine();
        if (report.Failure is { } failure)
        {
            output.WriteLine("bench timers failed: " + failure);
        }
        else if (!report.AllArrived)
        {
            output.WriteLine("bench timers: some scheduled timers never arrived (see lost above)");
        }
        else
        {
            output.WriteLine("bench timers: completed; every scheduled timer arrived");
        }
    }

    private static void WriteProcesses(TextWriter output, string phase, IReadOnlyList<ServiceFigures> processes)
    {
        if (processes.Count == 0)
        {
            return;
        }
        var c = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine(string.Create(c,
            $"  {phase,-20} {"RSS MiB",8} {"max",6} {"CPU s",7} {"CPU %",6} {"vol cs",9} {"invol cs",9} {"thr",4} {"alloc MB",9} {"gen0",5} {"gen1",5} {"gen2",5} {"pause ms",9}"));
        foreach (var p in processes)
        {
            var gc = p.Gc;
            output.WriteLine(string.Create(c,
                $"  {p.Name,-20} {p.RssEndMiB,8:0} {p.RssMaxMiB,6:0} {p.CpuSeconds,7:0.0} {p.CpuPercent,6:0} {p.VoluntarySwitches,9:N0} {p.InvoluntarySwitches,9:N0} {p.Threads,4} " +
                $"{(gc is null ? "-" : (gc.AllocatedBytes / 1e6).ToString("0.0", c)),9} {gc?.Gen0.ToString(c) ?? "-",5} {gc?.Gen1.ToString(c) ?? "-",5} {gc?.Gen2.ToString(c) ?? "-",5} " +
                $"{(gc is null ? "-" : (gc.PauseSeconds * 1000).ToString("0.0", c)),9}"));
        }
    }

    private static string Summary(LatencySummary l) => string.Create(CultureInfo.InvariantCulture,
        $"p50 {l.P50 / 1000.0:0.00} ms, p99 {l.P99 / 1000.0:0.00} ms, p99.9 {l.P999 / 1000.0:0.00} ms, max {l.Max / 1000.0:0.00} ms ({l.Count:N0} spawns)");

    private static string Millis(double[] values) => string.Join(", ", values.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)));

    private static string Join(double[] values) => string.Join(' ', values.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)));
}
