using System.Diagnostics.CodeAnalysis;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using static Veltrix.Leaderboard.Tests.Scores;

namespace Veltrix.Leaderboard.Tests;

/// <summary>The Leaderboard contract over real gRPC, with the boards fed by a stand-in resolver's score feed.</summary>
[SuppressMessage("Design", "CA1001", Justification = "xUnit disposes them through IAsyncLifetime.DisposeAsync.")]
public sealed class LeaderboardServiceTests : IAsyncLifetime
{
    // Global sums: erin 40, alice 35 (30 in w1 + 5 in w2), bob 30, carol 10, dave 0.
    private static readonly ScoreChange[] Snapshot =
    [
        Change("w1", "alice", 30, 100),
        Change("w1", "bob", 30, 90),
        Change("w1", "carol", 10, 50),
        Change("w1", "dave", 0, 10),
        Change("w2", "alice", 5, 200),
        Change("w2", "erin", 40, 300),
    ];

    private StandInResolver _resolver = null!;
    private LeaderboardApp _app = null!;

    public async Task InitializeAsync()
    {
        _resolver = await StandInResolver.StartAsync(Snapshot);
        _app = new LeaderboardApp(_resolver.Address);
        await _app.WaitUntilAsync(store => store.CountOf("global") == 5 && store.CountOf("world:w2") == 2);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _resolver.DisposeAsync();
    }

    [Fact]
    public async Task Top_WorldBoard_RanksByScoreThenWhoReachedItFirst()
    {
        var page = await _app.Client.TopAsync(new TopRequest { Board = "world:w1" });

        Assert.Equal("world:w1", page.Board);
        Assert.Equal(["bob", "alice", "carol", "dave"], page.Entries.Select(e => e.PlayerId));
        Assert.Equal([30L, 30L, 10L, 0L], page.Entries.Select(e => e.Score));
        Assert.Equal([1UL, 2UL, 3UL, 4UL], page.Entries.Select(e => e.Rank));
        Assert.Equal(4UL, page.Total);
        Assert.Empty(page.NextPageToken);
    }

    [Fact]
    public async Task Top_Global_SumsEveryWorld()
    {
        var page = await _app.Client.TopAsync(new TopRequest { Board = "global" });

        Assert.Equal(["erin", "alice", "bob", "carol", "dave"], page.Entries.Select(e => e.PlayerId));
        Assert.Equal([40L, 35L, 30L, 10L, 0L], page.Entries.Select(e => e.Score));
    }

    [Fact]
    public async Task Top_PageByPage_ReturnsEveryPlayerOnceWithContinuousRanks()
    {
        var seen = new List<BoardEntry>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await _app.Client.TopAsync(new TopRequest { Board = "global", Limit = 2, PageToken = token });
            Assert.Equal(5UL, page.Total);
            seen.AddRange(page.Entries);
            token = page.NextPageToken;
            pages++;
        }
        while (token.Length > 0);

