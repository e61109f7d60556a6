using System.Reflection;
using Grpc.Core;
using Veltrix.Cli;
using Veltrix.Cli.Launch;
using Veltrix.Contracts.V1;
using Partitioning = Veltrix.Domain.Partitioning;
using Xunit.Abstractions;

namespace Veltrix.EndToEnd.Tests;

/// <summary>
/// An admin rollback as operators run it: through the gateway, for a world the second of two resolvers
/// owns (so the call is forwarded), with the real leaderboard showing the correction.
/// </summary>
public sealed class RollbackEndToEndTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    private readonly TestOutputWriter _log = new(output);
    private readonly CancellationTokenSource _budget = new(TimeSpan.FromMinutes(3));
    private readonly string _data = Directory.CreateTempSubdirectory("veltrix-e2e-rollback-").FullName;
    private Mesh? _mesh;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try
        {
            if (_mesh is not null)
            {
                await _mesh.StopAsync();
                Assert.DoesNotContain(_mesh.Processes, p => Posix.IsAlive(p.Pid));
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
    public async Task Rollback_ExploitOnSecondResolver_NextDiggerGetsTreasureAndBoardsShowIt()
    {
        var repo = RepoLocator.Find(AppContext.BaseDirectory) ?? throw new InvalidOperationException("no Veltrix.slnx above the test assembly");
        _mesh = new Mesh(new MeshSettings
        {
            RepoRoot = repo,
            DataDir = _data,
            BasePort = PortProbe.FindFreeBase(Random.Shared, resolvers: 2),
            Configuration = typeof(RollbackEndToEndTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug",
            SpawnWorlds = [],
            Resolvers = 2,
        }, _log);
        await _mesh.StartAsync(_budget.Token);
        using var gateway = new GatewayClients(_mesh.GatewayAddress);
        var world = Enumerable.Range(0, 1_000).Select(i => $"rollback-{Guid.NewGuid():N}"[..20])
            .First(w => Partitioning.PartitionOf(w, MeshSettings.DefaultPartitions) % 2 == 1);
        using var publish = gateway.Ingest.Publish(gateway.Call(TimeSpan.FromMinutes(2), _budget.Token));
        ulong batch = 0;
        async Task<Outcome[]> SendAsync(params Event[] events)
        {
            var message = new EventBatch { BatchId = ++batch };
            message.Events.AddRange(events);
            await publish.RequestStream.WriteAsync(message, _budget.Token);
            Assert.True(await publish.ResponseStream.MoveNext(_budget.Token));
            return [.. publish.ResponseStream.Current.Results.Select(r => r.Outcome)];
        }
        Event Make(string player, ulong seq, Action<Event> kind)
        {
            var e = new Event { WorldId = world, PlayerId = player, Seq = seq, ClientTimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
            kind(e);
            return e;
        }

        Assert.Equal([Outcome.Accepted, Outcome.Accepted], await SendAsync(Make("cheat", 1, e => e.Join = new Join()), Make("honest", 1, e => e.Join = new Join())));
        var gold = await gateway.SpawnTimer.ScheduleOnceAsync(
            new ScheduleOnceRequest { WorldId = world, X = 50_000, Y = 50_000, Value = 40, AtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
            gateway.Call(CallTimeout, _budget.Token));
        while (!(await gateway.Resolver.GetWorldAsync(new GetWorldRequest { WorldId = world }, gateway.Call(CallTimeout, _budget.Token)))
            .OpenTreasures.Any(t => t.Id == gold.TreasureId))
        {
            await Task.Delay(50, _budget.Token);
        }

        var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal([Outcome.Accepted, Outcome.Accepted], await SendAsync(
            Make("cheat", 2, e => e.Teleport = new Teleport { X = 50_000, Y = 50_000 }), Make("cheat", 3, e => e.Dig = new Dig())));
        var to = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal([Outcome.Accepted, Outcome.Rejected], await SendAsync(
            Make("honest", 2, e => e.Teleport = new Teleport { X = 50_003, Y = 50_000 }), Make("honest", 3, e => e.Dig = new Dig())));

        var admin = new Admin.AdminClient(gateway.Channel);
        var report = await admin.RollbackAsync(
            new RollbackRequest { WorldId = world, PlayerIds = { "cheat" }, FromMs = from, ToMs = to, Reason = "teleport exploit" },
            new CallOptions(new Metadata { { "veltrix-actor", "ops-e2e" } }, DateTime.UtcNow + CallTimeout, _budget.Token));

        Assert.Equal(2ul, report.EventsVoided);
        Assert.Equal([(gold.TreasureId, "cheat", "honest")], report.Treasures.Select(t => (t.TreasureId, t.OwnerBefore, t.OwnerAfter)));
        Assert.Equal([("cheat", 40L, 0L), ("honest", 0L, 40L)], report.Players.Select(p => (p.PlayerId, p.ScoreBefore, p.ScoreAfter)));
        var board = $"world:{world}";
        BoardPage page;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            page = await gateway.Leaderboard.TopAsync(new TopRequest { Board = board, Limit = 10 }, gateway.Call(CallTimeout, _budget.Token));
        }
        while (!(page.Entries.Count == 2 && page.Entries[0].PlayerId == "honest" && page.Entries[0].Score == 40) && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal([("honest", 40L), ("cheat", 0L)], page.Entries.Select(e => (e.PlayerId, e.Score)));
        var audit = Path.Combine(_data, "resolver-1", "audit", "rollbacks.jsonl");
        Assert.Contains("\"actor\":\"ops-e2e\"", await File.ReadAllTextAsync(audit, _budget.Token), StringComparison.Ordinal);
    }

    private async Task<bool> Delay()
    {
        await Task.Delay(100, _budget.Token);
        return true;
    }
}
