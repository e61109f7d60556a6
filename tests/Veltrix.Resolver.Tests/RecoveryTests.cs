using Veltrix.Contracts.V1;
using Veltrix.Storage;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>What a resolver acknowledged is there after it restarts on the same data.</summary>
public sealed class RecoveryTests : IDisposable
{
    private static readonly string[] Worlds = ["w-a", "w-b", "w-c"];

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

    [Fact]
    public async Task Snapshots_CapturedOnTheLoop_EachIsTheReplayOfTheLogUpToItsPosition()
    {
        // The loop captures its own state between turns: that must be exactly what replaying the log gives.
        using (var resolver = new ResolverFixture(_dataDir, snapshotEveryEvents: 5))
        {
            await PlayAsync(resolver, "w-a", 3);
            await PlayAsync(resolver, "w-b", 4);
            // The same inputs again: duplicates this time, and they move seq watermarks nowhere.
            await resolver.Writer.ApplyAsync(Batch("w-a", Join("w-a", "p1", 1).Stamp(), Dig("w-a", "p2", 9, T0 + 9).Stamp(T0 + 9)));
            await PlayAsync(resolver, "w-c", 2);
        }

        var checkedSnapshots = 0;
        await using var store = new EmbeddedPartitionStore(new EmbeddedStoreOptions { DataFolder = _dataDir });
        foreach (var partition in Worlds.Select(w => (int)ResolverFixture.PartitionOf(w)).Distinct())
        {
            var log = await store.OpenAsync(partition, epoch: 1_000_000, CancellationToken.None);
            Assert.Equal(1, log.FirstPosition);
            foreach (var position in await log.ListSnapshotsAsync(CancellationToken.None))
            {
                var snapshot = await log.ReadSnapshotAsync(position, CancellationToken.None);
                var replayed = new PartitionState(partition, new ResolverOptions()) { Replaying = true };
                await foreach (var entry in log.ReadAsync(1, CancellationToken.None))
                {
                    if (entry.Position >= position)
                    {
                        break;
                    }
                    PartitionReplay.Apply(replayed, entry.Data.Span);
                }
                Assert.Equal(PartitionImages.Capture(replayed, position), snapshot!.State.ToArray());
                checkedSnapshots++;
            }
        }
        Assert.True(checkedSnapshots >= 2, $"expected snapshots along the way, found {checkedSnapshots}");
    }
}
