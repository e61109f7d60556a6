using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

public sealed class ResolverServiceTests(ResolverFixture resolver) : IClassFixture<ResolverFixture>
{
    private static string NewWorld() => "w-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Apply_ScriptedGame_ResultsInOrderAndStateReadable()
    {
        var world = NewWorld();
        var batch = Batch(world,
            Join(world, "alice", 1).Stamp(),
            Teleport(world, "alice", 2, 500, 500).Stamp(),
            Move(world, "alice", 3, 550, 500, T0 + 1000).Stamp(T0 + 1000),
            Move(world, "alice", 4, 900, 500, T0 + 1100).Stamp(T0 + 1100),
            Dig(world, "alice", 5, T0 + 1200).Stamp(T0 + 1200));
        batch.Spawns.Add(Spawn(world, "gold", 551, 501, 70));

        var reply = await resolver.Writer.ApplyAsync(batch);

        Assert.Equal(1u, reply.SpawnsApplied);
        Assert.Equal(
            [Outcome.Accepted, Outcome.Accepted, Outcome.Accepted, Outcome.Rejected, Outcome.Accepted],
            reply.Results.Select(r => r.Outcome));
        Assert.Equal("move is farther than max_speed allows for the elapsed client time", reply.Results[3].Reason);

        var alice = await resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "alice" });
        Assert.Equal((550, 500, 70L, 5UL, true), (alice.X, alice.Y, alice.Score, alice.LastSeq, alice.Online));
        Assert.Equal(T0 + 30_000, alice.TeleportReadyAtMs);

        var state = await resolver.Reads.GetWorldAsync(new GetWorldRequest { WorldId = world });
        Assert.Equal(["alice"], state.PlayersOnline.Select(p => p.PlayerId));
        Assert.Empty(state.OpenTreasures);
        Assert.Equal(1u, state.TreasuresClaimed);
    }

    [Fact]
    public async Task Apply_SameEventsTwice_SecondTimeAllDuplicate()
    {
        var world = NewWorld();
        var batch = Batch(world, Join(world, "bob", 1).Stamp(), Teleport(world, "bob", 2, 10, 10).Stamp());

        await resolver.Writer.ApplyAsync(batch);
        var again = await resolver.Writer.ApplyAsync(batch);

        Assert.All(again.Results, r => Assert.Equal(Outcome.Duplicate, r.Outcome));
        var bob = await resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "bob" });
        Assert.Equal((10, 10, 2UL), (bob.X, bob.Y, bob.LastSeq));
    }

    [Fact]
    public async Task Apply_MalformedEventAmongValid_OnlyItIsMalformed()
    {
        var world = NewWorld();
        var bad = new Event { WorldId = world, PlayerId = "", Seq = 1, ClientTimeMs = T0, Join = new Join() };

        var reply = await resolver.Writer.ApplyAsync(Batch(world, Join(world, "a", 1).Stamp(), bad.Stamp(), Join(world, "b", 1).Stamp()));

        Assert.Equal([Outcome.Accepted, Outcome.Malformed, Outcome.Accepted], reply.Results.Select(r => r.Outcome));
    }

    [Fact]
    public async Task Apply_SpawnFiredTwice_AppliedOnce()
    {
        var world = NewWorld();
        var batch = new ApplyBatch { Partition = ResolverFixture.PartitionOf(world) };
        batch.Spawns.Add(Spawn(world, "t1", 5, 5, 10));

        Assert.Equal(1u, (await resolver.Writer.ApplyAsync(batch)).SpawnsApplied);
        Assert.Equal(0u, (await resolver.Writer.ApplyAsync(batch)).SpawnsApplied);
        var state = await resolver.Reads.GetWorldAsync(new GetWorldRequest { WorldId = world });
        Assert.Single(state.OpenTreasures);
    }

    [Fact]
    public async Task ApplyStream_BatchesInOrder_OneReplyEachInOrderAndApplied()
    {
        var world = NewWorld();
        using var call = resolver.Writer.ApplyStream(deadline: DateTime.UtcNow.AddSeconds(20));

        await call.RequestStream.WriteAsync(Batch(world, Join(world, "ann", 1).Stamp()));
        Assert.True(await call.ResponseStream.MoveNext());
        var first = call.ResponseStream.Current;
        await call.RequestStream.WriteAsync(Batch(world, Teleport(world, "ann", 2, 20, 30).Stamp(), Join(world, "ann", 1).Stamp()));
        Assert.True(await call.ResponseStream.MoveNext());
        var second = call.ResponseStream.Current;
        await call.RequestStream.CompleteAsync();

        Assert.Equal([Outcome.Accepted], first.Results.Select(r => r.Outcome));
        Assert.Equal([Outcome.Accepted, Outcome.Duplicate], second.Results.Select(r => r.Outcome));
        Assert.False(await call.ResponseStream.MoveNext());
        var ann = await resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "ann" });
        Assert.Equal((20, 30, 2UL), (ann.X, ann.Y, ann.LastSeq));
    }

    [Fact]
    public async Task ApplyStream_BatchRefused_StreamEndsWithItsErrorAndLaterBatchesNeverApplied()
    {
        var world = NewWorld();
        var misrouted = Batch(world, Join(world, "x", 1).Stamp());
        misrouted.Partition = (misrouted.Partition + 1) % ResolverFixture.Partitions;
        using var call = resolver.Writer.ApplyStream(deadline: DateTime.UtcNow.AddSeconds(20));

        await call.RequestStream.WriteAsync(misrouted);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        try
        {
            await call.RequestStream.WriteAsync(Batch(world, Join(world, "late", 1).Stamp()));
        }
        catch (RpcException)
        {
            // The stream is over; writing to it may fail too.
        }

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        var late = await Assert.ThrowsAsync<RpcException>(() =>
            resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "late" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, late.StatusCode);
    }

    [Fact]
    public async Task Apply_WorldOfAnotherPartition_FailedPrecondition()
    {
        var world = NewWorld();
        var batch = Batch(world, Join(world, "a", 1).Stamp());
        batch.Partition = (batch.Partition + 1) % ResolverFixture.Partitions;

        var error = await Assert.ThrowsAsync<RpcException>(() => resolver.Writer.ApplyAsync(batch).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Apply_StampMissing_InvalidArgumentAndNothingApplied()
    {
        var world = NewWorld();
        var batch = Batch(world, Join(world, "a", 1).Stamp(), Join(world, "b", 1).Stamp());
        batch.StampsMs.RemoveAt(1);

        var error = await Assert.ThrowsAsync<RpcException>(() => resolver.Writer.ApplyAsync(batch).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var read = await Assert.ThrowsAsync<RpcException>(() =>
            resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "a" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, read.StatusCode);
    }

    [Fact]
    public async Task Apply_PartitionNotOwned_FailedPrecondition()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            resolver.Writer.ApplyAsync(new ApplyBatch { Partition = ResolverFixture.Partitions }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task GetPlayer_UnknownWorldOrPlayer_NotFound()
    {
        var world = NewWorld();
        await resolver.Writer.ApplyAsync(Batch(world, Join(world, "a", 1).Stamp()));

        var noWorld = await Assert.ThrowsAsync<RpcException>(() =>
            resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = NewWorld(), PlayerId = "a" }).ResponseAsync);
        var noPlayer = await Assert.ThrowsAsync<RpcException>(() =>
            resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "zed" }).ResponseAsync);
        var noWorldState = await Assert.ThrowsAsync<RpcException>(() =>
            resolver.Reads.GetWorldAsync(new GetWorldRequest { WorldId = NewWorld() }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, noWorld.StatusCode);
        Assert.Equal(StatusCode.NotFound, noPlayer.StatusCode);
        Assert.Equal(StatusCode.NotFound, noWorldState.StatusCode);
    }

    [Theory]
    [InlineData("", "a")]
    [InlineData("w 1", "a")]
    [InlineData("w1", "a/b")]
    public async Task GetPlayer_InvalidIds_InvalidArgument(string world, string player)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = player }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task ScoreFeed_Subscribe_SnapshotThenLiveChanges()
    {
        var world = NewWorld();
        var batch = Batch(world, Join(world, "alice", 1).Stamp(), Teleport(world, "alice", 2, 100, 100).Stamp());
        batch.Spawns.Add(Spawn(world, "t1", 100, 100, 25));
        await resolver.Writer.ApplyAsync(batch);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var feed = resolver.Feed.Subscribe(new ScoreFeedRequest(), cancellationToken: cts.Token);
        var snapshot = new List<Contracts.Internal.ScoreChange>();
        while (await feed.ResponseStream.MoveNext(cts.Token))
        {
            var message = feed.ResponseStream.Current;
            if (message.SnapshotDone)
            {
                break;
            }
            Assert.True(message.Snapshot);
            snapshot.AddRange(message.Changes);
        }
        Assert.Contains(snapshot, c => c.WorldId == world && c.PlayerId == "alice" && c.Score == 0);

        await resolver.Writer.ApplyAsync(Batch(world, Dig(world, "alice", 3, T0 + 10).Stamp(T0 + 10)));

        Contracts.Internal.ScoreChange? live = null;
        while (live is null && await feed.ResponseStream.MoveNext(cts.Token))
        {
            Assert.False(feed.ResponseStream.Current.Snapshot);
            live = feed.ResponseStream.Current.Changes.FirstOrDefault(c => c.WorldId == world);
        }
        Assert.NotNull(live);
        Assert.Equal(("alice", 25L, T0 + 10), (live.PlayerId, live.Score, live.ReachedAtMs));
    }
}
