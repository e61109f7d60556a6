using System.Globalization;

namespace Veltrix.Cli.Bench;

/// <summary>The report as the terminal shows it at the end of a run.</summary>
public static class BenchTable
{
    public static void Write(BenchReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        var c = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine(string.Create(c, $"results ({report.Settings.Store} store; load average before {Join(report.LoadAverageBefore)}, after {Join(report.LoadAverageAfter)})"));
        output.WriteLine(string.Create(c, $"  {"",-6} {"events/s",12} {"p50",9} {"p99",9} {"p99.9",9} {"max",9}   {"sent",13} {"acked",13} {"errors",7}"));
        foreach (var load in new[] { report.Sink, report.Mesh })
        {
            if (load is null)
            {
                continue;
            }
            var l = load.LatencyUs;
            output.WriteLine(string.Create(c,
                $"  {load.Target,-6} {load.EventsPerSecond,12:N0} {Ms(l.P50),9} {Ms(l.P99),9} {Ms(l.P999),9} {Ms(l.Max),9}   {load.TotalSent,13:N0} {load.TotalAcked,13:N0} {load.Errors,7:N0}"));
        }
        if (report.Mesh is { } mesh)
        {
            output.WriteLine(string.Create(c,
                $"  mesh outcomes in the window: ACCEPTED {mesh.Accepted:N0}  REJECTED {mesh.Rejected:N0}  DUPLICATE {mesh.Duplicate:N0}  MALFORMED {mesh.Malformed:N0}"));
        }
        if (report.MeshToSinkRatio is { } ratio)
        {
            output.WriteLine(string.Create(c, $"  mesh / sink throughput: {ratio:0.000}"));
        }

        if (report.Services.Count > 0)
        {
            output.WriteLine();
            WriteProcesses(report.Services, output);
            if (report.Totals is { } t)
            {
                output.WriteLine(string.Create(c,
                    $"  services together: CPU {t.CpuSeconds:0.0} s ({t.CpuPercent:0} % of one core), {t.ContextSwitches:N0} context switches " +
                    $"({t.ContextSwitchesPerMillionEvents:N0} per million events), allocated {(t.AllocatedBytesPerEvent is { } a ? a.ToString("0.0", c) + " B/event" : "-")}, " +
                    $"gen2 {(t.Gen2?.ToString(c) ?? "-")}, GC pause {(t.GcPausePercent is { } p ? p.ToString("0.000", c) + " %" : "-")}"));
                var exited = report.Services.Sum(s => s.ThreadsExited);
                if (exited > 0)
                {
                    output.WriteLine(string.Create(c, $"  ({exited} threads exited during the window; their last context switches are not counted)"));
                }
            }
            if (report.Companions.Count > 0)
            {
                output.WriteLine("  beside the mesh, not in the totals:");
                foreach (var s in report.Companions)
                {
                    output.WriteLine(Row(s));
                }
            }
        }

        if (report.RedisBenchmark.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("  redis-benchmark (same redis-server, appendfsync always, after the mesh stopped)");
            foreach (var r in report.RedisBenchmark)
            {
                output.WriteLine(string.Create(c, $"    {r.Test,-24} {r.RequestsPerSecond,12:N0} ops/s   p50 {r.P50Ms?.ToString("0.000", c) ?? "-"} ms   p99 {r.P99Ms?.ToString("0.000", c) ?? "-"} ms"));
            }
        }

        WriteBudget(report.Budget, output);

        output.WriteLine();
        if (report.Failure is { } failure)
        {
            output.WriteLine("bench failed: " + failure);
        }
        else if (!report.AllAcked)
        {
            output.WriteLine("bench: not every event sent was acked without error (see errors above)");
        }
        else
        {
            output.WriteLine("bench: completed; every event sent was acked");
        }
    }

    /// <summary>One line per process: memory, CPU, context switches, allocation and GC over the window.</summary>
    internal static void WriteProcesses(IReadOnlyList<ServiceFigures> processes, TextWriter output, string perWhat = "B/event")
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"process",-20} {"RSS MiB",8} {"max",6} {"CPU s",7} {"CPU %",6} {"vol cs",9} {"invol cs",9} {"thr",4} {"alloc MB",9} {perWhat,8} {"gen0",5} {"gen1",5} {"gen2",5} {"pause ms",9}"));
        foreach (var s in processes)
        {
            output.WriteLine(Row(s));
        }
    }

    /// <summary>The budget's rows with their verdicts.</summary>
    internal static void WriteBudget(IReadOnlyList<BudgetRow> budget, TextWriter output)
    {
        if (budget.Count == 0)
        {
            return;
        }
        output.WriteLine();
        output.WriteLine("  budget (DESIGN.md section 7)");
        var what = Math.Max(4, budget.Max(b => b.What.Length));
        var target = Math.Max(6, budget.Max(b => b.Target.Length));
        foreach (var b in budget)
        {
            output.WriteLine($"    {b.What.PadRight(what)}  {b.Target.PadRight(target)}  {b.Verdict,-9}  {b.Measured}");
        }
    }

    internal static string Row(ServiceFigures s)
    {
        var c = CultureInfo.InvariantCulture;
        var gc = s.Gc;
        return string.Create(c,
            $"  {s.Name,-20} {s.RssEndMiB,8:0} {s.RssMaxMiB,6:0} {s.CpuSeconds,7:0.0} {s.CpuPercent,6:0} {s.VoluntarySwitches,9:N0} {s.InvoluntarySwitches,9:N0} {s.Threads,4} " +
            $"{(gc is null ? "-" : (gc.AllocatedBytes / 1e6).ToString("0.0", c)),9} {(s.AllocatedBytesPerEvent is { } b ? b.ToString("0.0", c) : "-"),8} " +
            $"{gc?.Gen0.ToString(c) ?? "-",5} {gc?.Gen1.ToString(c) ?? "-",5} {gc?.Gen2.ToString(c) ?? "-",5} {(gc is null ? "-" : (gc.PauseSeconds * 1000).ToString("0.0", c)),9}");
    }

    internal static string Ms(long micros) => (micros / 1000.0).ToString("0.00", CultureInfo.InvariantCulture) + " ms";

    internal static string Join(double[] values) => string.Join(' ', values.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)));
}
