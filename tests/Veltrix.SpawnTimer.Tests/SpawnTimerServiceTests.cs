using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Veltrix.SpawnTimer.Scheduling;
using SpawnTimerClient = Veltrix.Contracts.V1.SpawnTimer.SpawnTimerClient;

namespace Veltrix.SpawnTimer.Tests;

/// <summary>The SpawnTimer contract through real gRPC, on a host whose clock and partitions are the test's.</summary>
public sealed class SpawnTimerServiceTests : IDisposable
{
    private const long T0 = 1_700_000_000_000;
    private const int Partitions = 4;
    private const int MaxPending = 150;
    private const long ThirtyDaysMs = 30L * 24 * 60 * 60 * 1000;

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(T0));
    private readonly RecordingSink _sink;
    private readonly WebApplicationFactory<Program> _factory;
    private readonly GrpcChannel _channel;
    private readonly SpawnTimerClient _client;

    public SpawnTimerServiceTests()
    {
        _sink = new RecordingSink(_time);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.ConfigureAppConfiguration((_, c) => c.AddInMemoryCollection([
                new("Veltrix:Mesh:Partitions", Partitions.ToString(CultureInfo.InvariantCulture)),
                new("Veltrix:SpawnTimer:MaxPending", MaxPending.ToString(CultureInfo.InvariantCulture)),
            ]));
            b.ConfigureTestServices(services =>
            {
                services.AddSingleton<TimeProvider>(_time);
                services.AddSingleton<ISpawnSink>(_sink);
            });
        });
        _channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        _client = new SpawnTimerClient(_channel);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _factory.Dispose();
    }

    private static ScheduleOnceRequest Request(string world = "w1", string treasure = "", int x = 10, int y = 20, long value = 30, long atMs = T0 + 60_000) =>
        new() { WorldId = world, TreasureId = treasure, X = x, Y = y, Value = value, AtMs = atMs };

    [Theory]
    [InlineData("", "", 1, 1, 1, 0, "world_id must be 1..64 characters")]
    [InlineData("bad world", "", 1, 1, 1, 0, "world_id must be 1..64 characters")]
    [InlineData("w1", "bad/id", 1, 1, 1, 0, "treasure_id must be empty or 1..64 characters")]
    [InlineData("w1", "", -1, 1, 1, 0, "x must be in [0, 100000), got -1")]
    [InlineData("w1", "", 100_000, 1, 1, 0, "x must be in [0, 100000), got 100000")]
    [InlineData("w1", "", 1, 100_000, 1, 0, "y must be in [0, 100000), got 100000")]
    [InlineData("w1", "", 1, 1, 0, 0, "value must be in [1, 1000000], got 0")]
    [InlineData("w1", "", 1, 1, 1_000_001, 0, "value must be in [1, 1000000], got 1000001")]
    [InlineData("w1", "", 1, 1, 1, ThirtyDaysMs + 1, "at_ms must be at most 30 days ahead")]
    public async Task ScheduleOnce_InvalidRequest_InvalidArgumentNamingTheField(string world, string treasure, int x, int y, long value, long aheadMs, string message)
    {
        var request = Request(world, treasure, x, y, value, T0 + aheadMs);

        var error = await Assert.ThrowsAsync<RpcException>(() => _client.ScheduleOnceAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await _client.ListPendingAsync(new ListPendingRequest())).Spawns);
    }

    [Fact]
    public async Task ScheduleOnce_EveryBoundaryValue_Accepted()
    {
        var longestId = new string('x', 64);

        var low = await _client.ScheduleOnceAsync(Request(longestId, "A-z_09", x: 0, y: 0, value: 1, atMs: T0 + ThirtyDaysMs));
        var high = await _client.ScheduleOnceAsync(Request("w1", longestId, x: 99_999, y: 99_999, value: 1_000_000));

        Assert.Equal(("A-z_09", T0 + ThirtyDaysMs), (low.TreasureId, low.AtMs));
        Assert.Equal(longestId, high.TreasureId);
        Assert.Equal(2u, (await _client.ListPendingAsync(new ListPendingRequest())).Total);
    }

    [Fact]
    public async Task ScheduleOnce_NoTreasureId_NamesEachSpawnUniquely()
    {
        var first = await _client.ScheduleOnceAsync(Request());
        var second = await _client.ScheduleOnceAsync(Request());

        Assert.NotEqual(first.TreasureId, second.TreasureId);
        Assert.StartsWith("t-", first.TreasureId, StringComparison.Ordinal);
        Assert.True(SpawnRules.IsValidId(first.TreasureId), first.TreasureId);
        Assert.Equal(T0 + 60_000, first.AtMs);
    }

    [Fact]
    public async Task ScheduleOnce_AtMsInThePast_DueNowAndSentToItsPartition()
    {
        var reply = await _client.ScheduleOnceAsync(Request("arena", "gold", x: 7, y: 8, value: 9, atMs: T0 - 1_000));

        Assert.Equal(T0, reply.AtMs);
        var attempt = Assert.Single(_sink.Sent);
        Assert.Equal((uint)Partitioning.PartitionOf("arena", Partitions), attempt.Batch.Partition);
        var spawn = Assert.Single(attempt.Batch.Spawns);
        Assert.Equal(("arena", "gold", 7, 8, 9L, T0), (spawn.WorldId, spawn.TreasureId, spawn.X, spawn.Y, spawn.Value, spawn.StampMs));
    }

    [Fact]
    public async Task ScheduleOnce_MaxPendingReached_ResourceExhausted()
    {
        for (var i = 0; i < MaxPending; i++)
        {
            await _client.ScheduleOnceAsync(Request());
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => _client.ScheduleOnceAsync(Request()).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("150 spawns are pending", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((uint)MaxPending, (await _client.ListPendingAsync(new ListPendingRequest())).Total);
    }

    [Fact]
    public async Task ScheduleOnce_SameTreasureIdRetried_OneSpawnAndSameReply()
    {
        var first = await _client.ScheduleOnceAsync(Request(treasure: "gold", atMs: T0 + 5_000));
        var retried = await _client.ScheduleOnceAsync(Request(treasure: "gold", atMs: T0 + 9_000));
        var error = await Assert.ThrowsAsync<RpcException>(() => _client.ScheduleOnceAsync(Request(treasure: "gold", x: 11)).ResponseAsync);

        Assert.Equal(("gold", T0 + 5_000), (retried.TreasureId, retried.AtMs));
        Assert.Equal(first.AtMs, retried.AtMs);
        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal(1u, (await _client.ListPendingAsync(new ListPendingRequest())).Total);
    }

    [Fact]
    public async Task ListPending_SeveralWorlds_OrderedByDueTimeFilteredAndCounted()
    {
        (string World, string Id, long AheadMs)[] plan =
        [
            ("b", "b-late", 9_000), ("a", "a-mid", 5_000), ("c", "c-first", 1_000),
            ("b", "b-early", 2_000), ("a", "a-last", 12_000), ("b", "b-mid", 5_000),
        ];
        foreach (var (world, id, ahead) in plan)
        {
            await _client.ScheduleOnceAsync(Request(world, id, atMs: T0 + ahead));
        }

        var all = await _client.ListPendingAsync(new ListPendingRequest());
        var worldB = await _client.ListPendingAsync(new ListPendingRequest { WorldId = "b" });
        var firstTwo = await _client.ListPendingAsync(new ListPendingRequest { Limit = 2 });

        Assert.Equal(["c-first", "b-early", "a-mid", "b-mid", "b-late", "a-last"], all.Spawns.Select(s => s.TreasureId));
        Assert.Equal(6u, all.Total);
        Assert.Equal([T0 + 1_000, T0 + 2_000, T0 + 5_000, T0 + 5_000, T0 + 9_000, T0 + 12_000], all.Spawns.Select(s => s.AtMs));
        Assert.Equal(["b-early", "b-mid", "b-late"], worldB.Spawns.Select(s => s.TreasureId));
        Assert.All(worldB.Spawns, s => Assert.Equal("b", s.WorldId));
        Assert.Equal(3u, worldB.Total);
        Assert.Equal(["c-first", "b-early"], firstTwo.Spawns.Select(s => s.TreasureId));
        Assert.Equal(6u, firstTwo.Total);
        var pending = all.Spawns[0];
        Assert.Equal(("c", 10, 20, 30L), (pending.WorldId, pending.X, pending.Y, pending.Value));
    }

    [Fact]
    public async Task ListPending_LimitZero_ReturnsOneHundred()
    {
        for (var i = 0; i < 120; i++)
        {
            await _client.ScheduleOnceAsync(Request(atMs: T0 + 1_000 + i));
        }

        var page = await _client.ListPendingAsync(new ListPendingRequest { Limit = 0 });

        Assert.Equal(100, page.Spawns.Count);
        Assert.Equal(120u, page.Total);
        Assert.Equal(T0 + 1_000, page.Spawns[0].AtMs);
        Assert.Equal(T0 + 1_099, page.Spawns[99].AtMs);
    }

    [Theory]
    [InlineData("", 1001u, "limit must be in [1, 1000] (0 means 100), got 1001")]
    [InlineData("no spaces", 10u, "world_id must be empty or 1..64 characters of [A-Za-z0-9_-]")]
    public async Task ListPending_InvalidRequest_InvalidArgument(string world, uint limit, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _client.ListPendingAsync(new ListPendingRequest { WorldId = world, Limit = limit }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
    }

    [Fact]
    public async Task Metrics_AfterScheduling_ServedOnMetricsEndpoint()
    {
        await _client.ScheduleOnceAsync(Request());
        using var http = _factory.CreateClient();

        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("veltrix_spawntimer_scheduled_total", text, StringComparison.Ordinal);
        Assert.Contains("veltrix_spawntimer_pending", text, StringComparison.Ordinal);
        Assert.Contains("veltrix_spawntimer_fired_total", text, StringComparison.Ordinal);
        Assert.Contains("veltrix_spawntimer_send_failures_total", text, StringComparison.Ordinal);
    }
}
