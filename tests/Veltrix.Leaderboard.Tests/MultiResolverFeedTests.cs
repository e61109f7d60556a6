using static Veltrix.Leaderboard.Tests.Scores;

namespace Veltrix.Leaderboard.Tests;

/// <summary>The leaderboard following the feeds of two resolver instances at once.</summary>
public sealed class MultiResolverFeedTests
{
    [Fact]
    public async Task Feed_TwoResolvers_BoardsHoldBothAndGlobalSumsAcrossThem()
    {
        await using var first = await StandInResolver.StartAsync([Change("w-a", "alice", 10, 1), Change("w-a", "bob", 5, 2)]);
        await using var second = await StandInResolver.StartAsync([Change("w-b", "alice", 7, 3), Change("w-b", "carol", 3, 4)]);
        await using var app = new LeaderboardApp(first.Address, second.Address);

        await app.WaitUntilAsync(store => store.ScoreOf("global", "alice") == 17 && store.ScoreOf("global", "carol") == 3);
        await second.Feed.PublishAsync(Change("w-b", "carol", 30, 9));
        await app.WaitUntilAsync(store => store.ScoreOf("global", "carol") == 30);

        var page = await app.Client.TopAsync(new() { Board = "global" });
        Assert.Equal(["carol", "alice", "bob"], page.Entries.Select(e => e.PlayerId));
        Assert.Equal([30L, 17L, 5L], page.Entries.Select(e => e.Score));
        Assert.Equal(7, app.Store.ScoreOf("world:w-b", "alice"));
        Assert.Equal(10, app.Store.ScoreOf("world:w-a", "alice"));
    }

    [Fact]
    public async Task Feed_OneResolverRestarts_ItsNewSnapshotReplacesOnlyItsWorldsAndNothingDoubles()
    {
        var first = await StandInResolver.StartAsync([Change("w-a", "alice", 10, 1), Change("w-a", "bob", 5, 2)]);
        var port = first.Port;
        await using var second = await StandInResolver.StartAsync([Change("w-b", "alice", 7, 3), Change("w-b", "carol", 3, 4)]);
        await using var app = new LeaderboardApp(first.Address, second.Address);
        try
        {
            await app.WaitUntilAsync(store => store.ScoreOf("global", "alice") == 17 && store.ScoreOf("global", "bob") == 5
                && store.ScoreOf("global", "carol") == 3);
        }
        finally
        {
            // Breaks the first feed's stream and stops its server, as a crashing resolver would.
            await first.DisposeAsync();
        }

        // While the first is away, the second's live changes still reach the boards.
        await second.Feed.PublishAsync(Change("w-b", "carol", 9, 10));
        await app.WaitUntilAsync(store => store.ScoreOf("global", "carol") == 9);

        // Back with its scores as the restarted resolver holds them: alice moved on, bob is gone, dave is new.
        await using var restarted = await StandInResolver.StartAsync([Change("w-a", "alice", 12, 11), Change("w-a", "dave", 2, 12)], port);
        await restarted.Feed.Subscribed;
        await app.WaitUntilAsync(store => store.ScoreOf("global", "dave") == 2 && store.ScoreOf("global", "bob") is null);

        var page = await app.Client.TopAsync(new() { Board = "global" });
        Assert.Equal(["alice", "carol", "dave"], page.Entries.Select(e => e.PlayerId));
        Assert.Equal([19L, 9L, 2L], page.Entries.Select(e => e.Score));
        Assert.Equal(7, app.Store.ScoreOf("world:w-b", "alice"));
        Assert.Equal(9, app.Store.ScoreOf("world:w-b", "carol"));
        Assert.Null(app.Store.ScoreOf("world:w-a", "bob"));
        Assert.True(app.Metrics.FeedReconnects >= 1);
    }
}
