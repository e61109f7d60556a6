using System.Globalization;
using System.Reflection;
using Veltrix.Cli.Bench;
using Veltrix.Cli.Bench.Leaderboard;
using Veltrix.Cli.Bench.Timers;
using Veltrix.Cli.Bots;
using Veltrix.Cli.Game;
using Veltrix.Cli.Launch;
using Veltrix.Cli.Terminal;
using Veltrix.Cli.Trx;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli;

/// <summary>The subcommands of veltrix-cli; the ./veltrix script builds, then hands over to them.</summary>
internal static class Commands
{
    private const string Usage = """
        usage: veltrix-cli <command> [options]

          up [--port N] [--bots N] [--worlds N] [--data DIR] [--resolvers N]
             [--bin-dir DIR] [--configuration C] [--streams N] [--token JWT]
                              start the five services on 127.0.0.1 (gateway gRPC on --port, default 7700;
                              web on port+1), then run --bots simulated players (default 1000, 0 for none)
                              in --worlds worlds (default 4) until Ctrl-C or SIGTERM; --resolvers N (1..8,
                              default 1) runs N resolver instances, each owning partitions p with p % N = its
                              ordinal (instance 0 on port+20, instance i on port+50+2(i-1))
          smoke [--gateway URL] [--token JWT]
                              the scripted game against a running mesh (default http://127.0.0.1:7700)
          bench [--duration 60s] [--warmup 5s] [--streams 8] [--batch 256] [--inflight 4] [--rate R]
                [--players N] [--worlds N] [--redis] [--smoke] [--no-sink] [--jit] [--bin-dir DIR]
                [--port N] [--out DIR] [--token JWT]
                              measure the mesh under load: a bare gRPC sink first (the transport ceiling),
                              then the mesh from the AOT binaries in --bin-dir (default artifacts/aot; --jit
                              runs the build output instead) on a free port range with a fresh data folder
                              (--redis: a private redis-server with appendfsync always, and redis-benchmark
                              after); --streams Publish streams of --batch events, --inflight batches each,
                              flat out or at --rate events/s in total (320k, 1M accepted); per-second
                              progress, then a table with the budget's verdicts and a JSON report in --out
                              (default artifacts/bench). --smoke: 10 s after 2 s of warm-up, and the exit
                              code says only whether every event sent was acked without error
          bench-leaderboard [--players 1000000] [--worlds 1024] [--duration 20s] [--warmup 3s] [--subscribers 10000]
                [--top 100] [--hz 10] [--watch-rate 10000] [--feed-batch 512] [--no-redis] [--jit] [--bin-dir DIR]
                [--port N] [--out DIR]
                              measure the leaderboard alone (AOT binary) against a stand-in score feed on the
                              resolver's port: a snapshot of --players, then score changes flat out while Top
                              and Around are timed, then --subscribers Watch streams of the global board with
                              the feed at --watch-rate changes/s (0: flat out), timing each frame's delay; then
                              redis-benchmark ZADD (pipelined) against a private in-memory redis-server as the
                              baseline. Prints progress, a table with the budget's verdicts, and writes
                              --out/leaderboard-<UTC time>.json (default artifacts/bench)
          bench-timers [--timers N] [--rate R] [--worlds N] [--inflight N] [--warmup-timers N] [--lead 30s]
                [--drain 30s] [--deadline 20m] [--smoke] [--port N] [--out DIR]
                              measure the spawn timer (DESIGN.md section 7, "spawn timers"): its process from
                              the build output against a stand-in resolver in this process, --timers timers
                              (default 1,000,000) scheduled through ScheduleOnce (--inflight calls at a time,
                              default 64) in --worlds worlds (default 4096), due at --rate fires/s (default
                              100k) from a first due time after the last is scheduled (--lead, default from
                              the warm-up's schedule rate); per-second progress, the lateness of every spawn
                              at the stand-in, a table with the budget's verdicts and a JSON report
                              artifacts/bench/timers-<UTC time>.json. --smoke: 100,000 timers at 50k/s, and
                              the exit code says only whether every scheduled timer arrived
          count-trx DIR       count the results in DIR's *.trx files; prints "N passed, N failed"
          help                this text
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        try
        {
            var rest = args[1..];
            if (rest.Any(a => a is "--help" or "-h"))
            {
                return Help();
            }
            return args[0] switch
            {
                "up" => await UpAsync(CommandLine.Parse(rest, "port", "bots", "worlds", "data", "resolvers", "bin-dir", "configuration", "streams", "token", "repo")),
                "smoke" => await SmokeAsync(CommandLine.Parse(rest, "gateway", "token")),
                "bench" => await BenchAsync(CommandLine.Parse(rest, ["redis", "smoke", "jit", "no-sink"],
                    "duration", "warmup", "streams", "batch", "inflight", "rate", "players", "worlds", "port", "bin-dir", "out", "token",
                    "repo", "configuration"), args),
                "bench-leaderboard" => await BenchLeaderboardAsync(CommandLine.Parse(rest, ["no-redis", "jit"],
                    "players", "worlds", "duration", "warmup", "subscribers", "top", "hz", "watch-rate", "feed-batch", "port", "bin-dir", "out",
                    "repo", "configuration"), args),
                "bench-timers" => await BenchTimersAsync(CommandLine.Parse(rest, ["smoke"],
                    "timers", "rate", "worlds", "inflight", "warmup-timers", "lead", "drain", "deadline", "port", "out", "repo", "configuration"), args),
                "count-trx" => CountTrx(CommandLine.Parse(rest)),
                "help" or "--help" or "-h" => Help(),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"veltrix-cli: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static int Help()
    {
        Console.WriteLine(Usage);
        return 0;
    }

    private static async Task<int> UpAsync(CommandLine line)
    {
        var resolvers = line.Int("resolvers", 1, 1, MeshSettings.DefaultPartitions);
        var port = line.Int("port", PortLayout.DefaultBasePort, 1024, 65535 - PortLayout.SpanFor(resolvers));
        var bots = line.Int("bots", 1_000, 0, 1_000_000);
        var worlds = line.Int("worlds", 4, 1, 10_000);
        var streams = line.Int("streams", 4, 1, 64);
        var repo = Repo(line);
        var data = Path.GetFullPath(line.Text("data") ?? Path.Combine(repo, ".data"));
        var botSettings = new BotSettings { Bots = bots, Worlds = worlds, Streams = streams };
        var settings = new MeshSettings
        {
            RepoRoot = repo,
            DataDir = data,
            BasePort = port,
            Resolvers = resolvers,
            Configuration = line.Text("configuration") ?? OwnConfiguration(),
            BinDir = line.Text("bin-dir") is { } bin ? Path.GetFullPath(bin) : null,
            SpawnWorlds = bots > 0 ? BotSettings.WorldNames(worlds) : [],
        };

        using var signals = new StopSignals();
        var stop = signals.Source;

        Console.WriteLine($"starting the mesh ({settings.Configuration}{(settings.BinDir is null ? "" : ", native from " + settings.BinDir)}; " +
            $"{(resolvers == 1 ? "" : resolvers + " resolver instances; ")}data {data})");
        await using var mesh = new Mesh(settings, Console.Out);
        try
        {
            await mesh.StartAsync(stop.Token);
        }
        catch (MeshStartException e)
        {
            Console.Error.WriteLine("veltrix up: " + e.Message);
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("veltrix up: interrupted while starting; every service stopped");
            return 130;
        }
        Console.WriteLine($"gateway: http://127.0.0.1:{mesh.Ports.GatewayGrpc}");
        Console.WriteLine($"web: http://127.0.0.1:{mesh.Ports.GatewayHttp}");
        Console.WriteLine(bots > 0
            ? $"{bots:N0} bots in {worlds} worlds over {Math.Min(streams, bots)} Publish streams; Ctrl-C to stop"
            : "no bots; Ctrl-C to stop");
        Console.Out.Flush();

        using var gateway = new GatewayClients(mesh.GatewayAddress, line.Text("token"));
        await using var fleet = new BotFleet(gateway, botSettings);
        var started = TimeProvider.System.GetTimestamp();
        fleet.Start();
        using var displayStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var interactive = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb");
        var display = new LiveDisplay(Console.Out, interactive, fleet.Stats, gateway, TimeProvider.System).RunAsync(displayStop.Token);

        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (stop.Token.Register(() => stopped.TrySetResult()))
        {
            await Task.WhenAny(stopped.Task, mesh.Failure);
        }
        var failure = mesh.Failure.IsCompleted ? await mesh.Failure : null;
        await displayStop.CancelAsync();
        await display;
        if (failure is not null)
        {
            Console.Error.WriteLine("veltrix up: " + failure);
        }

        Console.WriteLine("stopping: bots");
        await fleet.StopAsync();
        var duration = TimeProvider.System.GetElapsedTime(started);
        var (top, topError) = failure is null
            ? await gateway.TryTopAsync("global", 5, TimeSpan.FromSeconds(2), CancellationToken.None)
            : (null, "mesh failed");
        Console.WriteLine("stopping: services");
        await mesh.StopAsync();
        PrintSummary(duration, fleet.Stats, top, topError);
        return failure is null ? 0 : 1;
    }

    private static void PrintSummary(TimeSpan duration, FleetStats stats, BoardPage? top, string? topError)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine("summary");
        Console.WriteLine(string.Create(c, $"  duration      {duration.TotalSeconds:0.0} s"));
        Console.WriteLine(string.Create(c, $"  events sent   {stats.Sent:N0}"));
        Console.WriteLine(string.Create(c,
            $"  acked         ACCEPTED {stats.Accepted:N0}   DUPLICATE {stats.Duplicate:N0}   REJECTED {stats.Rejected:N0}   MALFORMED {stats.Malformed:N0}"));
        if (stats.Unspecified > 0 || stats.Lost > 0 || stats.InFlight > 0)
        {
            Console.WriteLine(string.Create(c,
                $"  not acked     lost with broken streams {stats.Lost:N0}   in flight at stop {stats.InFlight:N0}   no outcome {stats.Unspecified:N0}"));
        }
        var label = "  why           ";
        foreach (var (reason, count) in stats.Reasons(5))
        {
            Console.WriteLine(string.Create(c, $"{label}{count:N0} × {reason}"));
            label = "                ";
        }
        Console.WriteLine(string.Create(c, $"  events/s      {stats.Acked / Math.Max(0.001, duration.TotalSeconds):N0} acked, on average"));
        Console.WriteLine("  top 5 global  " + LiveDisplay.FormatTop(top, topError));
    }

    private static async Task<int> SmokeAsync(CommandLine line)
    {
        var address = line.Text("gateway") ?? $"http://127.0.0.1:{PortLayout.DefaultBasePort}";
        if (!Uri.TryCreate(address, UriKind.Absolute, out var gatewayUri) || gatewayUri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--gateway must be an http(s) URL, got '{address}'");
        }
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var gateway = new GatewayClients(gatewayUri, line.Text("token"));
        var result = await new ScriptedGame(gateway, Console.Out).RunAsync(stop.Token);
        return result.Succeeded ? 0 : 1;
    }

    private static async Task<int> BenchAsync(CommandLine line, string[] args)
    {
        var smoke = line.Flag("smoke");
        var repo = Repo(line);
        var streams = line.Int("streams", 8, 1, 256);
        var load = new LoadSettings
        {
            Streams = streams,
            Batch = line.Int("batch", 256, 1, 4_096),
            InFlight = line.Int("inflight", 4, 1, 256),
            Rate = line.Text("rate") is { } rate ? ParseRate(rate) : null,
            Players = line.Int("players", 16_384, streams, 10_000_000),
            Worlds = line.Int("worlds", 64, 1, 100_000),
        };
        if (!TryNativeDir(line, repo, ServiceCatalog.StartOrder, out var binDir))
        {
            return 2;
        }
        var options = new BenchOptions
        {
            Load = load,
            Duration = Duration(line, "duration", smoke ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1)),
            Warmup = Duration(line, "warmup", smoke ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5), TimeSpan.Zero),
            Redis = line.Flag("redis"),
            Smoke = smoke,
            Sink = !line.Flag("no-sink"),
            RepoRoot = repo,
            BinDir = binDir,
            Configuration = line.Text("configuration") ?? OwnConfiguration(),
            BasePort = line.Text("port") is null ? null : line.Int("port", PortLayout.DefaultBasePort, 1024, 65535 - PortLayout.Span),
            OutputDir = Path.GetFullPath(line.Text("out") ?? Path.Combine(repo, "artifacts", "bench")),
            Token = line.Text("token"),
            Command = "./veltrix bench" + (args.Length > 1 ? " " + string.Join(' ', args[1..]) : ""),
        };

        using var signals = new StopSignals();
        var stop = signals.Source;
        var report = await new BenchRunner(options, Console.Out).RunAsync(stop.Token);
        if (stop.IsCancellationRequested)
        {
            return 130;
        }
        return report.Completed && report.AllAcked ? 0 : 1;
    }

    private static async Task<int> BenchLeaderboardAsync(CommandLine line, string[] args)
    {
        var repo = Repo(line);
        if (!TryNativeDir(line, repo, [ServiceCatalog.Leaderboard], out var binDir))
        {
            return 2;
        }
        var players = line.Int("players", 1_000_000, 1, 9_999_999);
        var options = new LeaderboardBenchOptions
        {
            Players = players,
            Worlds = line.Int("worlds", Math.Min(1_024, players), 1, players),
            Duration = Duration(line, "duration", TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1)),
            Warmup = Duration(line, "warmup", TimeSpan.FromSeconds(3), TimeSpan.Zero),
            Subscribers = line.Int("subscribers", 10_000, 0, 100_000),
            TopN = line.Int("top", 100, 1, 100),
            MaxHz = line.Int("hz", 10, 1, 10),
            WatchRate = line.Text("watch-rate") is { } rate ? (long)ParseRate(rate) : 10_000,
            FeedBatch = line.Int("feed-batch", 512, 1, 16_384),
            Redis = !line.Flag("no-redis"),
            RepoRoot = repo,
            BinDir = binDir,
            Configuration = line.Text("configuration") ?? OwnConfiguration(),
            BasePort = line.Text("port") is null ? null : line.Int("port", PortLayout.DefaultBasePort, 1024, 65535 - PortLayout.Span),
            OutputDir = Path.GetFullPath(line.Text("out") ?? Path.Combine(repo, "artifacts", "bench")),
            Command = "./veltrix bench leaderboard" + (args.Length > 1 ? " " + string.Join(' ', args[1..]) : ""),
        };
        using var signals = new StopSignals();
        using var bench = new LeaderboardBench(options, Console.Out);
        var report = await bench.RunAsync(signals.Source.Token);
        if (signals.Source.IsCancellationRequested)
        {
            return 130;
        }
        return report.Completed ? 0 : 1;
    }

    private static string Repo(CommandLine line) =>
        line.Text("repo") ?? RepoLocator.Find(AppContext.BaseDirectory) ?? RepoLocator.Find(Environment.CurrentDirectory)
            ?? throw new UsageException("cannot find the repository (no Veltrix.slnx above this program); pass --repo DIR");

    /// <summary>Where the native binaries of <paramref name="services"/> are: null with --jit; false (and said) when one is missing.</summary>
    private static bool TryNativeDir(CommandLine line, string repo, IEnumerable<ServiceSpec> services, out string? binDir)
    {
        binDir = null;
        if (line.Flag("jit"))
        {
            return true;
        }
        var dir = Path.GetFullPath(line.Text("bin-dir") ?? Path.Combine(repo, "artifacts", "aot"));
        var missing = services.Where(s => s.Aot).Select(s => Path.Combine(dir, s.Assembly, s.Assembly)).Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            Console.Error.WriteLine($"veltrix bench: no native binary at {string.Join(", ", missing)}; ./veltrix bench publishes them (or pass --jit)");
            return false;
        }
        binDir = dir;
        return true;
    }

    private static async Task<int> BenchTimersAsync(CommandLine line, string[] args)
    {
        var smoke = line.Flag("smoke");
        var repo = Repo(line);
        var options = new TimerBenchOptions
        {
            Timers = line.Int("timers", smoke ? 100_000 : 1_000_000, 1, 10_000_000),
            Rate = line.Text("rate") is { } rate ? ParseRate(rate) : smoke ? 50_000 : 100_000,
            Worlds = line.Int("worlds", 4096, 1, 1_000_000),
            InFlight = line.Int("inflight", 64, 1, 4_096),
            WarmupTimers = line.Int("warmup-timers", smoke ? 5_000 : 20_000, 0, 1_000_000),
            Lead = line.Text("lead") is null ? null : Duration(line, "lead", TimeSpan.Zero, TimeSpan.FromSeconds(1)),
            Drain = Duration(line, "drain", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1)),
            Deadline = Duration(line, "deadline", TimeSpan.FromMinutes(20), TimeSpan.FromSeconds(10)),
            Smoke = smoke,
            RepoRoot = repo,
            Configuration = line.Text("configuration") ?? OwnConfiguration(),
            BasePort = line.Text("port") is null ? null : line.Int("port", PortLayout.DefaultBasePort, 1024, 65535 - PortLayout.Span),
            OutputDir = Path.GetFullPath(line.Text("out") ?? Path.Combine(repo, "artifacts", "bench")),
            Command = "./veltrix bench timers" + (args.Length > 1 ? " " + string.Join(' ', args[1..]) : ""),
        };

        using var signals = new StopSignals();
        var stop = signals.Source;
        var report = await new TimerBenchRunner(options, Console.Out).RunAsync(stop.Token);
        if (stop.IsCancellationRequested)
        {
            return 130;
        }
        // Only whether every accepted timer arrived decides; never a timing (the smoke check's contract too).
        return report.Completed && report.AllArrived ? 0 : 1;
    }

    private static TimeSpan Duration(CommandLine line, string name, TimeSpan fallback, TimeSpan min)
    {
        if (line.Text(name) is not { } text)
        {
            return fallback;
        }
        return BenchDuration.TryParse(text) is { } d && d >= min
            ? d
            : throw new UsageException($"--{name} must be a duration like 10s, 2m or 500ms (at least {BenchDuration.Format(min)}), got '{text}'");
    }

    /// <summary>Events per second: a number, or with k or M (320k, 1M).</summary>
    private static double ParseRate(string text)
    {
        var scale = text.EndsWith('k') || text.EndsWith('K') ? 1e3 : text.EndsWith('M') ? 1e6 : 1;
        var digits = scale == 1 ? text : text[..^1];
        if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value * scale < 1 || value * scale > 1e9)
        {
            throw new UsageException($"--rate must be events per second, like 320000 or 320k, got '{text}'");
        }
        return value * scale;
    }

    private static int CountTrx(CommandLine line)
    {
        if (line.Positional.Count != 1)
        {
            throw new UsageException("count-trx takes one folder");
        }
        var folder = line.Positional[0];
        var count = TrxCounter.CountDirectory(folder);
        if (count.Files == 0)
        {
            Console.Error.WriteLine($"count-trx: no *.trx files under {folder}");
            return 2;
        }
        foreach (var problem in count.Problems)
        {
            Console.Error.WriteLine("count-trx: " + problem);
        }
        Console.WriteLine(count.Summary);
        return count.Problems.Count > 0 ? 2 : count.Failed > 0 ? 1 : 0;
    }

    /// <summary>The configuration this program was built in: the services are run from the same one.</summary>
    private static string OwnConfiguration() =>
        typeof(Commands).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "Release";
}
