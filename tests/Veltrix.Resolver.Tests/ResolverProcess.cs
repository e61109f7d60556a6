using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using Grpc.Net.Client;
using Veltrix.Testing;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// The real resolver as its own process on 127.0.0.1, built with the same configuration as these tests.
/// For what only a process shows: SIGKILL mid-stream, restart on the same data, SIGSTOP of an owner while
/// another takes over. Killed by pid at dispose (continued first if it was paused).
/// </summary>
public sealed class ResolverProcess : IDisposable
{
    // Enough of the process' own log to say why it failed; older lines are dropped so a chatty process stays bounded.
    private const int OutputLinesKept = 400;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private bool _paused;

    private ResolverProcess(Process process, int grpcPort, int httpPort)
    {
        _process = process;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
    }

    public int GrpcPort { get; }
    public int HttpPort { get; }
    public int Pid => _process.Id;
    public GrpcChannel Channel { get; }

    /// <summary>The newest lines the process wrote to stdout and stderr (JSON console log).</summary>
    public string RecentOutput => string.Join('\n', _output);

    /// <summary>
    /// Starts the resolver and waits until <c>/healthz</c> says every partition recovered. <paramref name="settings"/>
    /// are passed as <c>--key=value</c> after the defaults, e.g. <c>Veltrix:Storage:Kind=redis</c>.
    /// </summary>
    public static async Task<ResolverProcess> StartAsync(
        string dataDir, int partitions, TimeSpan readyWithin, IEnumerable<KeyValuePair<string, string>>? settings = null)
    {
        var (grpc, http) = (FreePort(), FreePort());
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ResolverDll)!,
        };
        foreach (var arg in new[]
        {
            ResolverDll,
            $"--Veltrix:Host:GrpcPort={grpc}",
            $"--Veltrix:Host:HttpPort={http}",
            $"--Veltrix:Mesh:Partitions={partitions.ToString(CultureInfo.InvariantCulture)}",
            $"--Veltrix:Storage:DataDir={dataDir}",
        })
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in settings ?? [])
        {
            info.ArgumentList.Add($"--{key}={value}");
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var resolver = new ResolverProcess(process, grpc, http);
        process.OutputDataReceived += resolver.OnOutput;
        process.ErrorDataReceived += resolver.OnOutput;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await resolver.WaitHealthyAsync(readyWithin);
        }
        catch
        {
            resolver.Dispose();
            throw;
        }
        return resolver;
    }

    /// <summary>SIGSTOP: the process keeps its sockets and its Redis connection but runs nothing until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        ProcessSignals.Stop(Pid);
        _paused = true;
    }

    /// <summary>SIGCONT: the process goes on where it stopped, with whatever arrived meanwhile.</summary>
    public void Resume()
    {
        ProcessSignals.Continue(Pid);
        _paused = false;
    }

    /// <summary>SIGKILL: no shutdown, no flush, nothing but what is already durable survives.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            // SIGKILL ends a stopped process too; continuing it first leaves no stopped process behind if the kill fails.
            if (_paused)
            {
                Resume();
            }
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        Channel.Dispose();
        _process.Dispose();
    }

    private async Task WaitHealthyAsync(TimeSpan within)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"resolver exited with {_process.ExitCode} before it was healthy; its output:\n{RecentOutput}");
            }
            try
            {
                using var reply = await http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/healthz"));
                if (reply.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"resolver was not healthy within {within}; its output:\n{RecentOutput}");
    }

    private void OnOutput(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }
        _output.Enqueue(e.Data);
        while (_output.Count > OutputLinesKept && _output.TryDequeue(out _))
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string ResolverDll
    {
        get
        {
            var configuration = typeof(ResolverProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Veltrix.slnx")))
            {
                dir = dir.Parent;
            }
            if (dir is null)
            {
                throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
            }
            return Path.Combine(dir.FullName, "services", "resolver", "bin", configuration, "net10.0", "Veltrix.Resolver.dll");
        }
    }
}
