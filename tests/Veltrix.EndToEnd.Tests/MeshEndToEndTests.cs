using System.Reflection;
using Veltrix.Cli;
using Veltrix.Cli.Bots;
using Veltrix.Cli.Game;
using Veltrix.Cli.Launch;
using Xunit.Abstractions;

namespace Veltrix.EndToEnd.Tests;

/// <summary>
/// The real processes, started the way <c>./veltrix up</c> starts them, on a free port range and a fresh
/// data folder; each test gets its own mesh and every process is stopped, and checked gone, when it ends.
/// </summary>
public sealed class MeshEndToEndTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan TestBudget = TimeSpan.FromMinutes(3);

    private readonly TestOutputWriter _log = new(output);
    private readonly CancellationTokenSource _budget = new(TestBudget);
    private readonly string _data = Directory.CreateTempSubdirectory("veltrix-e2e-").FullName;
    private Mesh? _mesh;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Runs whether the test passed or not: no process may outlive its test.</summary>
    public async Task DisposeAsync()
    {
        try
        {
            if (_mesh is not null)
            {
                await StopAndAssertGoneAsync(_mesh);
            }
        }
        finally
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    public void Dispose()
    {
        _budget.Dispose();
        _log.Dispose();
    }

    [Fact]
    public async Task ScriptedGame_ThroughRealMesh_EveryStepPasses()
    {
        var mesh = await StartMeshAsync(spawnWorlds: []);
        using var gateway = new GatewayClients(mesh.GatewayAddress);

        var result = await new ScriptedGame(gateway, _log).RunAsync(_budget.Token);

        Assert.True(result.Succeeded, result.Failure + "\n" + Logs(mesh));
        Assert.Equal(10, result.Steps.Count);
        await StopAndAssertGoneAsync(mesh);
    }

    [Fact]
    public async Task Bots_FiveSecondsOfPlay_EventsAckedNoneMalformedNoneLost()
    {
        // Streams are swapped every 2 s (5 min in `up`), so the swap is exercised too and must lose nothing.
        var settings = new BotSettings { Bots = 50, Worlds = 2, Streams = 2, StreamRotation = TimeSpan.FromSeconds(2) };
        var mesh = await StartMeshAsync(BotSettings.WorldNames(settings.Worlds));
        using var gateway = new GatewayClients(mesh.GatewayAddress);
        await using var fleet = new BotFleet(gateway, settings);

        fleet.Start();
        // A bounded stretch of real play: the point is the live mesh under steady load, not a timing.
        await Task.Delay(TimeSpan.FromSeconds(5), _budget.Token);
        await fleet.StopAsync();

        var stats = fleet.Stats;
        _log.WriteLine($"sent {stats.Sent}, accepted {stats.Accepted}, duplicate {stats.Duplicate}, rejected {stats.Rejected}, " +
            $"malformed {stats.Malformed}, lost {stats.Lost}, streams opened {stats.StreamsOpened}, stream failures {stats.StreamFailures} ({stats.LastStreamError})");
        foreach (var (reason, count) in stats.Reasons(10))
        {
            _log.WriteLine($"  {count} x {reason}");
        }
        Assert.True(stats.Accepted > 0, "no event was accepted\n" + Logs(mesh));
        Assert.Equal(0, stats.Malformed);
        Assert.Equal(0, stats.Unspecified);
        Assert.Equal(0, stats.Lost);
        Assert.Equal(0, stats.StreamFailures);
        Assert.True(stats.StreamsOpened > settings.Streams, $"no stream was swapped ({stats.StreamsOpened} opened)");
        await StopAndAssertGoneAsync(mesh);
    }

    private async Task<Mesh> StartMeshAsync(IReadOnlyList<string> spawnWorlds)
    {
        var repo = RepoLocator.Find(AppContext.BaseDirectory) ?? throw new InvalidOperationException("no Veltrix.slnx above the test assembly");
        var settings = new MeshSettings
        {
            RepoRoot = repo,
            DataDir = _data,
            BasePort = PortProbe.FindFreeBase(Random.Shared),
            Configuration = BuildConfiguration,
            SpawnWorlds = spawnWorlds,
        };
        _mesh = new Mesh(settings, _log);
        await _mesh.StartAsync(_budget.Token);
        return _mesh;
    }

    private static async Task StopAndAssertGoneAsync(Mesh mesh)
    {
        await mesh.StopAsync();
        var alive = mesh.Processes.Where(p => Posix.IsAlive(p.Pid)).Select(p => $"{p.Name} (pid {p.Pid})").ToList();
        Assert.True(alive.Count == 0, "still running after stop: " + string.Join(", ", alive));
    }

    private static string Logs(Mesh mesh) =>
        string.Join('\n', mesh.Processes.Select(p => $"--- {p.Name} ---\n{Mesh.Tail(p.LogPath, 15)}"));

    /// <summary>The services are run from the configuration these tests were built in (they build them too).</summary>
    private static string BuildConfiguration =>
        typeof(MeshEndToEndTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
}
