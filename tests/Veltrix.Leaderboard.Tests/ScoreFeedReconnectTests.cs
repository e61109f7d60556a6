using static Veltrix.Leaderboard.Tests.Scores;

namespace Veltrix.Leaderboard.Tests;

public sealed class ScoreFeedReconnectTests
{
    [Fact]
    public async Task Feed_ResolverRestartsWithNewSnapshot_BoardsReflectIt()
    {
        var first = await StandInResolver.StartAsync([Change("w1", "alice", 10, 1), Change("w1", "bob", 5, 2)]);
        var port = first.Port;
        await using var app = new LeaderboardApp(first.Address);
        try
        {
            await app.WaitUntilAsync(store => store.ScoreOf("global", "bob") == 5);
        }
        finally
        {
            // Breaks the open stream and stops the server, as a crashing resolver would.
            await first.DisposeAsync();
        }

        await using var second = await StandInResolver.StartAsync(
            [Change("w1", "alice", 10, 1), Change("w1", "bob", 50, 9), Change("w2", "carol", 7, 8)], port);
        await second.Feed.Subscribed;
        await app.WaitUntilAsync(store => store.ScoreOf("global", "carol") == 7);

        var page = await app.Client.TopAsync(new() { Board = "global" });
        Assert.Equal(["bob", "alice", "carol"], page.Entries.Select(e => e.PlayerId));
        Assert.Equal([50L, 10L, 7L], page.Entries.Select(e => e.Score));
        Assert.True(app.Metrics.FeedReconnects >= 1);
    }

    [Fact]
    public async Task Feed_ResolverNotUpAtStart_SubscribesOnceItIs()
    {
        // Reserve a port, then free it so the leaderboard starts against nothing.
        var probe = await StandInResolver.StartAsync([]);
        var port = probe.Port;
        await probe.DisposeAsync();
        await using var app = new LeaderboardApp($"http://127.0.0.1:{port}");
        _ = app.Server;

        await using var resolver = await StandInResolver.StartAsync([Change("w1", "late", 3, 1)], port);
        await resolver.Feed.Subscribed;
        await app.WaitUntilAsync(store => store.ScoreOf("world:w1", "late") == 3);

        var page = await app.Client.TopAsync(new() { Board = "world:w1" });
        Assert.Equal("late", Assert.Single(page.Entries).PlayerId);
    }
}
