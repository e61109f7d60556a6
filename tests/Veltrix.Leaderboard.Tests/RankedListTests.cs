namespace Veltrix.Leaderboard.Tests;

public class RankedListTests
{
    [Fact]
    public void RandomInsertsAndRemoves_SmallBlocks_MatchSortedReference()
    {
        // Blocks of 8 force thousands of splits and merges in a few thousand operations.
        var list = new RankedList(_ids, blockCapacity: 8);
        var reference = new List<Entry>();
        var live = new Dictionary<string, Entry>();
        var random = new Random(1234);

        for (var step = 0; step < 6000; step++)
        {
            // Ids longer than the sort prefix, some alike in their first eight characters.
            var id = (random.Next(2) == 0 ? "player-" : "p") + random.Next(600);
            if (live.Remove(id, out var old))
            {
                var expected = reference.BinarySearch(old, Comparer);
                Assert.Equal(expected, list.Remove(old));
                reference.RemoveAt(expected);
            }
            if (random.Next(4) != 0)
            {
                var entry = E(id, random.Next(50), random.Next(20));
                var at = ~reference.BinarySearch(entry, Comparer);
                Assert.Equal(at, list.Insert(entry));
                reference.Insert(at, entry);
                live[id] = entry;
            }
            Assert.Equal(reference.Count, list.Count);
        }

        var copy = new Entry[list.Count];
        Assert.Equal(reference.Count, list.CopyTo(0, copy));
        for (var i = 0; i < reference.Count; i++)
        {
            Assert.Equal(reference[i].Player, copy[i].Player);
            Assert.Equal(reference[i].Player, list[i].Player);
            Assert.Equal(i, list.IndexOf(reference[i]));
        }
    }

    [Fact]
    public void Remove_MostEntries_MergesBlocksBackDown()
    {
        var list = new RankedList(_ids, blockCapacity: 8);
        for (var i = 0; i < 1000; i++)
        {
            list.Insert(E("p" + i, i, 0));
        }
        var grown = list.BlockCount;
        for (var i = 0; i < 990; i++)
        {
            Assert.True(list.Remove(E("p" + i, i, 0)) >= 0);
        }

        Assert.Equal(10, list.Count);
        Assert.True(grown >= 125, $"expected many blocks after 1000 inserts, had {grown}");
        Assert.True(list.BlockCount <= 5, $"10 entries should not need {list.BlockCount} blocks of 8");
    }

    [Fact]
    public void CopyTo_StartPastEnd_CopiesNothing()
    {
        var list = new RankedList(_ids);
        list.Insert(E("a", 1, 1));

        Assert.Equal(0, list.CopyTo(1, new Entry[4]));
        Assert.Equal(-1, list.IndexOf(E("b", 1, 1)));
        Assert.Equal(-1, list.Remove(E("a", 2, 1)));
    }

    private readonly PlayerIds _ids = new();

    // Players are numbered in the order they first appear, which is not the order of their ids: ties between
    // equal scores reached at the same time must still go by id.
    private Entry E(string id, long score, long reachedAtMs)
    {
        var player = _ids.Intern(id);
        return new(player, _ids.SortPrefix(player), score, reachedAtMs);
    }

    private Comparer<Entry> Comparer => Comparer<Entry>.Create((a, b) =>
        a.Score != b.Score ? b.Score.CompareTo(a.Score)
        : a.ReachedAtMs != b.ReachedAtMs ? a.ReachedAtMs.CompareTo(b.ReachedAtMs)
        : string.CompareOrdinal(_ids[a.Player], _ids[b.Player]));
}
