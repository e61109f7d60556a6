using System.Globalization;
using System.Runtime.InteropServices;

namespace Veltrix.Cli.Launch;

/// <summary>Signals and liveness by pid.</summary>
public static partial class Posix
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends a signal; false when the process is gone.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>
    /// True while the process exists and is not a zombie: a child that exited but was not reaped yet no
    /// longer runs anything, so it counts as gone.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        // The command name may hold spaces and parentheses; the state follows the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0 || close + 2 >= stat.Length)
        {
            return false;
        }
        var state = stat[close + 2];
        return state is not ('Z' or 'X' or 'x');
    }

    /// <summary>
    /// Takes SIGINT back from "ignored" to the default. A shell starts background jobs with SIGINT ignored,
    /// and the runtime never handles a signal that was ignored when it set up its handlers, so
    /// `veltrix-cli up &amp;` followed by `kill -INT` (CI does this) would be a no-op. Must run before
    /// anything touches Console or Process, which is when the runtime sets up its handlers.
    /// </summary>
    public static void UnignoreInterrupt()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            SetSignal(SigInt, SigDefault);
        }
    }

    private const int SigInt = 2;
    private static readonly nint SigDefault = 0;

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint SetSignal(int signal, nint handler);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
