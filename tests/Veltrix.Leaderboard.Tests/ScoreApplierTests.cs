using Veltrix.Contracts.Internal;
using static Veltrix.Leaderboard.Tests.Scores;

namespace Veltrix.Leaderboard.Tests;

public class ScoreApplierTests
{
    [Fact]
    public void Apply_JoinAtZero_PlayerOnWorldAndGlobalBoards()
    {
        var (store, applier, _) = Meters.NewWriter();

        applier.Apply(Message(Change("w1", "alice", 0, 10)));

        Assert.Equal(0, store.ScoreOf("world:w1", "alice"));
        Assert.Equal(0, store.ScoreOf("global", "alice"));
    }

    [Fact]
    public void Apply_ScoresInSeveralWorlds_GlobalIsTheirSum()
    {
        var (store, applier, _) = Meters.NewWriter();

        applier.Apply(Message(Change("w1", "alice", 30, 10), Change("w2", "alice", 12, 20), Change("w3", "alice", 0, 30)));

        Assert.Equal(30, store.ScoreOf("world:w1", "alice"));
        Assert.Equal(12, store.ScoreOf("world:w2", "alice"));
        Assert.Equal(42, store.ScoreOf("global", "alice"));
    }

    [Fact]
    public void Apply_OneWorldScoreChanges_GlobalMovesByTheDifference()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.Apply(Message(Change("w1", "alice", 30, 10), Change("w2", "alice", 12, 20)));

        applier.Apply(Message(Change("w1", "alice", 50, 40)));
        Assert.Equal(62, store.ScoreOf("global", "alice"));

