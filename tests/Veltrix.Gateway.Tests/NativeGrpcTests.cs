using Grpc.Core;
using Microsoft.Extensions.Logging;
using Veltrix.Contracts.V1;

namespace Veltrix.Gateway.Tests;

/// <summary>Native gRPC (h2c) clients on the gateway's gRPC port.</summary>
public sealed class NativeGrpcTests
{
    [Fact]
    public async Task Top_ThroughGateway_AnsweredByLeaderboard()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Leaderboard.LeaderboardClient(mesh.NativeChannel());

        var page = await client.TopAsync(new TopRequest { Board = "global", Limit = 5 }, deadline: TestMesh.Deadline);

        Assert.Equal("global", page.Board);
        Assert.Equal([1ul, 2, 3, 4, 5], page.Entries.Select(e => e.Rank));
        Assert.Equal((ulong)FakeLeaderboard.Players, page.Total);
        Assert.Equal(1, mesh.Leaderboard.TopCalls);
    }

    [Fact]
    public async Task EachPublicService_ThroughGateway_ReachesItsBackend()
    {
        await using var mesh = await TestMesh.StartAsync();
        var channel = mesh.NativeChannel();

        var submit = await new Ingest.IngestClient(channel).SubmitAsync(Move("p1", 1), deadline: TestMesh.Deadline);
        var world = await new Resolver.ResolverClient(channel).GetWorldAsync(
            new GetWorldRequest { WorldId = "world-7" }, deadline: TestMesh.Deadline);
        var report = await new Admin.AdminClient(channel).RollbackAsync(
            new RollbackRequest { WorldId = "world-7", DryRun = true }, deadline: TestMesh.Deadline);
        var pending = await new SpawnTimer.SpawnTimerClient(channel).ListPendingAsync(
            new ListPendingRequest(), deadline: TestMesh.Deadline);

        Assert.Equal(Outcome.Accepted, submit.Outcome);
        Assert.Equal(1, mesh.Ingest.Submits);
        Assert.Equal("world-7", world.WorldId);
        Assert.Equal(2, world.PlayersOnline.Count);
        Assert.Equal("world-7", report.WorldId);
        Assert.Contains(mesh.ResolverBackend.Arrivals, a => a.StartsWith("/veltrix.v1.Admin/Rollback ", StringComparison.Ordinal));
        Assert.Equal(7u, pending.Total);
    }

    [Fact]
    public async Task Publish_SeveralBatchesOnOneStream_EachAckedBeforeTheNextIsSent()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Ingest.IngestClient(mesh.NativeChannel());
        using var call = client.Publish(deadline: TestMesh.Deadline);

        // Waiting for each ack before writing the next batch proves nothing is buffered along the way.
        for (var batchId = 1ul; batchId <= 5; batchId++)
        {
            await call.RequestStream.WriteAsync(Batch(batchId, events: (int)batchId));
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            var ack = call.ResponseStream.Current;
            Assert.Equal(batchId, ack.BatchId);
            Assert.Equal((int)batchId, ack.Results.Count);
            Assert.All(ack.Results, r => Assert.Equal(Outcome.Accepted, r.Outcome));
        }
        await call.RequestStream.CompleteAsync();

        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(1, mesh.Ingest.PublishStreams);
        Assert.Equal(15, mesh.Ingest.Events);
    }

    [Fact]
    public async Task Publish_StreamFarLargerThanOneMessageLimit_NotCutByGateway()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Ingest.IngestClient(mesh.NativeChannel());
        using var call = client.Publish(deadline: TestMesh.Deadline);
        const int batches = 12;
        const int eventsPerBatch = 6_000;
        var batch = Batch(1, eventsPerBatch);
        Assert.True(batch.CalculateSize() > 800_000);

        // About 10 MB on one stream: more than twice the per-request body limit Kestrel keeps for everything else.
        var reader = Task.Run(async () =>
        {
            var acks = 0;
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                acks++;
            }
            return acks;
        });
        for (var i = 1ul; i <= batches; i++)
        {
            batch.BatchId = i;
            await call.RequestStream.WriteAsync(batch);
        }
        await call.RequestStream.CompleteAsync();

        Assert.Equal(batches, await reader);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(batches * eventsPerBatch, mesh.Ingest.Events);
    }

    [Fact]
    public async Task Unary_MessageOverGatewayLimit_ForwardedForTheBackendToJudge()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Leaderboard.LeaderboardClient(mesh.NativeChannel());
        var board = new string('b', 5 * 1024 * 1024);

        var page = await client.TopAsync(new TopRequest { Board = board, Limit = 1 }, deadline: TestMesh.Deadline);

        Assert.Equal(board.Length, page.Board.Length);
        Assert.Equal(1, mesh.Leaderboard.TopCalls);
    }

    [Fact]
    public async Task Watch_ServerStreamThroughGateway_DeliversEveryFrameInOrder()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Leaderboard.LeaderboardClient(mesh.NativeChannel());
        using var call = client.Watch(new WatchRequest { Board = "world:world-0", TopN = 10 }, deadline: TestMesh.Deadline);

        var versions = new List<ulong>();
        await foreach (var frame in call.ResponseStream.ReadAllAsync())
        {
            Assert.Equal("world:world-0", frame.Board);
            versions.Add(frame.Version);
        }

        Assert.Equal([1ul, 2, 3], versions);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Unary_BackendDown_Unavailable()
    {
        await using var mesh = await TestMesh.StartAsync(spawnTimerUp: false);
        var client = new SpawnTimer.SpawnTimerClient(mesh.NativeChannel());

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.ListPendingAsync(new ListPendingRequest(), deadline: TestMesh.Deadline).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task ProxiedCalls_DefaultLogLevels_LogNothingPerCallAboveDebug()
    {
        var logs = new LogCapture();
        await using var mesh = await TestMesh.StartAsync(logs: logs);
        var started = logs.Entries.Count;
        var client = new Leaderboard.LeaderboardClient(mesh.NativeChannel());

        await client.TopAsync(new TopRequest { Board = "global" }, deadline: TestMesh.Deadline);
        await new Leaderboard.LeaderboardClient(mesh.WebChannel()).TopAsync(new TopRequest(), deadline: TestMesh.Deadline);

        Assert.Equal(2, mesh.Leaderboard.TopCalls);
        var perCall = logs.Entries.Skip(started).Where(e => e.Level > LogLevel.Debug).ToList();
        Assert.True(perCall.Count == 0, string.Join("\n", perCall));
        Assert.Contains(logs.Entries, e => e.Category == "Veltrix.Gateway" && e.Message.StartsWith("Routing", StringComparison.Ordinal));
    }

    internal static Event Move(string player, ulong seq) => new()
    {
        PlayerId = player,
        WorldId = "world-0",
        Seq = seq,
        ClientTimeMs = 1_700_000_000_000,
        Move = new Move { X = 100, Y = 200 },
    };

    private static EventBatch Batch(ulong batchId, int events)
    {
        var batch = new EventBatch { BatchId = batchId };
        var player = new string('p', 64);
        for (var seq = 1; seq <= events; seq++)
        {
            var e = Move(player, (ulong)seq);
            e.WorldId = new string('w', 64);
            batch.Events.Add(e);
        }
        return batch;
    }
}
