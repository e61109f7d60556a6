using System.Diagnostics;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Testing;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>Redis killed under a running resolver: nothing is acknowledged while it is away, and the
/// resolver serves again on its own once it is back (DESIGN.md section 8, item 2).</summary>
public sealed class StoreOutageTests : IAsyncLifetime
{
    private const int Partitions = 2;
    private readonly RedisServerFixture _redis = new();
    private readonly string _dataDir = Directory.CreateTempSubdirectory("veltrix-outage-").FullName;

    public Task InitializeAsync() => _redis.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task RedisKilledAndRestarted_NoAckDuringOutage_ServesAgainWithin10s()
    {
        const string world = "outage";
        using var resolver = await ResolverProcess.StartAsync(_dataDir, Partitions, TimeSpan.FromSeconds(30), [
            new("Veltrix:Storage:Kind", "redis"),
            new("Veltrix:Storage:Redis", _redis.ConnectionString),
            new("Veltrix:Storage:Epoch", "1"),
        ]);
        var writer = new PartitionWriter.PartitionWriterClient(resolver.Channel);
        var partition = (uint)Domain.Partitioning.PartitionOf(world, Partitions);
        ApplyBatch Joins(params string[] players)
        {
            var batch = new ApplyBatch { Partition = partition };
            foreach (var p in players)
            {
                batch.Add(Join(world, p, 1).Stamp());
            }
            return batch;
        }

        var before = await writer.ApplyAsync(Joins("a"), deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.Equal(Outcome.Accepted, before.Results[0].Outcome);

        _redis.Kill();
        var during = await Assert.ThrowsAsync<RpcException>(() =>
            writer.ApplyAsync(Joins("b"), deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync);
        Assert.Contains(during.StatusCode, new[] { StatusCode.Unavailable, StatusCode.DeadlineExceeded });

        await _redis.RestartAsync();
        var back = Stopwatch.StartNew();
        ApplyReply? after = null;
        while (after is null && back.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                after = await writer.ApplyAsync(Joins("c"), deadline: DateTime.UtcNow.AddSeconds(2));
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                await Task.Delay(100);
            }
        }

        Assert.NotNull(after);
        Assert.Equal(Outcome.Accepted, after.Results[0].Outcome);
        var reads = new Contracts.V1.Resolver.ResolverClient(resolver.Channel);
        var a = await reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "a" });
        Assert.True(a.Online);
    }
}