        // A rollback lowers a world score; the sum follows.
        applier.Apply(Message(Change("w2", "alice", 2, 50)));
        Assert.Equal(52, store.ScoreOf("global", "alice"));
    }

    [Fact]
    public void Apply_RollbackVoidedJoin_OffThatWorldAndOffGlobalOnlyWhenNoWorldIsLeft()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.Apply(Message(Change("w1", "sock", 30, 10), Change("w2", "sock", 12, 20), Change("w1", "alice", 5, 10)));

        applier.Apply(Message(new ScoreChange { WorldId = "w1", PlayerId = "sock", Removed = true }));
        Assert.Null(store.ScoreOf("world:w1", "sock"));
        Assert.Equal(12, store.ScoreOf("global", "sock"));
        Assert.Equal(5, store.ScoreOf("world:w1", "alice"));

        applier.Apply(Message(new ScoreChange { WorldId = "w2", PlayerId = "sock", Removed = true }));
        Assert.Null(store.ScoreOf("world:w2", "sock"));
        Assert.Null(store.ScoreOf("global", "sock"));
    }

    [Fact]
    public void Apply_GlobalTie_PlayerWhoReachedTheSumFirstRanksHigher()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.Apply(Message(Change("w1", "zed", 10, 100), Change("w1", "amy", 10, 300)));
        // amy's join elsewhere at 0 does not change when she reached 10.
        applier.Apply(Message(Change("w2", "amy", 0, 50)));

        store.TryGet("global", out var global);
        var entries = new Entry[2];
        global!.Read(0, entries, out _);
        Assert.Equal(["zed", "amy"], entries.Select(e => global.Ids[e.Player]));
    }

    [Fact]
    public void Apply_SameSnapshotAgain_ChangesNoBoard()
    {
        var (store, applier, _) = Meters.NewWriter();
        var snapshot = Snapshot(Change("w1", "alice", 30, 10), Change("w2", "alice", 12, 20), Change("w1", "bob", 5, 15));
        applier.BeginSnapshot();
        applier.Apply(snapshot);
        var global = store.Global.Version;
        store.TryGet("world:w1", out var w1);
        var world = w1!.Version;

        applier.BeginSnapshot();
        Assert.True(applier.Apply(snapshot));

        Assert.Equal(global, store.Global.Version);
        Assert.Equal(world, w1.Version);
        Assert.Equal(42, store.ScoreOf("global", "alice"));
    }

    [Fact]
    public void Apply_NewSnapshotWithoutSomeScores_RemovesThem()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.BeginSnapshot();
        applier.Apply(Snapshot(Change("w1", "alice", 30, 10), Change("w2", "alice", 12, 20), Change("w1", "bob", 5, 15)));

        applier.BeginSnapshot();
        applier.Apply(Snapshot(Change("w1", "alice", 30, 10)));

        Assert.Null(store.ScoreOf("world:w2", "alice"));
        Assert.Null(store.ScoreOf("world:w1", "bob"));
        Assert.Null(store.ScoreOf("global", "bob"));
        Assert.Equal(30, store.ScoreOf("global", "alice"));
    }

    [Fact]
    public void Apply_SnapshotBrokenBeforeItsEnd_RemovesNothing()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.BeginSnapshot();
        applier.Apply(Snapshot(Change("w1", "alice", 30, 10), Change("w1", "bob", 5, 15)));

        applier.BeginSnapshot();
        applier.Apply(new ScoreChanges { Snapshot = true, Changes = { Change("w1", "alice", 31, 11) } });
        applier.AbandonSnapshot();

        Assert.Equal(5, store.ScoreOf("world:w1", "bob"));
        Assert.Equal(31, store.ScoreOf("global", "alice"));
    }

    [Fact]
    public void Apply_MalformedIds_IgnoredAndCounted()
    {
        var (store, applier, metrics) = Meters.NewWriter();

        applier.Apply(Message(Change("w 1", "alice", 1, 1), Change("w1", "", 1, 1), Change("w1", "bob", 2, 2)));

        Assert.Equal(2, metrics.ChangesIgnored);
        Assert.Equal(1, metrics.UpdatesApplied);
        Assert.Equal(1, store.Global.Count);
        Assert.False(store.TryGet("world:w 1", out _));
    }

    [Fact]
    public void Apply_SnapshotOfOneSource_LeavesOtherSourcesWorldsAlone()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.BeginSnapshot(0);
        applier.Apply(Snapshot(Change("w0", "alice", 30, 10), Change("w0", "bob", 5, 15)), 0);
        applier.BeginSnapshot(1);
        applier.Apply(Snapshot(Change("w1", "alice", 12, 20), Change("w1", "carol", 7, 25)), 1);

        // Source 1 comes back with carol's score only: alice's w1 score is gone, source 0's worlds are not touched.
        applier.BeginSnapshot(1);
        applier.Apply(Snapshot(Change("w1", "carol", 7, 25)), 1);

        Assert.Equal(30, store.ScoreOf("world:w0", "alice"));
        Assert.Equal(5, store.ScoreOf("world:w0", "bob"));
        Assert.Null(store.ScoreOf("world:w1", "alice"));
        Assert.Equal(30, store.ScoreOf("global", "alice"));
        Assert.Equal(5, store.ScoreOf("global", "bob"));
        Assert.Equal(7, store.ScoreOf("global", "carol"));
    }

    [Fact]
    public void Apply_SourceDropsPlayerWhoHasScoresElsewhere_StaysOnGlobalWithTheOtherScores()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.BeginSnapshot(0);
        applier.Apply(Snapshot(Change("w0", "alice", 30, 10)), 0);
        applier.BeginSnapshot(1);
        applier.Apply(Snapshot(Change("w1", "alice", 12, 20), Change("w1", "dan", 1, 21)), 1);

        applier.BeginSnapshot(1);
        applier.Apply(Snapshot(Change("w1", "dan", 1, 21)), 1);

        Assert.Equal(30, store.ScoreOf("global", "alice"));
        Assert.Equal(1, store.ScoreOf("global", "dan"));
        Assert.Equal(2, store.Global.Count);
    }

    [Fact]
    public void Apply_SourceDropsPlayerWithNoScoreElsewhere_LeavesGlobalBoard()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.BeginSnapshot(0);
        applier.Apply(Snapshot(Change("w0", "alice", 30, 10)), 0);
        applier.BeginSnapshot(1);
        applier.Apply(Snapshot(Change("w1", "erin", 4, 20), Change("w1", "dan", 1, 21)), 1);

        applier.BeginSnapshot(1);
        applier.Apply(Snapshot(Change("w1", "dan", 1, 21)), 1);

        Assert.Null(store.ScoreOf("global", "erin"));
        Assert.Equal(30, store.ScoreOf("global", "alice"));
    }

    [Fact]
    public void Apply_InterleavedSnapshotsOfTwoSources_EachSweepsOnlyItsOwn()
    {
        var (store, applier, _) = Meters.NewWriter();
        applier.BeginSnapshot(0);
        applier.Apply(Snapshot(Change("w0", "alice", 30, 10), Change("w0", "bob", 5, 15)), 0);
        applier.BeginSnapshot(1);
        applier.Apply(Snapshot(Change("w1", "carol", 7, 25)), 1);

        // Both resubscribe at once; their messages interleave on the writer; source 0 lost bob.
        applier.BeginSnapshot(0);
        applier.BeginSnapshot(1);
        applier.Apply(new ScoreChanges { Snapshot = true, Changes = { Change("w0", "alice", 30, 10) } }, 0);
        applier.Apply(new ScoreChanges { Snapshot = true, Changes = { Change("w1", "carol", 8, 26) } }, 1);
        Assert.True(applier.Apply(new ScoreChanges { Snapshot = true, SnapshotDone = true }, 1));
        Assert.True(applier.Apply(new ScoreChanges { Snapshot = true, SnapshotDone = true }, 0));

        Assert.Equal(30, store.ScoreOf("global", "alice"));
        Assert.Null(store.ScoreOf("global", "bob"));
        Assert.Equal(8, store.ScoreOf("global", "carol"));
        Assert.Equal(8, store.ScoreOf("world:w1", "carol"));
    }

    private static ScoreChanges Message(params ScoreChange[] changes)
    {
        var message = new ScoreChanges();
        message.Changes.Add(changes);
        return message;
    }

    private static ScoreChanges Snapshot(params ScoreChange[] changes)
    {
        var message = new ScoreChanges { Snapshot = true, SnapshotDone = true };
        message.Changes.Add(changes);
        return message;
    }
}
