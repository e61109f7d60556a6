using Veltrix.Contracts.V1;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>What a resolver acknowledged is there after it restarts on the same data.</summary>
public sealed class RecoveryTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("veltrix-recovery-").FullName;

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);

    private static async Task PlayAsync(ResolverFixture resolver, string world, int players)
    {
        var batch = new Contracts.Internal.ApplyBatch { Partition = ResolverFixture.PartitionOf(world) };
        batch.Spawns.Add(Spawn(world, "gold", 300, 300, 40));
        for (var i = 0; i < players; i++)
        {
            var id = $"p{i}";
            batch.Add(Join(world, id, 1).Stamp());
            batch.Add(Teleport(world, id, 2, 300 + i, 300).Stamp());
        }
        batch.Add(Dig(world, "p0", 3, T0 + 5).Stamp(T0 + 5));
        var reply = await resolver.Writer.ApplyAsync(batch);
        Assert.All(reply.Results, r => Assert.Equal(Outcome.Accepted, r.Outcome));
    }

    private static async Task<(PlayerState P0, WorldState World)> ReadAsync(ResolverFixture resolver, string world) =>
        (await resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "p0" }),
         await resolver.Reads.GetWorldAsync(new GetWorldRequest { WorldId = world }));

    [Theory]
    [InlineData(1_000_000)]   // nothing but the log
    [InlineData(5)]           // snapshots taken along the way, then the log's tail
    public async Task Restart_SameData_AcknowledgedStateAndSeqWatermarksBack(long snapshotEvery)
    {
        (PlayerState, WorldState) before;
        using (var first = new ResolverFixture(_dataDir, snapshotEvery))
        {
            await PlayAsync(first, "w-a", 3);
            await PlayAsync(first, "w-b", 2);
            before = await ReadAsync(first, "w-a");
        }

        using var second = new ResolverFixture(_dataDir, snapshotEvery);
        var after = await ReadAsync(second, "w-a");

        Assert.Equal(before, after);
        Assert.Equal(40, after.P0.Score);
        Assert.Equal(1u, after.World.TreasuresClaimed);
        // The seq watermark survived: a retried event is a duplicate, not applied twice.
        var retry = await second.Writer.ApplyAsync(Batch("w-a", Dig("w-a", "p0", 3, T0 + 5).Stamp(T0 + 5)));
        Assert.Equal(Outcome.Duplicate, retry.Results[0].Outcome);
        Assert.Equal(2u, (await second.Reads.GetWorldAsync(new GetWorldRequest { WorldId = "w-b" })).PlayersTotal);
    }
}
