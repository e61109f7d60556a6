using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Veltrix.Testing;

/// <summary>
/// Freezes and thaws a process by pid (Linux), as a long GC pause, a stalled VM or a debugger would: the process
/// keeps its sockets and its state, and nothing in it runs until it is continued.
/// </summary>
public static partial class ProcessSignals
{
    // Linux numbers (x86-64 and arm64 alike); .NET's PosixSignal has no SIGSTOP to send.
    private const int SigCont = 18;
    private const int SigStop = 19;

    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Sends SIGSTOP and returns once every thread of the process is stopped.</summary>
    public static void Stop(int pid)
    {
        Send(pid, SigStop, "SIGSTOP");
        WaitUntil(pid, stopped: true);
    }

    /// <summary>Sends SIGCONT and returns once no thread of the process is stopped any more.</summary>
    public static void Continue(int pid)
    {
        Send(pid, SigCont, "SIGCONT");
        WaitUntil(pid, stopped: false);
    }

    /// <summary>True when every thread of the process is in job-control stop (state <c>T</c>).</summary>
    public static bool IsStopped(int pid)
    {
        var any = false;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task"))
        {
            any = true;
            if (ReadState(Path.Combine(task, "stat")) != 'T')
            {
                return false;
            }
        }
        return any;
    }

    private static bool NoneStopped(int pid)
    {
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task"))
        {
            if (ReadState(Path.Combine(task, "stat")) == 'T')
            {
                return false;
            }
        }
        return true;
    }

    // kill(2) only queues the signal; the threads reach (or leave) the stop a moment later. The kernel tells
    // no one when, so this is the one place that polls.
    private static void WaitUntil(int pid, bool stopped)
    {
        var until = Stopwatch.GetTimestamp() + (long)(SettleTimeout.TotalSeconds * Stopwatch.Frequency);
        while (stopped ? !IsStopped(pid) : !NoneStopped(pid))
        {
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException($"process {pid} did not {(stopped ? "stop" : "continue")} within {SettleTimeout.TotalSeconds} s");
            }
            Thread.Sleep(1);
        }
    }

    // /proc/<pid>/task/<tid>/stat is "tid (comm) S ...": comm may hold spaces and parentheses, so the state
    // is the character after the last ')'. A thread that exits meanwhile counts as not stopped.
    private static char ReadState(string statPath)
    {
        try
        {
            var stat = File.ReadAllText(statPath);
            var close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return '?';
        }
    }

    private static void Send(int pid, int signal, string name)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {name}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
