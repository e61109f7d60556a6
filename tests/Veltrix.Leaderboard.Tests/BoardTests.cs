namespace Veltrix.Leaderboard.Tests;

public class BoardTests
{
    [Fact]
    public void Set_DifferentScores_RanksHighestFirst()
    {
        var board = new Board("world:w");
        board.Set("low", 5, 1);
        board.Set("high", 50, 3);
        board.Set("mid", 20, 2);

        Assert.Equal(["high", "mid", "low"], Ids(board));
    }

    [Fact]
    public void Set_EqualScores_EarlierReachedFirstThenPlayerIdOrdinal()
    {
        var board = new Board("world:w");
        board.Set("late", 10, 200);
        board.Set("b", 10, 100);
        board.Set("B", 10, 100);
        board.Set("a", 10, 100);

        // Ordinal: upper case sorts before lower case.
        Assert.Equal(["B", "a", "b", "late"], Ids(board));
    }

    [Fact]
    public void Set_ScoreChanges_MovesPlayerWithoutDuplicating()
    {
        var board = new Board("world:w");
        board.Set("a", 10, 1);
        board.Set("b", 20, 2);
        board.Set("a", 30, 3);

        Assert.Equal(["a", "b"], Ids(board));
        Assert.Equal(2, board.Count);
    }

    [Fact]
    public void Set_SameScoreAgain_ChangesNothing()
    {
        var board = new Board("world:w");
        board.Set("a", 10, 1);
        var version = board.Version;

        Assert.False(board.Set("a", 10, 1));
        Assert.Equal(version, board.Version);
    }

    [Fact]
    public void Set_ChangeBelowWatchDepth_BumpsVersionButNotTopVersion()
    {
        var board = new Board("global");
        for (var i = 0; i < 150; i++)
        {
            board.Set("p" + i, 1000 - i, 0);
        }
        var top = board.TopVersion;
        var version = board.Version;

        board.Set("p140", 1000 - 141, 0);
        Assert.Equal(top, board.TopVersion);
        Assert.Equal(version + 1, board.Version);

        board.Set("p140", 5000, 0);
        Assert.Equal(board.Version, board.TopVersion);
    }

    [Fact]
    public void Remove_Player_LeavesBoardAndBumpsVersion()
    {
        var board = new Board("world:w");
        board.Set("a", 10, 1);
        board.Set("b", 5, 1);
        var version = board.Version;

        Assert.True(board.Remove("a"));
        Assert.False(board.Remove("a"));
        Assert.Equal(["b"], Ids(board));
        Assert.Equal(version + 1, board.Version);
    }

    [Fact]
    public void TryReadAround_MiddleAndEdges_ClipsToBoard()
    {
        var board = new Board("world:w");
        for (var i = 0; i < 10; i++)
        {
            board.Set("p" + i, 100 - i, 0);
        }
        var buffer = new Entry[7];

        Assert.True(board.TryReadAround("p5", 2, 3, buffer, out var first, out var count, out var total));
        Assert.Equal((3, 6, 10), (first, count, total));
        Assert.Equal(["p3", "p4", "p5", "p6", "p7", "p8"], buffer[..count].Select(e => board.Ids[e.Player]));

        Assert.True(board.TryReadAround("p0", 3, 1, buffer, out first, out count, out _));
        Assert.Equal((0, 2), (first, count));
        Assert.Equal("p0", board.Ids[buffer[0].Player]);

        Assert.True(board.TryReadAround("p9", 1, 3, buffer, out first, out count, out _));
        Assert.Equal((8, 2), (first, count));
        Assert.Equal("p9", board.Ids[buffer[1].Player]);

        Assert.False(board.TryReadAround("nobody", 1, 1, buffer, out _, out _, out _));
    }

    [Fact]
    public void Read_PageByPage_ReturnsEveryPlayerOnceInRankOrder()
    {
        var board = new Board("global");
        var random = new Random(7);
        for (var i = 0; i < 2500; i++)
        {
            board.Set("p" + i, random.Next(100), random.Next(1000));
        }

        var seen = new List<Entry>();
        var page = new Entry[1000];
        int count;
        while ((count = board.Read(seen.Count, page, out var total)) > 0)
        {
            Assert.Equal(2500, total);
            seen.AddRange(page[..count]);
        }

        Assert.Equal(2500, seen.Count);
        Assert.Equal(2500, seen.Select(e => e.Player).Distinct().Count());
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(Entry.Compare(seen[i - 1], seen[i], board.Ids) < 0);
        }
    }

    [Fact]
    public void ReadTop_Unchanged_ReturnsSameViewAndRebuildsAfterTopChange()
    {
        var board = new Board("global");
        board.Set("a", 10, 1);
        var first = board.ReadTop();

        Assert.Same(first, board.ReadTop());
        board.Set("b", 20, 1);
        var second = board.ReadTop();
        Assert.NotSame(first, second);
        Assert.Equal(["b", "a"], second.Entries.Select(e => e.PlayerId));
        Assert.Equal([1UL, 2UL], second.Entries.Select(e => e.Rank));
    }

    [Fact]
    public void DenseAndSparseBoards_SameOperations_SameRanking()
    {
        // The global board indexes its players by number in an array; world boards use a dictionary.
        var ids = new PlayerIds();
        var dense = new Board("global", ids, dense: true);
        var sparse = new Board("world:w", ids);
        var random = new Random(11);
        for (var step = 0; step < 5_000; step++)
        {
            var player = "p" + random.Next(3_000);
            switch (random.Next(4))
            {
                case 0:
                    Assert.Equal(sparse.Remove(player), dense.Remove(player));
                    break;
                case 1:
                    var delta = random.Next(-5, 20);
                    dense.Add(player, delta, step);
                    sparse.Add(player, delta, step);
                    break;
                default:
                    var (score, at) = (random.Next(100), random.Next(50));
                    Assert.Equal(sparse.Set(player, score, at), dense.Set(player, score, at));
                    break;
            }
        }

        Assert.Equal(sparse.Count, dense.Count);
        Assert.Equal(Ids(sparse), Ids(dense));
        Assert.Equal(sparse.Players.Order(), dense.Players.Order());
    }

    private static string[] Ids(Board board)
    {
        var entries = new Entry[board.Count];
        board.Read(0, entries, out _);
        return entries.Select(e => board.Ids[e.Player]).ToArray();
    }
}
