using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Veltrix.Testing;

/// <summary>
/// A private Debian <c>redis-server</c> on a free loopback port, append-only with fsync on every write, in its own
/// temporary folder. <see cref="RestartAsync"/> kills it (SIGKILL, no shutdown save) and starts it again on the
/// same folder and port, which is how a test proves that acknowledged writes survive a crash of Redis itself.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public const string ServerPath = "/usr/bin/redis-server";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(1);

    private Process? _server;

    public RedisServerFixture()
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), $"veltrix-redis-{Guid.NewGuid():N}");
    }

    public string DataDirectory { get; }

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ServerPath))
        {
            throw new InvalidOperationException(
                $"{ServerPath} is missing: the Redis tests need Debian's redis-server (apt-get install redis-server).");
        }

        Directory.CreateDirectory(DataDirectory);
        Port = FreeLoopbackPort();
        await StartAsync();
    }

    /// <summary>Kills the server as a crash would, then starts it again on the same folder and port.</summary>
    public async Task RestartAsync()
    {
        Kill();
        await StartAsync();
    }

    /// <summary>SIGKILL by pid: no shutdown hook runs, so only what Redis already fsynced survives.</summary>
    public void Kill()
    {
        if (_server is null)
        {
            return;
        }

        try
        {
            if (!_server.HasExited)
            {
                _server.Kill();
            }

            _server.WaitForExit();
        }
        finally
        {
            _server.Dispose();
            _server = null;
        }
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open but nothing is answered, as in a long stall.</summary>
    public void Pause() => ProcessSignals.Stop(Pid);

    /// <summary>Lets a paused server go on (SIGCONT); it then handles what was sent while it was frozen.</summary>
    public void Resume() => ProcessSignals.Continue(Pid);

    public Task DisposeAsync()
    {
        Kill();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }

    private int Pid => _server?.Id ?? throw new InvalidOperationException("redis-server is not running");

    private async Task StartAsync()
    {
        var start = new ProcessStartInfo(ServerPath)
        {
            UseShellExecute = false,
            WorkingDirectory = DataDirectory,
        };
        foreach (var argument in (string[])[
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--dir", DataDirectory,
            "--logfile", LogPath,
            "--daemonize", "no"])
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException($"could not start {ServerPath}");

        // Redis answers -LOADING while it replays the append-only file; only +PONG means it serves.
        var deadline = Stopwatch.GetTimestamp() + (long)(StartTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException(
                    $"redis-server exited with code {_server.ExitCode} on port {Port}; log:\n{ReadLogTail()}");
            }

            if (await AnswersPingAsync())
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                Kill();
                throw new TimeoutException(
                    $"redis-server did not answer PING on port {Port} within {StartTimeout.TotalSeconds} s; log:\n{ReadLogTail()}");
            }

            await Task.Delay(50);
        }
    }

    private string LogPath => Path.Combine(DataDirectory, "redis.log");

    private async Task<bool> AnswersPingAsync()
    {
        using var timeout = new CancellationTokenSource(PingTimeout);
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
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private string ReadLogTail()
    {
        try
        {
            var lines = File.ReadAllLines(LogPath);
            return string.Join('\n', lines[Math.Max(0, lines.Length - 20)..]);
        }
        catch (IOException e)
        {
            return $"(no log: {e.Message})";
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
