using System.Globalization;
using System.Text;
using Veltrix.Cli.Bots;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Terminal;

/// <summary>
/// Progress while the mesh runs: a few lines redrawn in place every second on a terminal, one line
/// every five seconds otherwise (logs, CI).
/// </summary>
internal sealed class LiveDisplay(TextWriter output, bool interactive, FleetStats stats, GatewayClients gateway, TimeProvider time)
{
    private static readonly TimeSpan TopTimeout = TimeSpan.FromMilliseconds(800);
    private int _drawnLines;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var lastAcked = 0L;
        var lastAt = started;
        var tick = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                tick++;
                if (!interactive && tick % 5 != 0)
                {
                    continue;
                }
                var now = time.GetTimestamp();
                var acked = stats.Acked;
                var rate = (acked - lastAcked) / Math.Max(0.001, time.GetElapsedTime(lastAt, now).TotalSeconds);
                lastAcked = acked;
                lastAt = now;
                var (page, error) = await gateway.TryTopAsync("global", 5, TopTimeout, cancellationToken);
                var elapsed = time.GetElapsedTime(started, now);
                if (interactive)
                {
                    Redraw(Lines(elapsed, rate, page, error));
                }
                else
                {
                    output.WriteLine(string.Join("  |  ", Lines(elapsed, rate, page, error)));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private List<string> Lines(TimeSpan elapsed, double rate, BoardPage? page, string? error)
    {
        var lines = new List<string>
        {
            Invariant($"{elapsed.TotalSeconds,5:0}s  {rate,9:N0} events/s acked   sent {stats.Sent:N0}   in flight {stats.InFlight:N0}"),
            Invariant($"accepted {stats.Accepted:N0}   duplicate {stats.Duplicate:N0}   rejected {stats.Rejected:N0}   malformed {stats.Malformed:N0}")
                + (stats.Lost > 0 || stats.StreamFailures > 0
                    ? Invariant($"   lost {stats.Lost:N0} ({stats.StreamFailures} stream failures, last: {stats.LastStreamError})")
                    : ""),
            "top 5 global: " + FormatTop(page, error),
        };
        return lines;
    }

    public static string FormatTop(BoardPage? page, string? error)
    {
        if (page is null)
        {
            return "unavailable (" + error + ")";
        }
        if (page.Entries.Count == 0)
        {
            return "(empty)";
        }
        var sb = new StringBuilder();
        foreach (var entry in page.Entries)
        {
            if (sb.Length > 0)
            {
                sb.Append("   ");
            }
            sb.Append(CultureInfo.InvariantCulture, $"{entry.Rank}. {entry.PlayerId} {entry.Score:N0}");
        }
        return sb.ToString();
    }

    private void Redraw(List<string> lines)
    {
        var sb = new StringBuilder();
        if (_drawnLines > 0)
        {
            // Back to the first line of the previous frame, then overwrite each line.
            sb.Append(CultureInfo.InvariantCulture, $"\u001b[{_drawnLines}A\r");
        }
        var width = TerminalWidth();
        foreach (var line in lines)
        {
            // A wrapped line would throw off the cursor-up count of the next frame.
            sb.Append("\u001b[2K").Append(line.Length > width ? line[..width] : line).Append('\n');
        }
        output.Write(sb.ToString());
        output.Flush();
        _drawnLines = lines.Count;
    }

    private static int TerminalWidth()
    {
        try
        {
            // A pseudo-terminal nobody sized reports 0: nothing to fit then.
            var width = System.Console.WindowWidth;
            return width > 10 ? width - 1 : int.MaxValue;
        }
        catch (IOException)
        {
            return int.MaxValue;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