        Assert.Equal(3, pages);
        Assert.Equal(["erin", "alice", "bob", "carol", "dave"], seen.Select(e => e.PlayerId));
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], seen.Select(e => e.Rank));
    }

    [Fact]
    public async Task Top_LimitZero_ReturnsTenAndAToken()
    {
        var joins = new ScoreChange[12];
        for (var i = 0; i < joins.Length; i++)
        {
            joins[i] = Change("w3", $"j{i:D2}", 0, i);
        }
        await _resolver.Feed.PublishAsync(joins);
        await _app.WaitUntilAsync(store => store.CountOf("world:w3") == 12);

        var page = await _app.Client.TopAsync(new TopRequest { Board = "world:w3" });
        var rest = await _app.Client.TopAsync(new TopRequest { Board = "world:w3", PageToken = page.NextPageToken });

        Assert.Equal(10, page.Entries.Count);
        Assert.Equal(["j10", "j11"], rest.Entries.Select(e => e.PlayerId));
        Assert.Equal(11UL, rest.Entries[0].Rank);
        Assert.Empty(rest.NextPageToken);
    }

    [Theory]
    [InlineData("world:nobody")]
    [InlineData("global@season1")]
    [InlineData("world:w1@season1")]
    public async Task Top_BoardNobodyIsOn_EmptyPageWithTotalZero(string board)
    {
        var page = await _app.Client.TopAsync(new TopRequest { Board = board });

        Assert.Empty(page.Entries);
        Assert.Equal(0UL, page.Total);
        Assert.Empty(page.NextPageToken);
    }

    [Fact]
    public async Task Around_PlayerInTheMiddle_ReturnsNeighboursWithRanks()
    {
        var page = await _app.Client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "bob", Before = 1, After = 1 });

        Assert.Equal(["alice", "bob", "carol"], page.Entries.Select(e => e.PlayerId));
        Assert.Equal([2UL, 3UL, 4UL], page.Entries.Select(e => e.Rank));
        Assert.Equal(5UL, page.Total);
    }

    [Fact]
    public async Task Around_FirstAndLastPlayers_ClippedToTheBoard()
    {
        var top = await _app.Client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "erin", Before = 100, After = 1 });
        var bottom = await _app.Client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "dave", Before = 1, After = 100 });

        Assert.Equal(["erin", "alice"], top.Entries.Select(e => e.PlayerId));
        Assert.Equal(1UL, top.Entries[0].Rank);
        Assert.Equal(["carol", "dave"], bottom.Entries.Select(e => e.PlayerId));
        Assert.Equal(5UL, bottom.Entries[1].Rank);
    }

    [Theory]
    [InlineData("global", "zed")]
    [InlineData("world:w2", "bob")]
    [InlineData("world:nobody", "bob")]
    public async Task Around_PlayerNotOnBoard_NotFound(string board, string player)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _app.Client.AroundAsync(new AroundRequest { Board = board, PlayerId = player }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Global")]
    [InlineData("globals")]
    [InlineData("world:")]
    [InlineData("world")]
    [InlineData("world:a b")]
    [InlineData("world:a:b")]
    [InlineData("world:x@")]
    [InlineData("world:x@s 1")]
    [InlineData("world:x@s@t")]
    [InlineData("world:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public async Task AnyCall_MalformedBoardName_InvalidArgument(string board)
    {
        var client = _app.Client;

        await AssertInvalid(() => client.TopAsync(new TopRequest { Board = board }).ResponseAsync);
        await AssertInvalid(() => client.AroundAsync(new AroundRequest { Board = board, PlayerId = "bob" }).ResponseAsync);
        await AssertInvalid(() => FirstFrame(client.Watch(new WatchRequest { Board = board })));
    }

    [Fact]
    public async Task AnyCall_LimitsOutOfRange_InvalidArgument()
    {
        var client = _app.Client;

        await AssertInvalid(() => client.TopAsync(new TopRequest { Board = "global", Limit = 1001 }).ResponseAsync);
        await AssertInvalid(() => client.TopAsync(new TopRequest { Board = "global", PageToken = "not-a-token" }).ResponseAsync);
        await AssertInvalid(() => client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "bob", Before = 101 }).ResponseAsync);
        await AssertInvalid(() => client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "bob", After = 101 }).ResponseAsync);
        await AssertInvalid(() => client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "" }).ResponseAsync);
        await AssertInvalid(() => client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "b@b" }).ResponseAsync);
        await AssertInvalid(() => FirstFrame(client.Watch(new WatchRequest { Board = "global", TopN = 101 })));
        await AssertInvalid(() => FirstFrame(client.Watch(new WatchRequest { Board = "global", MaxHz = 11 })));
    }

    [Fact]
    public async Task AnyCall_LimitsAtTheirMaximum_Accepted()
    {
        var client = _app.Client;

        var page = await client.TopAsync(new TopRequest { Board = "global", Limit = 1000 });
        var around = await client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "bob", Before = 100, After = 100 });
        using var watch = client.Watch(new WatchRequest { Board = "global", TopN = 100, MaxHz = 10 });
        var frame = await FirstFrame(watch);

        Assert.Equal(5, page.Entries.Count);
        Assert.Equal(5, around.Entries.Count);
        Assert.Equal(5, frame.Entries.Count);
    }

    [Fact]
    public async Task Watch_Subscribe_SendsTopThenAFrameWhenItChanges()
    {
        using var watch = _app.Client.Watch(new WatchRequest { Board = "world:w1", TopN = 2 });
        var first = await FirstFrame(watch);
        Assert.Equal(["bob", "alice"], first.Entries.Select(e => e.PlayerId));
        Assert.False(first.Heartbeat);

        await _resolver.Feed.PublishAsync(Change("w1", "carol", 50, 400));
        var next = await FirstFrame(watch);

        Assert.Equal(["carol", "bob"], next.Entries.Select(e => e.PlayerId));
        Assert.Equal([50L, 30L], next.Entries.Select(e => e.Score));
        Assert.True(next.Version > first.Version);
        Assert.False(next.Heartbeat);
    }

    [Fact]
    public async Task Feed_LiveChange_ReflectedOnWorldAndGlobalBoards()
    {
        await _resolver.Feed.PublishAsync(Change("w2", "dave", 100, 500));
        await _app.WaitUntilAsync(store => store.ScoreOf("global", "dave") == 100);

        var world = await _app.Client.TopAsync(new TopRequest { Board = "world:w2", Limit = 1 });
        var global = await _app.Client.AroundAsync(new AroundRequest { Board = "global", PlayerId = "dave" });

        Assert.Equal("dave", world.Entries[0].PlayerId);
        Assert.Equal(3UL, world.Total);
        Assert.Equal(1UL, global.Entries[0].Rank);
        Assert.Equal(100L, global.Entries[0].Score);
    }

    [Fact]
    public async Task Metrics_AfterFeedAndWatch_ExposeLeaderboardInstruments()
    {
        using (var watch = _app.Client.Watch(new WatchRequest { Board = "global" }))
        {
            await FirstFrame(watch);
        }
        using var http = _app.CreateClient();

        var text = await http.GetStringAsync("/metrics");

        Assert.Contains("veltrix_leaderboard_updates_applied_total", text, StringComparison.Ordinal);
        Assert.Contains("veltrix_leaderboard_boards", text, StringComparison.Ordinal);
        Assert.Contains("veltrix_leaderboard_watch_subscribers", text, StringComparison.Ordinal);
        Assert.Contains("veltrix_leaderboard_frames_sent_total", text, StringComparison.Ordinal);
        Assert.True(_app.Metrics.UpdatesApplied >= Snapshot.Length);
        Assert.True(_app.Metrics.FramesSent >= 1);
    }

    private static async Task<BoardFrame> FirstFrame(AsyncServerStreamingCall<BoardFrame> call)
    {
        using var timeout = new CancellationTokenSource(Limits.Signal);
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token), "the stream ended without a frame");
        return call.ResponseStream.Current;
    }

    private static async Task AssertInvalid(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }
}
