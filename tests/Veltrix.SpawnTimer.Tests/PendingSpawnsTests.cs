using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer.Tests;

public sealed class PendingSpawnsTests
{
    private static readonly string[] Worlds = ["w0", "w1", "w2", "w3", "w4"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomAddsTakesAndRemoves_MatchAPlainListAfterEveryStep(int seed)
    {
        var random = new Random(seed);
        var pending = new PendingSpawns();
        var model = new List<Entry>();
        var fired = new List<(int Handle, Entry Entry)>();
        long now = 0;
        long sequence = 0;
        var nextId = 0;

        for (var step = 0; step < 5_000; step++)
        {
            switch (random.Next(10))
            {
                case < 5:
                {
                    var world = Worlds[random.Next(Worlds.Length)];
                    // Short ids are packed into the slot; longer ones are kept as strings.
                    var id = random.Next(4) == 0 ? $"long-treasure-id-number-{nextId++}" : $"t{nextId++}";
                    // Many equal due times, so the sequence decides their order.
                    var due = now + random.Next(40);
                    var entry = new Entry(world, id, random.Next(100), random.Next(100), random.Next(1, 1000), due, ++sequence, world[1] - '0');
                    var handle = pending.Add(world, id, entry.X, entry.Y, entry.Value, due, entry.Partition);
                    Assert.Equal(entry.Partition, pending.PartitionOf(handle));
                    model.Add(entry);
                    break;
                }
                case < 8:
                {
                    now += random.Next(5);
                    var due = model.Where(e => !e.Fired && e.DueMs <= now).OrderBy(e => e.DueMs).ThenBy(e => e.Sequence).FirstOrDefault();
                    Assert.Equal(due is not null, pending.TryTakeDue(now, out var handle));
                    if (due is not null)
                    {
                        due.Fired = true;
                        var message = pending.ToMessage(handle, now);
                        Assert.Equal((due.WorldId, due.TreasureId, due.X, due.Y, due.Value, now), (message.WorldId, message.TreasureId, message.X, message.Y, message.Value, message.StampMs));
                        fired.Add((handle, due));
                    }
                    break;
                }
                default:
                    if (fired.Count > 0)
                    {
                        var pick = random.Next(fired.Count);
                        pending.Remove(fired[pick].Handle);
                        model.Remove(fired[pick].Entry);
                        fired.RemoveAt(pick);
                    }
                    break;
            }

            Assert.Equal(model.Count, pending.Count);
            var waiting = model.Where(e => !e.Fired).Select(e => e.DueMs).DefaultIfEmpty(long.MaxValue).Min();
            Assert.Equal(waiting, pending.NextDueMs);
            if (step % 50 == 0)
            {
                var limit = random.Next(1, 30);
                string? world = random.Next(3) == 0 ? null : Worlds[random.Next(Worlds.Length)];
                AssertListed(pending, model, world, limit);
            }
        }

        foreach (var entry in model)
        {
            Assert.True(pending.TryFind(entry.WorldId, entry.TreasureId, out var found));
            Assert.Equal(new ScheduledSpawn(entry.WorldId, entry.TreasureId, entry.X, entry.Y, entry.Value, entry.DueMs), found);
        }
        Assert.False(pending.TryFind("w0", "never", out _));
        Assert.False(pending.TryFind("nowhere", "t0", out _));
    }

    [Fact]
    public void RemovedHandles_AreReused_AndEmptyWorldsForgotten()
    {
        var pending = new PendingSpawns();
        var first = pending.Add("a", "x", 1, 2, 3, dueMs: 10, partition: 0);
        Assert.True(pending.TryTakeDue(10, out var taken));
        Assert.Equal(first, taken);

        pending.Remove(taken);
        var second = pending.Add("b", "y", 4, 5, 6, dueMs: 20, partition: 1);

        Assert.Equal(first, second);
        Assert.False(pending.TryFind("a", "x", out _));
        var listed = new List<ScheduledSpawn>();
        Assert.Equal(0, pending.CopyInDueOrder("a", 10, listed));
        Assert.Equal(1, pending.CopyInDueOrder(null, 10, listed));
        Assert.Equal(new ScheduledSpawn("b", "y", 4, 5, 6, 20), Assert.Single(listed));
        Assert.Equal(1, pending.PartitionOf(second));
    }

    [Fact]
    public void ManySpawns_SpanSeveralPages_AndStayInDueOrder()
    {
        var pending = new PendingSpawns();
        const int count = 10_000;
        for (var i = 0; i < count; i++)
        {
            // Due times in reverse of the order they are added.
            pending.Add($"w{i % 7}", $"t{i}", i, i, 1, dueMs: count - i, partition: i % 7);
        }

        var listed = new List<ScheduledSpawn>();
        Assert.Equal(count, pending.CopyInDueOrder(null, 5, listed));
        Assert.Equal(["t9999", "t9998", "t9997", "t9996", "t9995"], listed.Select(s => s.TreasureId));

        for (var due = 1; due <= count; due++)
        {
            Assert.True(pending.TryTakeDue(due, out var handle));
            Assert.Equal($"t{count - due}", pending.ToMessage(handle, due).TreasureId);
        }
        Assert.False(pending.TryTakeDue(long.MaxValue, out _));
        Assert.Equal(count, pending.Count);
    }

    [Fact]
    public void SameIdsInOtherWorlds_AreOtherSpawns_AndRemovalInAnyOrderKeepsTheRestFindable()
    {
        var random = new Random(5);
        var pending = new PendingSpawns();
        var handles = new List<(string World, string Id, int Handle)>();
        for (var i = 0; i < 3_000; i++)
        {
            var world = $"w{i % 3}";
            var id = i % 5 == 0 ? $"a-rather-long-treasure-id-{i / 3}" : $"t{i / 3}";
            handles.Add((world, id, pending.Add(world, id, i, i, 1, dueMs: i, partition: 0)));
        }
        Assert.True(pending.TryTakeDue(long.MaxValue, out _));
        while (pending.TryTakeDue(long.MaxValue, out _))
        {
        }

        while (handles.Count > 0)
        {
            var pick = random.Next(handles.Count);
            pending.Remove(handles[pick].Handle);
            Assert.False(pending.TryFind(handles[pick].World, handles[pick].Id, out _));
            handles.RemoveAt(pick);
            for (var probe = 0; probe < 3 && handles.Count > 0; probe++)
            {
                var other = handles[random.Next(handles.Count)];
                Assert.True(pending.TryFind(other.World, other.Id, out var found));
                Assert.Equal((other.World, other.Id), (found.WorldId, found.TreasureId));
            }
        }
        Assert.Equal(0, pending.Count);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("t-abcdefghij-9999999")]
    [InlineData("ABCDEFGHIJKLMNOPQRST")]
    [InlineData("0123456789_-xyzXYZ09")]
    public void ShortId_PacksAndUnpacksEveryCharacter(string id)
    {
        Assert.True(ShortId.TryPack(id, out var packed));
        Assert.Equal(id, packed.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTU")]
    [InlineData("has space")]
    [InlineData("dot.ted")]
    public void ShortId_RefusesWhatItCannotHold(string id) => Assert.False(ShortId.TryPack(id, out _));

    [Fact]
    public void ShortId_DistinguishesIdsThatDifferOnlyInLength() =>
        Assert.NotEqual(Pack("AA"), Pack("AAA"));

    private static ShortId Pack(string id) => ShortId.TryPack(id, out var packed) ? packed : throw new ArgumentException(id);

    private static void AssertListed(PendingSpawns pending, List<Entry> model, string? world, int limit)
    {
        var listed = new List<ScheduledSpawn>();
        var total = pending.CopyInDueOrder(world, limit, listed);
        var expected = model.Where(e => world is null || e.WorldId == world).OrderBy(e => e.DueMs).ThenBy(e => e.Sequence).ToList();
        Assert.Equal(expected.Count, total);
        Assert.Equal(expected.Take(limit).Select(e => e.TreasureId), listed.Select(s => s.TreasureId));
    }

    private sealed record Entry(string WorldId, string TreasureId, int X, int Y, long Value, long DueMs, long Sequence, int Partition)
    {
        public bool Fired { get; set; }
    }
}
