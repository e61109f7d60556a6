namespace Veltrix.Leaderboard.Tests;

public sealed class PlayerIdsTests
{
    [Fact]
    public void Intern_NumbersInOrderOfArrival_AndFindsEachAgain()
    {
        var ids = new PlayerIds();
        const int count = 40_000;
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(i, ids.Intern("player-" + i));
        }

        for (var i = 0; i < count; i++)
        {
            var id = "player-" + i;
            Assert.Equal(i, ids.Intern(id.AsSpan()));
            Assert.True(ids.TryFind(id, out var number));
            Assert.Equal(i, number);
            Assert.Equal(id, ids[i]);
            Assert.Equal(PlayerIds.PrefixOf(id), ids.SortPrefix(i));
        }
        Assert.False(ids.TryFind("player-" + count, out var missing));
        Assert.Equal(-1, missing);
        Assert.False(ids.TryFind("", out _));
    }

    [Fact]
    public async Task Readers_WhileOneWriterAdds_FindEveryPublishedId()
    {
        var ids = new PlayerIds();
        const int count = 200_000;
        var published = -1;
        var failures = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        void Read(int seed)
        {
            var random = new Random(seed);
            while (Volatile.Read(ref published) < count - 1 && !stop.IsCancellationRequested)
            {
                var last = Volatile.Read(ref published);
                if (last < 0)
                {
                    continue;
                }
                var n = random.Next(last + 1);
                var id = "p" + n;
                if (!ids.TryFind(id, out var number) || number != n || ids[number] != id)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        var readers = new[] { Task.Run(() => Read(1)), Task.Run(() => Read(2)) };
        for (var i = 0; i < count && !stop.IsCancellationRequested; i++)
        {
            ids.Intern("p" + i);
            Volatile.Write(ref published, i);
        }
        await Task.WhenAll(readers).WaitAsync(stop.Token);

        Assert.Equal(count - 1, published);
        Assert.Equal(0, failures);
    }
}
