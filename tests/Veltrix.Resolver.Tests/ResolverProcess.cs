using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using Grpc.Net.Client;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// The real resolver as its own process on 127.0.0.1, built with the same configuration as these tests.
/// For what only a process shows: SIGKILL mid-stream, restart on the same data. Killed at dispose.
/// </summary>
public sealed class ResolverProcess : IDisposable
{
    private readonly Process _process;

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

    public static async Task<ResolverProcess> StartAsync(string dataDir, int partitions, TimeSpan readyWithin)
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
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var resolver = new ResolverProcess(process, grpc, http);
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

    /// <summary>SIGKILL: no shutdown, no flush, nothing but what is already durable survives.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
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
                throw new InvalidOperationException($"resolver exited with {_process.ExitCode} before it was healthy");
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
        throw new TimeoutException($"resolver was not healthy within {within}");
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
