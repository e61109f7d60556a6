using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Veltrix.Cli.Launch;

/// <summary>A service the mesh started: its pid and where its output goes.</summary>
public sealed class MeshProcess(ServiceSpec spec, Process process, string logPath, Task exited)
{
    public ServiceSpec Spec { get; } = spec;
    public string Name => Spec.Name;
    public int Pid { get; } = process.Id;
    public string LogPath { get; } = logPath;
    internal Process Process { get; } = process;
    internal Task Exited { get; } = exited;
}

/// <summary>A service did not come up; the message holds the end of its log.</summary>
public sealed class MeshStartException(string message) : Exception(message);

/// <summary>
/// The five services (the resolver as one or more instances), each its own process on loopback, started in
/// dependency order and each awaited on <c>/healthz</c>; stopped with SIGTERM, then SIGKILL for whatever is
/// left after the grace period.
/// </summary>
public sealed class Mesh : IAsyncDisposable
{
    private const int LogTailLines = 30;

    /// <summary>Names (comma-separated) of environment variables the services must not inherit from this process.</summary>
    private const string CliOnlyEnvironment = "VELTRIX_CLI_ONLY_ENV";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly MeshSettings _settings;
    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly List<MeshProcess> _children = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<string> _failure = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _stopping;

    public Mesh(MeshSettings settings, TextWriter output, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        _settings = settings;
        _output = output;
        _time = time ?? TimeProvider.System;
        if (settings.Resolvers < 1 || settings.Resolvers > settings.Partitions)
        {
            throw new ArgumentException(
                $"resolvers must be from 1 to the partition count ({settings.Partitions}), got {settings.Resolvers}", nameof(settings));
        }
        Ports = new PortLayout(settings.BasePort, settings.Resolvers);
        Services = settings.Only ?? ServiceCatalog.StartOrderFor(settings.Resolvers);
    }

    public PortLayout Ports { get; }

    /// <summary>Every service this mesh runs, in start order (every resolver instance first).</summary>
    public IReadOnlyList<ServiceSpec> Services { get; }

    /// <summary>Native gRPC (h2c) of the gateway.</summary>
    public Uri GatewayAddress => Loopback(Ports.GatewayGrpc);

    /// <summary>HTTP/1.1 of the gateway: gRPC-Web and the spectator page.</summary>
    public Uri WebAddress => Loopback(Ports.GatewayHttp);

    public string LogDir => Path.Combine(_settings.DataDir, "logs");

    /// <summary>The services started so far, in start order.</summary>
    public IReadOnlyList<MeshProcess> Processes
    {
        get
        {
            lock (_gate)
            {
                return [.. _children];
            }
        }
    }

    /// <summary>Completes with a reason when a service exits while the mesh is meant to be running.</summary>
    public Task<string> Failure => _failure.Task;

    /// <summary>Starts every service and waits until each answers <c>/healthz</c>; on any failure stops them all and throws.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(LogDir);
        var launches = Services.Select(spec => (Spec: spec, Command: CommandFor(spec))).ToList();
        var missing = launches.Where(l => !File.Exists(l.Command.Path)).Select(l => l.Command.Path).ToList();
        if (missing.Count > 0)
        {
            throw new MeshStartException(
                $"not built: {string.Join(", ", missing)} (build with: dotnet build Veltrix.slnx -c {_settings.Configuration})");
        }
        // Only the ports of the services started here: a stand-in may already hold another's.
        var busy = Services.SelectMany(s => new[] { s.GrpcPort(Ports), s.HttpPort(Ports) }).Where(p => !PortProbe.IsFree(p)).ToList();
        if (busy.Count > 0)
        {
            throw new MeshStartException(
                $"port(s) {string.Join(", ", busy)} on 127.0.0.1 already in use (another mesh running? try --port)");
        }

