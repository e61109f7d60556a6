using System.Globalization;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using SpawnTimerClient = Veltrix.Contracts.V1.SpawnTimer.SpawnTimerClient;

namespace Veltrix.SpawnTimer.Tests;

/// <summary>
/// The spawn timer on the real clock, sending over real gRPC to a PartitionWriter on loopback in the resolver's
/// place. Waits are on the stand-in's signal, bounded by a timeout.
/// </summary>
public sealed class SpawnTimerEndToEndTests : IAsyncLifetime
{
    private const int Partitions = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private StandInPartitionWriter _resolver = null!;
    private WebApplicationFactory<Program> _factory = null!;
    private GrpcChannel _channel = null!;
    private SpawnTimerClient _client = null!;

    public async Task InitializeAsync()
    {
        _resolver = await StandInPartitionWriter.StartAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection([
                new("Veltrix:Mesh:Resolver", _resolver.Address),
                new("Veltrix:Mesh:Partitions", Partitions.ToString(CultureInfo.InvariantCulture)),
                new("Veltrix:Mesh:CallTimeoutMs", "3000"),
                new("Veltrix:SpawnTimer:RetryMinMs", "20"),
                new("Veltrix:SpawnTimer:RetryMaxMs", "100"),
            ])));
        _channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        _client = new SpawnTimerClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _factory.DisposeAsync();
        await _resolver.DisposeAsync();
    }

    [Fact]
    public async Task ScheduleOnce_DueNow_SpawnReachesItsPartitionWriter()
    {
        var reply = await _client.ScheduleOnceAsync(new ScheduleOnceRequest
        {
            WorldId = "arena-7", TreasureId = "gold-1", X = 1_234, Y = 5_678, Value = 250, AtMs = 0,
        });

        var call = await _resolver.NextCallAsync(Timeout);

        Assert.False(call.Refused);
        Assert.Equal((uint)Partitioning.PartitionOf("arena-7", Partitions), call.Batch.Partition);
        var spawn = Assert.Single(call.Batch.Spawns);
        Assert.Equal(("arena-7", "gold-1", 1_234, 5_678, 250L), (spawn.WorldId, spawn.TreasureId, spawn.X, spawn.Y, spawn.Value));
        Assert.True(spawn.StampMs >= reply.AtMs, $"stamped {spawn.StampMs}, due {reply.AtMs}");
    }

    [Fact]
    public async Task ScheduleOnce_DueSoon_NotDeliveredBeforeItsDueTime()
    {
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 300;

        var reply = await _client.ScheduleOnceAsync(new ScheduleOnceRequest { WorldId = "arena-7", X = 1, Y = 2, Value = 3, AtMs = at });
        var call = await _resolver.NextCallAsync(Timeout);

        var spawn = Assert.Single(call.Batch.Spawns);
        Assert.Equal(reply.TreasureId, spawn.TreasureId);
        Assert.True(spawn.StampMs >= at, $"stamped {spawn.StampMs}, due {at}");
        Assert.True(call.ReceivedAtMs >= at, $"received {call.ReceivedAtMs}, due {at}");
    }

    [Fact]
    public async Task ScheduleOnce_ResolverUnavailableFirst_SpawnDeliveredOnRetry()
    {
        _resolver.RefuseNext(1);

        await _client.ScheduleOnceAsync(new ScheduleOnceRequest { WorldId = "arena-9", TreasureId = "gold-2", X = 10, Y = 20, Value = 30 });
        var refused = await _resolver.NextCallAsync(Timeout);
        var retried = await _resolver.NextCallAsync(Timeout);

        Assert.True(refused.Refused);
        Assert.False(retried.Refused);
        Assert.Equal("gold-2", Assert.Single(refused.Batch.Spawns).TreasureId);
        var spawn = Assert.Single(retried.Batch.Spawns);
        Assert.Equal(("arena-9", "gold-2", 10, 20, 30L), (spawn.WorldId, spawn.TreasureId, spawn.X, spawn.Y, spawn.Value));
        Assert.Equal((uint)Partitioning.PartitionOf("arena-9", Partitions), retried.Batch.Partition);
        // The backoff is 20 ms; timers may wake a few ms early on a loaded machine.
        Assert.True(retried.ReceivedAtMs >= refused.ReceivedAtMs + 15, "the retry waited out the backoff");
    }
}
