using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Veltrix.Cli.Launch;

namespace Veltrix.Cli.Bench;

/// <summary>
/// A private Debian <c>redis-server</c> for one bench run: a free loopback port, its own folder,
/// <c>appendonly yes</c> with <c>appendfsync always</c> (so an ack means fsynced, as the embedded store's
/// does), no RDB saves. Stopped by pid.
/// </summary>
public sealed class BenchRedis : IAsyncDisposable
{
    public const string ServerPath = "/usr/bin/redis-server";
    public const string BenchmarkPath = "/usr/bin/redis-benchmark";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly string _folder;

    private BenchRedis(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }
    public int Pid => _process.Id;
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>
    /// Starts a private redis-server on a free loopback port: durable (<c>appendfsync always</c>, as the Redis store
    /// runs) or, with <paramref name="durable"/> false, in memory only (the baseline of the in-memory leaderboard).
    /// </summary>
    public static async Task<BenchRedis> StartAsync(string folder, CancellationToken cancellationToken, bool durable = true)
    {
        if (!File.Exists(ServerPath))
        {
            throw new InvalidOperationException($"{ServerPath} is missing (apt-get install redis-server; ./veltrix bench --redis installs it)");
        }
        Directory.CreateDirectory(folder);
        var port = FreeLoopbackPort();
        var start = new ProcessStartInfo(ServerPath) { UseShellExecute = false, WorkingDirectory = folder };
        foreach (var argument in (string[])[
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--appendonly", durable ? "yes" : "no",
            "--appendfsync", "always",
            "--save", "",
            "--dir", folder,
            "--logfile", Path.Combine(folder, "redis.log"),
            "--daemonize", "no"])
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {ServerPath}");
        var redis = new BenchRedis(process, folder, port);
        try
        {
            var started = Stopwatch.GetTimestamp();
            while (!await redis.AnswersPingAsync(cancellationToken))
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"redis-server exited with code {process.ExitCode}; log:\n{Mesh.Tail(Path.Combine(folder, "redis.log"))}");
                }
                if (Stopwatch.GetElapsedTime(started) > StartTimeout)
                {
                    throw new InvalidOperationException($"redis-server did not answer PING within {StartTimeout.TotalSeconds:0} s");
                }
                await Task.Delay(50, cancellationToken);
            }
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
        return redis;
    }

    /// <summary>SIGTERM (redis fsyncs and exits), SIGKILL if it is still there after 10 s.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                Posix.Signal(_process.Id, Posix.SigTerm);
                try
                {
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
                catch (TimeoutException)
                {
                    Posix.Signal(_process.Id, Posix.SigKill);
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
                }
            }
        }
        catch (TimeoutException)
        {
            // Reported by the caller's process check; nothing more to send it.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task<bool> AnswersPingAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var reply = new byte[64];
            var read = await stream.ReadAsync(reply, timeout.Token);
            return Encoding.ASCII.GetString(reply, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One line of <c>redis-benchmark --csv</c>.</summary>
public sealed record RedisBenchmarkResult(string Test, double RequestsPerSecond, double? P50Ms, double? P99Ms);

/// <summary>Runs Debian's <c>redis-benchmark</c> against the bench's Redis: the Redis store's baseline.</summary>
public static class RedisBenchmark
{
    /// <summary>XADD entry size: a partition turn of about a hundred events as the resolver appends it.</summary>
    public const int XaddPayloadBytes = 4_096;

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// SET and LPUSH pipelined 16 deep, then XADD of <see cref="XaddPayloadBytes"/>-byte entries pipelined
    /// 16 deep into a capped stream (the resolver's append is one XADD per partition turn). Each run is
    /// bounded by its request count and a timeout.
    /// </summary>
    public static async Task<IReadOnlyList<RedisBenchmarkResult>> RunAsync(int port, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!File.Exists(BenchRedis.BenchmarkPath))
        {
            output.WriteLine($"  {BenchRedis.BenchmarkPath} is missing (apt-get install redis-tools): no Redis baseline");
            return [];
        }
        var host = new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "--csv" };
        var results = new List<RedisBenchmarkResult>();
        results.AddRange(Label(await RunOneAsync([.. host, "-t", "set,lpush", "-P", "16", "-n", "200000"], cancellationToken), " (-P 16)"));
        var xadd = await RunOneAsync(
            [.. host, "-P", "16", "-n", "20000", "XADD", "veltrix-bench-xadd", "MAXLEN", "~", "1000", "*", "d", new string('x', XaddPayloadBytes)],
            cancellationToken);
        results.AddRange(xadd.Select(r => r with { Test = $"XADD {XaddPayloadBytes / 1024} KiB (-P 16)" }));
        return results;
    }

    /// <summary>
    /// ZADD of random members of one sorted set (<paramref name="members"/> of them), pipelined 16 deep: the
    /// leaderboard's baseline, a score update as Redis takes it.
    /// </summary>
    public static async Task<RedisBenchmarkResult?> ZaddAsync(int port, int members, CancellationToken cancellationToken)
    {
        if (!File.Exists(BenchRedis.BenchmarkPath))
        {
            return null;
        }
        var results = await RunOneAsync(
            ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "--csv", "-t", "zadd", "-P", "16",
             "-n", "2000000", "-r", members.ToString(CultureInfo.InvariantCulture)],
            cancellationToken);
        return results.Count == 0 ? null : results[0] with { Test = results[0].Test + " (-P 16)" };
    }

    /// <summary>The result lines of <c>redis-benchmark --csv</c>; the header and anything unreadable are skipped.</summary>
    public static IReadOnlyList<RedisBenchmarkResult> ParseCsv(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var results = new List<RedisBenchmarkResult>();
        foreach (var raw in text.Split('\n'))
        {
            var fields = SplitQuoted(raw.Trim());
            if (fields.Count < 2 || fields[0] == "test"
                || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rps))
            {
                continue;
            }
            results.Add(new RedisBenchmarkResult(fields[0], rps, Field(fields, 4), Field(fields, 6)));
        }
        return results;
    }

    private static IEnumerable<RedisBenchmarkResult> Label(IEnumerable<RedisBenchmarkResult> results, string suffix) =>
        results.Select(r => r with { Test = r.Test + suffix });

    private static double? Field(List<string> fields, int index) =>
        index < fields.Count && double.TryParse(fields[index], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static List<string> SplitQuoted(string line)
    {
        var fields = new List<string>();
        var i = 0;
        while (i < line.Length)
        {
            if (line[i] == '"')
            {
                var close = line.IndexOf('"', i + 1);
                if (close < 0)
                {
                    break;
                }
                fields.Add(line[(i + 1)..close]);
                i = close + 1;
            }
            else
            {
                var comma = line.IndexOf(',', i);
                var end = comma < 0 ? line.Length : comma;
                fields.Add(line[i..end]);
                i = end;
            }
            if (i < line.Length && line[i] == ',')
            {
                i++;
            }
        }
        return fields;
    }

    private static async Task<IReadOnlyList<RedisBenchmarkResult>> RunOneAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(BenchRedis.BenchmarkPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {BenchRedis.BenchmarkPath}");
        process.StandardInput.Close();
        // Not cancellable: the streams end when the process does, which the kill below ensures.
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(RunTimeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            Posix.Signal(process.Id, Posix.SigKill);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            if (e is OperationCanceledException)
            {
                throw;
            }
            return [];
        }
        await stderr;
        return ParseCsv(await stdout);
    }
}