        try
        {
            foreach (var (spec, command) in launches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var started = _time.GetTimestamp();
                var child = Launch(spec, command);
                await WaitReadyAsync(child, cancellationToken);
                _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {spec.Name,-12} pid {child.Pid,-7} ready in {_time.GetElapsedTime(started).TotalSeconds:0.0} s  log {child.LogPath}"));
            }
        }
        catch
        {
            await StopAsync();
            throw;
        }
    }

    /// <summary>The command line of one service: the file to run and its arguments.</summary>
    public (string Path, IReadOnlyList<string> Arguments) CommandFor(ServiceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var arguments = new List<string>();
        string path;
        if (spec.Aot && _settings.BinDir is not null)
        {
            path = Path.Combine(_settings.BinDir, spec.Assembly);
            if (Directory.Exists(path))
            {
                // A publish folder per host (dotnet publish -o DIR/Veltrix.X): the executable is inside.
                path = Path.Combine(path, spec.Assembly);
            }
        }
        else
        {
            path = Path.Combine(_settings.RepoRoot, spec.ProjectDir, "bin", _settings.Configuration, "net10.0", spec.Assembly + ".dll");
        }
        arguments.AddRange(ArgumentsFor(spec));
        return (path, arguments);
    }

    /// <summary>The configuration a service gets, as <c>--Key=value</c> arguments.</summary>
    public IReadOnlyList<string> ArgumentsFor(ServiceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = Ports;
        var args = new List<string>
        {
            Arg("Veltrix:Host:GrpcPort", spec.GrpcPort(p)),
            Arg("Veltrix:Host:HttpPort", spec.HttpPort(p)),
            Arg("Veltrix:Mesh:Ingest", Loopback(p.IngestGrpc).ToString().TrimEnd('/')),
            Arg("Veltrix:Mesh:Resolver", Loopback(p.ResolverGrpc).ToString().TrimEnd('/')),
            Arg("Veltrix:Mesh:Leaderboard", Loopback(p.LeaderboardGrpc).ToString().TrimEnd('/')),
            Arg("Veltrix:Mesh:SpawnTimer", Loopback(p.SpawnTimerGrpc).ToString().TrimEnd('/')),
            Arg("Veltrix:Mesh:Partitions", _settings.Partitions),
        };
        for (var i = 0; i < _settings.Resolvers; i++)
        {
            args.Add(Arg("Veltrix:Mesh:Resolvers:" + i.ToString(CultureInfo.InvariantCulture), Loopback(p.ResolverGrpcOf(i)).ToString().TrimEnd('/')));
        }
        if (spec.IsResolver)
        {
            args.Add(Arg("Veltrix:Resolver:Ordinal", spec.Instance));
            // Instance 0 keeps the folder a single resolver always used, so existing data still opens.
            args.Add(Arg("Veltrix:Storage:DataDir", Path.Combine(_settings.DataDir, spec.Name)));
            args.AddRange(_settings.ResolverArguments);
        }
        if (spec == ServiceCatalog.SpawnTimer)
        {
            if (_settings.SpawnWorlds.Count > 0)
            {
                args.Add(Arg("Veltrix:SpawnTimer:Worlds", string.Join(',', _settings.SpawnWorlds)));
            }
            args.AddRange(_settings.SpawnTimerArguments);
        }
        return args;
    }

    /// <summary>
    /// SIGTERM to every service, SIGKILL to whatever still runs after <see cref="MeshSettings.StopTimeout"/>.
    /// Safe to call more than once and concurrently; every call waits for the same stop.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopping ??= StopCoreAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StopCoreAsync()
    {
        var children = Processes;
        for (var i = children.Count - 1; i >= 0; i--)
        {
            if (!children[i].Process.HasExited)
            {
                Posix.Signal(children[i].Pid, Posix.SigTerm);
            }
        }
        var all = Task.WhenAll(children.Select(c => c.Exited));
        try
        {
            await all.WaitAsync(_settings.StopTimeout, _time);
        }
        catch (TimeoutException)
        {
            foreach (var child in children.Where(c => !c.Process.HasExited))
            {
                _output.WriteLine($"  {child.Name} did not stop within {_settings.StopTimeout.TotalSeconds:0} s of SIGTERM: SIGKILL");
                Posix.Signal(child.Pid, Posix.SigKill);
            }
            try
            {
                await all.WaitAsync(TimeSpan.FromSeconds(5), _time);
            }
            catch (TimeoutException)
            {
                _output.WriteLine("  some services did not exit after SIGKILL");
            }
        }
        foreach (var child in children)
        {
            child.Process.Dispose();
        }
    }

    private MeshProcess Launch(ServiceSpec spec, (string Path, IReadOnlyList<string> Arguments) command)
    {
        var logPath = Path.Combine(LogDir, spec.Name + ".log");
        var start = new ProcessStartInfo
        {
            UseShellExecute = false,
            // The host's content root is its working folder: run it where its appsettings.json is.
            WorkingDirectory = Path.GetDirectoryName(command.Path),
        };
        // Runtime tuning meant for this process (the load generator's) is not passed on to the services.
        foreach (var name in (Environment.GetEnvironmentVariable(CliOnlyEnvironment) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            start.Environment.Remove(name);
        }
        start.Environment.Remove(CliOnlyEnvironment);
        // The service gets its own session (setsid execs in place, so the pid is the service's): a Ctrl-C
        // in the terminal reaches only the launcher, which stops the bots before the services. The shell
        // sends the output to the log file and execs, so the pid stays the service's too.
        if (File.Exists("/usr/bin/setsid"))
        {
            start.FileName = "/usr/bin/setsid";
            start.ArgumentList.Add("/bin/sh");
        }
        else
        {
            start.FileName = "/bin/sh";
        }
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=\"$1\"; shift; exec \"$@\" >\"$log\" 2>&1 </dev/null");
        start.ArgumentList.Add("veltrix-" + spec.Name);
        start.ArgumentList.Add(logPath);
        if (command.Path.EndsWith(".dll", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(_settings.DotnetHost);
        }
        start.ArgumentList.Add(command.Path);
        foreach (var argument in command.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new MeshStartException($"{spec.Name}: could not start {command.Path}");
        var exited = process.WaitForExitAsync();
        var child = new MeshProcess(spec, process, logPath, exited);
        lock (_gate)
        {
            _children.Add(child);
        }
        _ = exited.ContinueWith(
            _ => OnExited(child),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return child;
    }

    private void OnExited(MeshProcess child)
    {
        bool stopping;
        lock (_gate)
        {
            stopping = _stopping is not null;
        }
        if (!stopping)
        {
            _failure.TrySetResult(
                $"{child.Name} (pid {child.Pid}) exited with code {ExitCode(child)}; last lines of {child.LogPath}:\n{Tail(child.LogPath)}");
        }
    }

    private async Task WaitReadyAsync(MeshProcess child, CancellationToken cancellationToken)
    {
        var url = Loopback(child.Spec.HttpPort(Ports)) + "healthz";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var started = _time.GetTimestamp();
        while (true)
        {
            if (child.Process.HasExited)
            {
                throw new MeshStartException(
                    $"{child.Name} exited with code {ExitCode(child)} before it was ready; last lines of {child.LogPath}:\n{Tail(child.LogPath)}");
            }
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // One probe timed out; the overall deadline decides.
            }
            if (_time.GetElapsedTime(started) > _settings.ReadyTimeout)
            {
                throw new MeshStartException(
                    $"{child.Name} did not answer {url} within {_settings.ReadyTimeout.TotalSeconds:0} s; last lines of {child.LogPath}:\n{Tail(child.LogPath)}");
            }
            await Task.Delay(PollInterval, _time, cancellationToken);
        }
    }

    private static string ExitCode(MeshProcess child)
    {
        try
        {
            return child.Process.ExitCode.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "unknown";
        }
    }

    /// <summary>The last lines of a log, read while the writer may still hold it open.</summary>
    public static string Tail(string path, int lines = LogTailLines)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var last = new Queue<string>(lines);
            while (reader.ReadLine() is { } line)
            {
                if (last.Count == lines)
                {
                    last.Dequeue();
                }
                last.Enqueue(line);
            }
            return last.Count == 0 ? "  (empty)" : string.Join('\n', last.Select(l => "  | " + l));
        }
        catch (IOException e)
        {
            return "  (no log: " + e.Message + ")";
        }
    }

    private static Uri Loopback(int port) => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));

    private static string Arg(string key, object value) =>
        string.Create(CultureInfo.InvariantCulture, $"--{key}={value}");
}

/// <summary>Whether a loopback TCP port can be bound right now.</summary>
public static class PortProbe
{
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A base port in [20000, 60000) whose whole layout is free; for tests that run meshes side by side.</summary>
    public static int FindFreeBase(Random random, int attempts = 50, int resolvers = 1)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (var i = 0; i < attempts; i++)
        {
            var candidate = random.Next(20_000, 60_000 - PortLayout.SpanFor(resolvers));
            if (new PortLayout(candidate, resolvers).All().All(IsFree))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"no free port layout found in {attempts} attempts");
    }
}
