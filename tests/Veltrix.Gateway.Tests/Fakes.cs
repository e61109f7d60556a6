using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;

namespace Veltrix.Gateway.Tests;

internal sealed class FakeLeaderboard : Leaderboard.LeaderboardBase
{
    public const int Players = 42;
    public const int WatchFrames = 3;

    private int _topCalls;

    public int TopCalls => Volatile.Read(ref _topCalls);

    public override Task<BoardPage> Top(TopRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _topCalls);
        var page = new BoardPage { Board = request.Board, Total = Players };
        var limit = request.Limit == 0 ? 10u : request.Limit;
        for (var rank = 1u; rank <= limit && rank <= Players; rank++)
        {
            page.Entries.Add(Entry(rank));
        }
        return Task.FromResult(page);
    }

    public override async Task Watch(WatchRequest request, IServerStreamWriter<BoardFrame> responseStream, ServerCallContext context)
    {
        for (var version = 1ul; version <= WatchFrames; version++)
        {
            var frame = new BoardFrame { Board = request.Board, Version = version };
            frame.Entries.Add(Entry((uint)version));
            await responseStream.WriteAsync(frame, context.CancellationToken);
        }
    }

    private static BoardEntry Entry(uint rank) =>
        new() { Rank = rank, PlayerId = "player-" + rank, Score = 10_000 - rank };
}

internal sealed class FakeIngest : Ingest.IngestBase
{
    private int _publishStreams;
    private long _events;
    private int _submits;

    public int PublishStreams => Volatile.Read(ref _publishStreams);

    public long Events => Interlocked.Read(ref _events);

    public int Submits => Volatile.Read(ref _submits);

    public override async Task Publish(IAsyncStreamReader<EventBatch> requestStream, IServerStreamWriter<PublishAck> responseStream,
        ServerCallContext context)
    {
        Interlocked.Increment(ref _publishStreams);
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
        {
            Interlocked.Add(ref _events, batch.Events.Count);
            var ack = new PublishAck { BatchId = batch.BatchId };
            foreach (var _ in batch.Events)
            {
                ack.Results.Add(new EventResult { Outcome = Outcome.Accepted });
            }
            await responseStream.WriteAsync(ack, context.CancellationToken);
        }
    }

    public override Task<SubmitAck> Submit(Event request, ServerCallContext context)
    {
        Interlocked.Increment(ref _submits);
        return Task.FromResult(new SubmitAck { Outcome = Outcome.Accepted });
    }
}

internal sealed class FakeResolver : Resolver.ResolverBase
{
    public override Task<WorldState> GetWorld(GetWorldRequest request, ServerCallContext context)
    {
        var world = new WorldState { WorldId = request.WorldId, PlayersTotal = 3, TreasuresClaimed = 1 };
        world.PlayersOnline.Add(new PlayerState { PlayerId = "p1", WorldId = request.WorldId, X = 10, Y = 20, Online = true });
        world.PlayersOnline.Add(new PlayerState { PlayerId = "p2", WorldId = request.WorldId, X = 99_999, Y = 0, Online = true });
        world.OpenTreasures.Add(new Treasure { Id = "t1", X = 50_000, Y = 50_000, Value = 5 });
        return Task.FromResult(world);
    }
}

internal sealed class FakeAdmin : Admin.AdminBase
{
    public override Task<RollbackReport> Rollback(RollbackRequest request, ServerCallContext context) =>
        Task.FromResult(new RollbackReport { WorldId = request.WorldId, DryRun = request.DryRun });
}

internal sealed class FakeSpawnTimer : SpawnTimer.SpawnTimerBase
{
    public override Task<ListPendingReply> ListPending(ListPendingRequest request, ServerCallContext context) =>
        Task.FromResult(new ListPendingReply { Total = 7 });
}

/// <summary>The resolver's internal services: reachable inside the mesh, never through the gateway.</summary>
internal sealed class FakeScoreFeed : ScoreFeed.ScoreFeedBase
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public override Task Subscribe(ScoreFeedRequest request, IServerStreamWriter<ScoreChanges> responseStream, ServerCallContext context)
    {
        Interlocked.Increment(ref _calls);
        return responseStream.WriteAsync(new ScoreChanges { SnapshotDone = true }, context.CancellationToken);
    }
}

internal sealed class FakePartitionWriter : PartitionWriter.PartitionWriterBase
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public override Task<ApplyReply> Apply(ApplyBatch request, ServerCallContext context)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(new ApplyReply());
    }
}
