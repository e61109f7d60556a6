using System.Globalization;
using System.Text;
using StackExchange.Redis;
using Veltrix.Testing;
using static Veltrix.Storage.Tests.TestLog;

namespace Veltrix.Storage.Tests;

/// <summary>What only the Redis store has to prove: fencing through the epoch key, all-or-none appends, paging.</summary>
public sealed class RedisPartitionStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private readonly string _prefix = $"t{Guid.NewGuid():N}";
    private ConnectionMultiplexer _raw = null!;

    public async Task InitializeAsync() => _raw = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},allowAdmin=true");

    public async Task DisposeAsync() => await _raw.DisposeAsync();

    private IDatabase Raw => _raw.GetDatabase();

    private RedisKey LogKey(int partition) => $"{{{_prefix}:p:{partition}}}:log";

    private RedisKey SnapshotsKey(int partition) => $"{{{_prefix}:p:{partition}}}:snaps";

    private RedisKey SnapshotKey(int partition, long position) => $"{{{_prefix}:p:{partition}}}:snap:{position}";

    /// <summary>The positions of the snapshot hashes that exist for <paramref name="partition"/>, ascending.</summary>
    private async Task<string[]> SnapshotHashPositionsAsync(int partition)
    {
        var pattern = $"{{{_prefix}:p:{partition}}}:snap:*";
        var server = _raw.GetServer(_raw.GetEndPoints()[0]);
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: pattern))
        {
            keys.Add(((string)key!)[(pattern.Length - 1)..]);
        }

        return [.. keys.OrderBy(k => long.Parse(k, CultureInfo.InvariantCulture))];
    }

    private RedisPartitionStore NewStore(int readPageSize = 512) =>
        new(redis.ConnectionString, new RedisPartitionStoreOptions { KeyPrefix = _prefix, ReadPageSize = readPageSize });

    [Fact]
    public async Task Append_OwnerFencedByHigherEpoch_ThrowsFencedAndStreamHoldsOnlyNewOwnersEntries()
    {
        await using var storeA = NewStore();
        await using var storeB = NewStore();
        var ownerA = await storeA.OpenAsync(0, 1, Ct);
        var ownerB = await storeB.OpenAsync(0, 2, Ct);
        await ownerB.AppendAsync([Bytes("b1"), Bytes("b2")], Ct);

        var fenced = await Assert.ThrowsAsync<FencedException>(
            () => ownerA.AppendAsync([Bytes("a1"), Bytes("a2"), Bytes("a3")], Ct).AsTask());

        Assert.Equal(1, fenced.Epoch);
        Assert.Equal(2, fenced.OwnerEpoch);
        Assert.Equal(2, await Raw.StreamLengthAsync(LogKey(0)));
        Assert.Equal(["b1", "b2"], Texts(await ReadAllAsync(ownerB, 1)));
    }

    [Fact]
    public async Task Append_SeveralEntries_StoredAtConsecutivePositionsAsStreamIds()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(1, 1, Ct);

        await log.AppendAsync([Bytes("x"), Bytes("y"), Bytes("z")], Ct);
        await log.AppendAsync([Bytes("w")], Ct);

        Assert.Equal(5, log.NextPosition);
        var ids = (await Raw.StreamRangeAsync(LogKey(1))).Select(e => e.Id.ToString()).ToArray();
        Assert.Equal(["1-1", "2-1", "3-1", "4-1"], ids);
        Assert.Equal(["x", "y", "z", "w"], Texts(await ReadAllAsync(log, 1)));
    }

    [Fact]
    public async Task Append_StaleLogOfSameEpoch_RefusesWholeBatchAndLeavesLogUnchanged()
    {
        await using var store = NewStore();
        var current = await store.OpenAsync(0, 7, Ct);
        var stale = await store.OpenAsync(0, 7, Ct);
        await current.AppendAsync([Bytes("c1"), Bytes("c2"), Bytes("c3")], Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => stale.AppendAsync([Bytes("s1"), Bytes("s2"), Bytes("s3"), Bytes("s4")], Ct).AsTask());

        Assert.Equal(1, stale.NextPosition);
        Assert.Equal(3, await Raw.StreamLengthAsync(LogKey(0)));
        Assert.Equal(["c1", "c2", "c3"], Texts(await ReadAllAsync(current, 1)));
    }

    [Fact]
    public async Task Append_AfterRedisLostAcknowledgedEntries_ThrowsLogCorruptedAtFirstLostPosition()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Bytes("1"), Bytes("2"), Bytes("3")], Ct);
        await Raw.KeyDeleteAsync(LogKey(0));

        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => log.AppendAsync([Bytes("4")], Ct).AsTask());

        Assert.Equal(1, corrupt.Position);
        Assert.False(await Raw.KeyExistsAsync(LogKey(0)));
    }

    [Fact]
    public async Task Read_EntryWithFlippedByte_ThrowsLogCorruptedWithItsPosition()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Bytes("first"), Bytes("second"), Bytes("third")], Ct);
        await RewriteStreamAsync(LogKey(0), "2-1", "d", "sEcond");

        var read = new List<LogEntry>();
        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(async () =>
        {
            await foreach (var entry in log.ReadAsync(1, Ct))
            {
                read.Add(entry);
            }
        });

        Assert.Equal(2, corrupt.Position);
        Assert.Equal(0, corrupt.Partition);
        Assert.Equal(["first"], Texts(read));
    }

    [Fact]
    public async Task Read_EntryWithAlteredCrc_ThrowsLogCorruptedWithItsPosition()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Bytes("a"), Bytes("b"), Bytes("c")], Ct);
        await RewriteStreamAsync(LogKey(0), "3-1", "c", "12345");

        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => ReadAllAsync(log, 1));

        Assert.Equal(3, corrupt.Position);
    }

    [Fact]
    public async Task Read_TwentyThousandEntries_ReturnsAllInOrderThroughPagedXrange()
    {
        const int Total = 20_000;
        const int PageSize = 512;
        await using var store = NewStore(PageSize);
        var log = await store.OpenAsync(2, 1, Ct);
        var batch = new ReadOnlyMemory<byte>[250];
        for (var position = 1; position <= Total; position += batch.Length)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = Bytes($"entry-{position + i}");
            }

            await log.AppendAsync(batch, Ct);
        }

        var callsBefore = await XrangeCallsAsync();
        var expected = 1L;
        await foreach (var entry in log.ReadAsync(1, Ct))
        {
            Assert.Equal(expected, entry.Position);
            Assert.Equal($"entry-{expected}", Encoding.UTF8.GetString(entry.Data.Span));
            expected++;
        }

        Assert.Equal(Total + 1, expected);
        Assert.Equal((Total / PageSize) + 1, await XrangeCallsAsync() - callsBefore);
    }

    [Fact]
    public async Task WriteSnapshot_Twice_EachInItsOwnHashAndListedInTheSortedSet()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Bytes("1"), Bytes("2"), Bytes("3")], Ct);

        await log.WriteSnapshotAsync(2, Bytes("state-2"), Ct);
        await log.WriteSnapshotAsync(4, Bytes("state-4"), Ct);

        var latest = await log.ReadLatestSnapshotAsync(Ct);
        Assert.NotNull(latest);
        Assert.Equal(4, latest.Position);
        Assert.Equal("state-4", Encoding.UTF8.GetString(latest.State.Span));
        Assert.Equal("2", (string?)await Raw.HashGetAsync(SnapshotKey(0, 2), "p"));
        Assert.Equal("state-2", (string?)await Raw.HashGetAsync(SnapshotKey(0, 2), "s"));
        var held = await Raw.SortedSetRangeByRankWithScoresAsync(SnapshotsKey(0));
        Assert.Equal(["2", "4"], held.Select(e => (string)e.Element!));
        Assert.Equal([2.0, 4.0], held.Select(e => e.Score));
    }

    [Fact]
    public async Task ReadLatestSnapshot_NewestDamaged_ReturnsPrevious()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Bytes("1"), Bytes("2")], Ct);
        await log.WriteSnapshotAsync(2, Bytes("state-2"), Ct);
        await log.WriteSnapshotAsync(3, Bytes("state-3"), Ct);
        await Raw.HashSetAsync(SnapshotKey(0, 3), "s", "state-X");

        var latest = await log.ReadLatestSnapshotAsync(Ct);

        Assert.NotNull(latest);
        Assert.Equal(2, latest.Position);
        Assert.Equal("state-2", Encoding.UTF8.GetString(latest.State.Span));
    }

    [Fact]
    public async Task WriteSnapshot_PastKept_DroppedHashesDeletedWithTheirSetMembers()
    {
        await using var store = new RedisPartitionStore(
            redis.ConnectionString, new RedisPartitionStoreOptions { KeyPrefix = _prefix, SnapshotsKept = 4 });
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([.. Enumerable.Range(1, 20).Select(i => Bytes($"{i}"))], Ct);

        for (var position = 1; position <= 20; position++)
        {
            await log.WriteSnapshotAsync(position, Bytes($"state-{position}"), Ct);
        }

        var held = await log.ListSnapshotsAsync(Ct);
        Assert.Equal(4, held.Count);
        Assert.Equal(held.Select(p => p.ToString(CultureInfo.InvariantCulture)), await SnapshotHashPositionsAsync(0));
        Assert.Equal(4, await Raw.SortedSetLengthAsync(SnapshotsKey(0)));
    }

    [Fact]
    public async Task Trim_PastOlderSnapshots_DeletesTheirHashes()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([.. Enumerable.Range(1, 10).Select(i => Bytes($"{i}"))], Ct);
        await log.WriteSnapshotAsync(2, Bytes("state-2"), Ct);
        await log.WriteSnapshotAsync(6, Bytes("state-6"), Ct);
        await log.WriteSnapshotAsync(9, Bytes("state-9"), Ct);

        await log.TrimAsync(6, Ct);

        Assert.Equal(6, log.FirstPosition);
        Assert.Equal(["6", "9"], await SnapshotHashPositionsAsync(0));
        Assert.Equal(["6", "9"], (await Raw.SortedSetRangeByRankAsync(SnapshotsKey(0))).Select(v => (string)v!));
    }

    [Fact]
    public async Task WriteSnapshot_BehindAHeadTrimmedByAnotherLogOfTheSameEpoch_RefusedByTheScript()
    {
        await using var store = NewStore();
        var trimmer = await store.OpenAsync(0, 1, Ct);
        var behind = await store.OpenAsync(0, 1, Ct);
        await trimmer.AppendAsync([Bytes("1"), Bytes("2"), Bytes("3")], Ct);
        await trimmer.WriteSnapshotAsync(4, Bytes("state-4"), Ct);
        await trimmer.TrimAsync(4, Ct);

        // This log still believes the log starts at 1, so only the script's own check can refuse.
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => behind.WriteSnapshotAsync(1, Bytes("stale"), Ct).AsTask());

        Assert.Equal(["4"], (await Raw.SortedSetRangeByRankAsync(SnapshotsKey(0))).Select(v => (string)v!));
        Assert.False(await Raw.KeyExistsAsync(SnapshotKey(0, 1)));
    }

    [Fact]
    public async Task WriteSnapshot_FencedOwner_ThrowsFencedAndKeepsNewerOwnersSnapshot()
    {
        await using var store = NewStore();
        var old = await store.OpenAsync(0, 1, Ct);
        var current = await store.OpenAsync(0, 2, Ct);
        await current.AppendAsync([Bytes("1")], Ct);
        await current.WriteSnapshotAsync(2, Bytes("current"), Ct);

        await Assert.ThrowsAsync<FencedException>(() => old.WriteSnapshotAsync(1, Bytes("old"), Ct).AsTask());

        var latest = await current.ReadLatestSnapshotAsync(Ct);
        Assert.Equal(2, latest?.Position);
    }

    [Fact]
    public async Task Open_AfterEveryEntryTrimmed_ContinuesAtSamePosition()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Bytes("1"), Bytes("2"), Bytes("3")], Ct);
        await log.WriteSnapshotAsync(4, Bytes("state-4"), Ct);
        await log.TrimAsync(4, Ct);

        var reopened = await store.OpenAsync(0, 2, Ct);
        await reopened.AppendAsync([Bytes("4")], Ct);

        Assert.Equal(4, reopened.FirstPosition);
        Assert.Equal(5, reopened.NextPosition);
        var entry = Assert.Single(await ReadAllAsync(reopened, 4));
        Assert.Equal(4, entry.Position);
    }

    [Fact]
    public async Task Open_StreamMissingEntriesInTheMiddle_ThrowsLogCorrupted()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Bytes("1"), Bytes("2"), Bytes("3")], Ct);
        await Raw.StreamDeleteAsync(LogKey(0), ["2-1"]);

        await Assert.ThrowsAsync<LogCorruptedException>(() => store.OpenAsync(0, 1, Ct).AsTask());
    }

    [Fact]
    public async Task Open_RedisUnreachable_ThrowsConnectionError()
    {
        await using var store = new RedisPartitionStore(
            $"127.0.0.1:{UnusedPort()}", new RedisPartitionStoreOptions { CommandTimeout = TimeSpan.FromSeconds(2) });

        await Assert.ThrowsAsync<RedisConnectionException>(() => store.OpenAsync(0, 1, Ct).AsTask());
    }

    [Fact]
    public async Task Append_CancelledBeforeCall_ThrowsAndWritesNothing()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => log.AppendAsync([Bytes("1")], new CancellationToken(canceled: true)).AsTask());

        Assert.Equal(1, log.NextPosition);
        Assert.False(await Raw.KeyExistsAsync(LogKey(0)));
    }

    /// <summary>Rewrites a stream with one field of one entry replaced, as bit rot or a bad restore would.</summary>
    private async Task RewriteStreamAsync(RedisKey key, string id, string field, string value)
    {
        var entries = await Raw.StreamRangeAsync(key);
        await Raw.KeyDeleteAsync(key);
        foreach (var entry in entries)
        {
            var values = entry.Values
                .Select(v => entry.Id == id && v.Name == field ? new NameValueEntry(v.Name, value) : v)
                .ToArray();
            await Raw.StreamAddAsync(key, values, entry.Id);
        }
    }

    private async Task<long> XrangeCallsAsync()
    {
        var info = (string?)await Raw.ExecuteAsync("INFO", "commandstats") ?? "";
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith("cmdstat_xrange:calls=", StringComparison.Ordinal))
            {
                var calls = line["cmdstat_xrange:calls=".Length..];
                return long.Parse(calls[..calls.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    internal static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    internal static string[] Texts(IEnumerable<LogEntry> entries) =>
        entries.Select(e => Encoding.UTF8.GetString(e.Data.Span)).ToArray();

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
