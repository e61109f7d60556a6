using System.Diagnostics;
using System.Globalization;

namespace Veltrix.Cli.Bench;

/// <summary>The fields of <c>/proc/PID/status</c> (or <c>/proc/PID/task/TID/status</c>) the bench reads.</summary>
public readonly record struct ProcStatus(long RssKb, long PeakRssKb, long VoluntarySwitches, long InvoluntarySwitches, int Threads)
{
    /// <summary>Parses the text of a status file; a field that is missing reads as 0.</summary>
    public static ProcStatus Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        long rss = 0, hwm = 0, voluntary = 0, involuntary = 0, threads = 0;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            var key = line[..colon];
            var value = line[(colon + 1)..].Trim();
            if (value.EndsWith(" kB", StringComparison.Ordinal))
            {
                value = value[..^3].TrimEnd();
            }
            switch (key)
            {
                case "VmRSS":
                    rss = Number(value);
                    break;
                case "VmHWM":
                    hwm = Number(value);
                    break;
                case "voluntary_ctxt_switches":
                    voluntary = Number(value);
                    break;
                case "nonvoluntary_ctxt_switches":
                    involuntary = Number(value);
                    break;
                case "Threads":
                    threads = Number(value);
                    break;
                default:
                    break;
            }
        }
        return new ProcStatus(rss, hwm, voluntary, involuntary, (int)threads);
    }

    private static long Number(ReadOnlySpan<char> text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
}

/// <summary>CPU time from <c>/proc/PID/stat</c>.</summary>
public static class ProcStat
{
    /// <summary>USER_HZ: the unit of utime and stime (100 on Linux for every architecture the runtime supports).</summary>
    public const int ClockTicksPerSecond = 100;

    /// <summary>
    /// utime + stime in clock ticks (fields 14 and 15). The command name (field 2) may hold spaces and
    /// parentheses, so the fields are counted from the last ')'. Null when the text is not a stat line.
    /// </summary>
    public static long? CpuTicks(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        // After ") " come fields 3 (state), 4, ... : utime is field 14, the 12th after the name.
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var utime)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var stime))
        {
            return null;
        }
        return utime + stime;
    }
}

/// <summary>One look at a process: memory, CPU, and the context switches of each of its threads.</summary>
public sealed record ProcessSample(long Timestamp, long RssKb, long PeakRssKb, long CpuTicks, IReadOnlyDictionary<int, (long Voluntary, long Involuntary)> Threads)
{
    /// <summary>Reads <c>/proc/PID</c>; null when the process is gone. Threads that exit while it reads are skipped.</summary>
    public static ProcessSample? Read(int pid, string procRoot = "/proc")
    {
        var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
        try
        {
            var status = ProcStatus.Parse(File.ReadAllText(Path.Combine(dir, "status")));
            var ticks = ProcStat.CpuTicks(File.ReadAllText(Path.Combine(dir, "stat"))) ?? 0;
            var threads = new Dictionary<int, (long, long)>();
            foreach (var task in Directory.EnumerateDirectories(Path.Combine(dir, "task")))
            {
                if (!int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
                {
                    continue;
                }
                try
                {
                    var t = ProcStatus.Parse(File.ReadAllText(Path.Combine(task, "status")));
                    threads[tid] = (t.VoluntarySwitches, t.InvoluntarySwitches);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The thread exited between listing and reading.
                }
            }
            return new ProcessSample(Stopwatch.GetTimestamp(), status.RssKb, status.PeakRssKb, ticks, threads);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Only VmRSS: the once-a-second look for the peak during the window.</summary>
    public static long? ReadRssKb(int pid, string procRoot = "/proc")
    {
        try
        {
            return ProcStatus.Parse(File.ReadAllText(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "status"))).RssKb;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>Context switches between two samples of one process, summed over its threads.</summary>
public readonly record struct SwitchDelta(long Voluntary, long Involuntary, int ThreadsSeen, int ThreadsExited, int ThreadsStarted)
{
    public long Total => Voluntary + Involuntary;

    /// <summary>
    /// Per thread: a thread in both samples adds end − start; one that started in between adds all it did;
    /// one that exited in between adds nothing, because its last counts cannot be read any more (Linux keeps
    /// them only in the process's rusage, which /proc does not show). So the sum is a lower bound, exact
    /// when no thread exited, and <see cref="ThreadsExited"/> says how far it may be off.
    /// </summary>
    public static SwitchDelta Between(ProcessSample start, ProcessSample end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        long voluntary = 0, involuntary = 0;
        var started = 0;
        foreach (var (tid, counts) in end.Threads)
        {
            if (start.Threads.TryGetValue(tid, out var before))
            {
                voluntary += Math.Max(0, counts.Voluntary - before.Voluntary);
                involuntary += Math.Max(0, counts.Involuntary - before.Involuntary);
            }
            else
            {
                voluntary += counts.Voluntary;
                involuntary += counts.Involuntary;
                started++;
            }
        }
        var exited = 0;
        foreach (var tid in start.Threads.Keys)
        {
            if (!end.Threads.ContainsKey(tid))
            {
                exited++;
            }
        }
        return new SwitchDelta(voluntary, involuntary, end.Threads.Count, exited, started);
    }
}
