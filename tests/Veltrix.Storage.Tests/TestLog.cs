namespace Veltrix.Storage.Tests;

/// <summary>Entries with deterministic contents, so a test can check what it reads back without keeping a copy.</summary>
internal static class TestLog
{
    public static CancellationToken Ct => CancellationToken.None;

    public static int DefaultSize(long position) => (int)(position * 37 % 301);

    public static int SmallSize(long position) => (int)(position % 17);

    public static int KibiByte(long _) => 1024;

    /// <summary>The bytes of the entry at <paramref name="position"/>: a xorshift stream seeded by the position.</summary>
    public static byte[] Payload(long position, int size)
    {
        var bytes = new byte[size];
        var x = (ulong)position * 0x9E3779B97F4A7C15UL | 1;
        for (var i = 0; i < bytes.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes[i] = (byte)x;
        }

        return bytes;
    }

    public static byte[] Payload(long position) => Payload(position, DefaultSize(position));

    public static ReadOnlyMemory<byte>[] Payloads(long first, int count, Func<long, int>? size = null)
    {
        size ??= DefaultSize;
        var entries = new ReadOnlyMemory<byte>[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = Payload(first + i, size(first + i));
        }

        return entries;
    }

    public static byte[] State(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    public static async Task<List<LogEntry>> ReadAllAsync(IPartitionLog log, long from)
    {
        var entries = new List<LogEntry>();
        await foreach (var entry in log.ReadAsync(from, Ct))
        {
            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Asserts that <paramref name="entries"/> are exactly positions [first, next) with their payloads.</summary>
    public static void AssertEntries(List<LogEntry> entries, long first, long next, Func<long, int>? size = null)
    {
        size ??= DefaultSize;
        Assert.Equal(next - first, entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var position = first + i;
            Assert.Equal(position, entries[i].Position);
            Assert.True(entries[i].Data.Span.SequenceEqual(Payload(position, size(position))), $"entry {position} differs");
        }
    }

    public static void AssertSnapshot(Snapshot? snapshot, long position, string state)
    {
        Assert.NotNull(snapshot);
        Assert.Equal(position, snapshot.Position);
        Assert.Equal(state, System.Text.Encoding.UTF8.GetString(snapshot.State.Span));
    }
}
