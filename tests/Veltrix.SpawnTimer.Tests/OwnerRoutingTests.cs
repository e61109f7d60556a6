using System.Globalization;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using SpawnTimerClient = Veltrix.Contracts.V1.SpawnTimer.SpawnTimerClient;

namespace Veltrix.SpawnTimer.Tests;

/// <summary>The spawn timer with two resolver instances: a spawn goes to the instance that owns its world's partition.</summary>
public sealed class OwnerRoutingTests : IAsyncLifetime
{
    private const int Partitions = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private StandInPartitionWriter _first = null!;
    private StandInPartitionWriter _second = null!;
    private WebApplicationFactory<Program> _factory = null!;
    private GrpcChannel _channel = null!;
    private SpawnTimerClient _client = null!;

    public async Task InitializeAsync()
    {
        _first = await StandInPartitionWriter.StartAsync();
        _second = await StandInPartitionWriter.StartAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection([
                new("Veltrix:Mesh:Resolvers:0", _first.Address),
                new("Veltrix:Mesh:Resolvers:1", _second.Address),
                new("Veltrix:Mesh:Partitions", Partitions.ToString(CultureInfo.InvariantCulture)),
                new("Veltrix:Mesh:CallTimeoutMs", "3000"),
            ])));
        _channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        _client = new SpawnTimerClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _factory.DisposeAsync();
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    private static string WorldOn(int ordinal)
    {
        for (var i = 0; ; i++)
        {
            var world = "arena-" + i.ToString(CultureInfo.InvariantCulture);
            if (Partitioning.PartitionOf(world, Partitions) % 2 == ordinal)
            {
                return world;
            }
        }
    }

    [Fact]
    public async Task ScheduleOnce_WorldsOfBothInstances_EachSpawnReachesItsOwnersWriterOnly()
    {
        var even = WorldOn(0);
        var odd = WorldOn(1);

        await _client.ScheduleOnceAsync(new ScheduleOnceRequest { WorldId = odd, TreasureId = "odd-1", X = 1, Y = 1, Value = 5 });
        var atSecond = await _second.NextCallAsync(Timeout);
        await _client.ScheduleOnceAsync(new ScheduleOnceRequest { WorldId = even, TreasureId = "even-1", X = 2, Y = 2, Value = 6 });
        var atFirst = await _first.NextCallAsync(Timeout);

        Assert.Equal((odd, "odd-1"), (Assert.Single(atSecond.Batch.Spawns).WorldId, atSecond.Batch.Spawns[0].TreasureId));
        Assert.Equal(1u, atSecond.Batch.Partition % 2);
        Assert.Equal((even, "even-1"), (Assert.Single(atFirst.Batch.Spawns).WorldId, atFirst.Batch.Spawns[0].TreasureId));
        Assert.Equal(0u, atFirst.Batch.Partition % 2);
        // Neither got the other's spawn.
        await Assert.ThrowsAsync<TimeoutException>(() => _first.NextCallAsync(TimeSpan.FromMilliseconds(200)));
        await Assert.ThrowsAsync<TimeoutException>(() => _second.NextCallAsync(TimeSpan.FromMilliseconds(200)));
    }
}
