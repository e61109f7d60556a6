using CsCheck;
using static Veltrix.Storage.Tests.TestLog;

namespace Veltrix.Storage.Tests;

/// <summary>
/// What every <see cref="IPartitionStore"/> must do (DESIGN.md section 6: both stores pass one suite). A store
/// test class derives from this and supplies <see cref="CreateStoreAsync(int)"/>; each test gets its own storage.
/// </summary>
public abstract class PartitionStoreConformance
{
    private static int s_nextPropertyPartition = 1000;

    /// <summary>The default of both stores' <c>SnapshotsKept</c> option.</summary>
    protected const int DefaultSnapshotsKept = 32;

    /// <summary>
    /// A new store over this test's storage, holding at most <paramref name="snapshotsKept"/> snapshots per
    /// partition. Every call opens the same storage, so disposing one store and creating the next is a restart of
    /// the owning process.
    /// </summary>
    protected abstract Task<IPartitionStore> CreateStoreAsync(int snapshotsKept);

    /// <summary>
    /// Damages the stored snapshot of <paramref name="partition"/> taken at <paramref name="position"/> as bit rot
    /// would; returns where it is stored (file path, key name), which a corruption report must name.
    /// </summary>
    protected abstract Task<string> DamageSnapshotAsync(int partition, long position);

    private Task<IPartitionStore> CreateStoreAsync() => CreateStoreAsync(DefaultSnapshotsKept);

    [Fact]
    public async Task Open_NewPartition_EmptyLogStartingAtOne()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(2, 1, Ct);

        Assert.Equal(2, log.Partition);
        Assert.Equal(1, log.Epoch);
        Assert.Equal(1, log.NextPosition);
        Assert.Equal(1, log.FirstPosition);
        Assert.Empty(await ReadAllAsync(log, 1));
        Assert.Null(await log.ReadLatestSnapshotAsync(Ct));
    }

    [Fact]
    public async Task Append_OneCall_ReadsBackInOrderFromOne()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);

        await log.AppendAsync(Payloads(1, 5), Ct);

        Assert.Equal(6, log.NextPosition);
        AssertEntries(await ReadAllAsync(log, 1), 1, 6);
    }

    [Fact]
    public async Task Append_ManyCalls_NumberingContinuesWithoutGaps()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);

        var next = 1L;
        for (var call = 0; call < 40; call++)
        {
            var count = call % 4 + 1;
            await log.AppendAsync(Payloads(next, count), Ct);
            next += count;
            Assert.Equal(next, log.NextPosition);
        }

        AssertEntries(await ReadAllAsync(log, 1), 1, next);
    }

    [Fact]
    public async Task Append_EmptyList_ChangesNothing()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 2), Ct);

        await log.AppendAsync([], Ct);

        Assert.Equal(3, log.NextPosition);
        AssertEntries(await ReadAllAsync(log, 1), 1, 3);
    }

    [Fact]
    public async Task Append_EmptyEntries_StoredAsEmpty()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);

        await log.AppendAsync([ReadOnlyMemory<byte>.Empty, Payload(2), ReadOnlyMemory<byte>.Empty], Ct);

        var entries = await ReadAllAsync(log, 1);
        Assert.Equal([0, Payload(2).Length, 0], entries.Select(e => e.Data.Length));
    }

    [Fact]
    public async Task Reopen_AfterRestart_SeesEverythingAppendedAndContinuesNumbering()
    {
        await using (var store = await CreateStoreAsync())
        {
            var log = await store.OpenAsync(1, 1, Ct);
            await log.AppendAsync(Payloads(1, 3), Ct);
            await log.AppendAsync(Payloads(4, 2), Ct);
            await log.DisposeAsync();
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(1, 1, Ct);
            Assert.Equal(6, log.NextPosition);
            Assert.Equal(1, log.FirstPosition);
            AssertEntries(await ReadAllAsync(log, 1), 1, 6);

            await log.AppendAsync(Payloads(6, 1), Ct);
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(1, 1, Ct);
            AssertEntries(await ReadAllAsync(log, 1), 1, 7);
        }
    }

    [Fact]
    public async Task ReadTransient_EntriesSmallerAndLargerThanAChunk_SameEntriesAsReadWhenEachIsUsedAtOnce()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        // Sizes around the read chunks and past them, so entries straddle chunk ends and one outgrows the buffer.
        int[] sizes = [10, 70_000, 3, 65_536, 200_000, 1, 40_000, 40_000, 0, 128_000, 7];
        var position = 1L;
        foreach (var size in sizes)
        {
            await log.AppendAsync([Payload(position, size), Payload(position + 1, size / 2)], Ct);
            position += 2;
        }

        var kept = await ReadAllAsync(log, 3);
        var transient = new List<(long Position, byte[] Data)>();
        await foreach (var entry in log.ReadTransientAsync(3, Ct))
        {
            transient.Add((entry.Position, entry.Data.ToArray()));
        }

        Assert.Equal(kept.Select(e => (e.Position, e.Data.ToArray())), transient, (a, b) => a.Item1 == b.Item1 && a.Item2.AsSpan().SequenceEqual(b.Item2));
        Assert.Equal(position - 3, transient.Count);
    }

    [Fact]
    public async Task Read_FromMiddle_StartsAtThatPosition()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        for (var position = 1L; position <= 60; position += 6)
        {
            await log.AppendAsync(Payloads(position, 6), Ct);
        }

        AssertEntries(await ReadAllAsync(log, 27), 27, 61);
        AssertEntries(await ReadAllAsync(log, 60), 60, 61);
        Assert.Empty(await ReadAllAsync(log, 61));
    }

    [Fact]
    public async Task Snapshot_WrittenTwice_LatestIsTheNewestAlsoAfterRestart()
    {
        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.AppendAsync(Payloads(1, 5), Ct);

            await log.WriteSnapshotAsync(3, State("after 2"), Ct);
            await log.WriteSnapshotAsync(6, State("after 5"), Ct);

            AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), 6, "after 5");
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), 6, "after 5");
        }
    }

    [Fact]
    public async Task Trim_BeforeNewestSnapshot_KeepsEntriesFromThatPositionOn()
    {
        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            for (var position = 1L; position <= 200; position += 5)
            {
                await log.AppendAsync(Payloads(position, 5), Ct);
            }

            await log.WriteSnapshotAsync(150, State("after 149"), Ct);
            await log.TrimAsync(120, Ct);

            AssertTrimmedTo(log, 120, 201);
            AssertEntries(await ReadAllAsync(log, 120), 120, 201);
            AssertEntries(await ReadAllAsync(log, log.FirstPosition), log.FirstPosition, 201);
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            AssertTrimmedTo(log, 120, 201);
            AssertEntries(await ReadAllAsync(log, 120), 120, 201);
        }
    }

    [Fact]
    public async Task Trim_PastNewestSnapshot_RefusedAndNothingDropped()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 20), Ct);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => log.TrimAsync(2, Ct).AsTask());
        await log.WriteSnapshotAsync(10, State("after 9"), Ct);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => log.TrimAsync(11, Ct).AsTask());

        Assert.Equal(1, log.FirstPosition);
        AssertEntries(await ReadAllAsync(log, 1), 1, 21);
    }

    [Fact]
    public async Task Open_HigherEpoch_FencesLowerOwnerWhoseAppendWritesNothing()
    {
        await using (var store = await CreateStoreAsync())
        {
            var stale = await store.OpenAsync(0, 1, Ct);
            await stale.AppendAsync(Payloads(1, 2), Ct);

            await using var owner = await store.OpenAsync(0, 2, Ct);
            var fenced = await Assert.ThrowsAsync<FencedException>(() => stale.AppendAsync([State("stale")], Ct).AsTask());

            Assert.Equal(0, fenced.Partition);
            Assert.Equal(1, fenced.Epoch);
            Assert.Equal(2, fenced.OwnerEpoch);
            Assert.Equal(3, owner.NextPosition);
            await owner.AppendAsync(Payloads(3, 1), Ct);
            AssertEntries(await ReadAllAsync(owner, 1), 1, 4);
            await stale.DisposeAsync();
        }

        await using (var store = await CreateStoreAsync())
        {
            var refused = await Assert.ThrowsAsync<FencedException>(() => store.OpenAsync(0, 1, Ct).AsTask());
            Assert.Equal(2, refused.OwnerEpoch);

            await using var owner = await store.OpenAsync(0, 2, Ct);
            AssertEntries(await ReadAllAsync(owner, 1), 1, 4);
        }
    }

    [Fact]
    public async Task Open_EpochLowerThanRecorded_FencedAfterRestart()
    {
        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(4, 7, Ct);
            await log.AppendAsync(Payloads(1, 1), Ct);
        }

        await using (var store = await CreateStoreAsync())
        {
            var fenced = await Assert.ThrowsAsync<FencedException>(() => store.OpenAsync(4, 6, Ct).AsTask());

            Assert.Equal(4, fenced.Partition);
            Assert.Equal(6, fenced.Epoch);
            Assert.Equal(7, fenced.OwnerEpoch);
        }
    }

    [Fact]
    public async Task Append_OneMebibyteEntries_RoundTripAcrossRestart()
    {
        var big = Enumerable.Range(1, 4).Select(p => Payload(p, 1 << 20)).ToArray();
        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.AppendAsync([big[0], big[1]], Ct);
            await log.AppendAsync([big[2]], Ct);
            await log.AppendAsync([big[3]], Ct);
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            var entries = await ReadAllAsync(log, 1);

            Assert.Equal(4, entries.Count);
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(i + 1, entries[i].Position);
                Assert.True(entries[i].Data.Span.SequenceEqual(big[i]), $"entry {i + 1} differs");
            }

            AssertEntries(await ReadAllAsync(log, 3), 3, 5, _ => 1 << 20);
        }
    }

    [Fact]
    public async Task Append_TenThousandSmallEntries_RoundTripAcrossRestart()
    {
        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.AppendAsync(Payloads(1, 5_000, SmallSize), Ct);
            for (var position = 5_001L; position <= 10_000; position += 100)
            {
                await log.AppendAsync(Payloads(position, 100, SmallSize), Ct);
            }

            Assert.Equal(10_001, log.NextPosition);
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal(10_001, log.NextPosition);
            AssertEntries(await ReadAllAsync(log, 1), 1, 10_001, SmallSize);
            AssertEntries(await ReadAllAsync(log, 7_777), 7_777, 10_001, SmallSize);
        }
    }

    [Fact]
    public async Task Partitions_WrittenSideBySide_StayIndependent()
    {
        await using (var store = await CreateStoreAsync())
        {
            await using var left = await store.OpenAsync(0, 1, Ct);
            await using var right = await store.OpenAsync(1, 3, Ct);

            await left.AppendAsync(Payloads(1, 30), Ct);
            await right.AppendAsync(Payloads(1, 4), Ct);
            await left.WriteSnapshotAsync(25, State("left"), Ct);
            await left.TrimAsync(25, Ct);

            Assert.Equal(31, left.NextPosition);
            Assert.Equal(5, right.NextPosition);
            Assert.Equal(1, right.FirstPosition);
            Assert.Null(await right.ReadLatestSnapshotAsync(Ct));
            AssertEntries(await ReadAllAsync(right, 1), 1, 5);
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var right = await store.OpenAsync(1, 3, Ct);
            await using var left = await store.OpenAsync(0, 1, Ct);

            AssertEntries(await ReadAllAsync(right, 1), 1, 5);
            AssertEntries(await ReadAllAsync(left, 25), 25, 31);
            AssertSnapshot(await left.ReadLatestSnapshotAsync(Ct), 25, "left");
        }
    }

    [Fact]
    public async Task Store_SnapshotsKeptBelowTwo_Refused()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => CreateStoreAsync(1));
    }

    [Fact]
    public async Task Read_EntriesAppendedAfterTheCall_NotPartOfTheRead()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 5), Ct);

        var read = log.ReadAsync(2, Ct);
        await log.AppendAsync(Payloads(6, 3), Ct);

        var entries = new List<LogEntry>();
        await foreach (var entry in read)
        {
            entries.Add(entry);
        }

        AssertEntries(entries, 2, 6);
        AssertEntries(await ReadAllAsync(log, 2), 2, 9);
    }

    [Fact]
    public async Task Read_FromPastTheEnd_Refused()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 3), Ct);

        Assert.Throws<ArgumentOutOfRangeException>(() => log.ReadAsync(5, Ct));
        Assert.Empty(await ReadAllAsync(log, 4));
    }

    [Fact]
    public async Task ListSnapshots_WrittenOutOfOrder_OldestFirstAlsoAfterRestart()
    {
        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Empty(await log.ListSnapshotsAsync(Ct));
            await log.AppendAsync(Payloads(1, 12), Ct);

            await log.WriteSnapshotAsync(7, State("after 6"), Ct);
            await log.WriteSnapshotAsync(3, State("after 2"), Ct);
            await log.WriteSnapshotAsync(11, State("after 10"), Ct);
            await log.WriteSnapshotAsync(5, State("after 4"), Ct);

            Assert.Equal([3L, 5, 7, 11], await log.ListSnapshotsAsync(Ct));
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal([3L, 5, 7, 11], await log.ListSnapshotsAsync(Ct));
            AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), 11, "after 10");
        }
    }

    [Fact]
    public async Task ReadSnapshot_ExactPosition_ThatSnapshotAndNullWhereNoneIsHeld()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        Assert.Null(await log.ReadSnapshotAsync(1, Ct));
        await log.AppendAsync(Payloads(1, 9), Ct);
        await log.WriteSnapshotAsync(4, State("after 3"), Ct);
        await log.WriteSnapshotAsync(8, State("after 7"), Ct);

        AssertSnapshot(await log.ReadSnapshotAsync(4, Ct), 4, "after 3");
        AssertSnapshot(await log.ReadSnapshotAsync(8, Ct), 8, "after 7");
        Assert.Null(await log.ReadSnapshotAsync(5, Ct));
        Assert.Null(await log.ReadSnapshotAsync(9, Ct));
        Assert.Null(await log.ReadSnapshotAsync(1_000, Ct));
    }

    [Fact]
    public async Task WriteSnapshot_SamePositionAgain_ReplacesItAndIsListedOnce()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 4), Ct);

        await log.WriteSnapshotAsync(3, State("first"), Ct);
        await log.WriteSnapshotAsync(3, State("second"), Ct);

        Assert.Equal([3L], await log.ListSnapshotsAsync(Ct));
        AssertSnapshot(await log.ReadSnapshotAsync(3, Ct), 3, "second");
    }

    [Fact]
    public async Task WriteSnapshot_OutsideTheLog_RefusedAndNothingListed()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 3), Ct);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.WriteSnapshotAsync(5, State("x"), Ct).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.WriteSnapshotAsync(0, State("x"), Ct).AsTask());

        Assert.Empty(await log.ListSnapshotsAsync(Ct));
    }

    /// <summary>
    /// Forty snapshots one position apart into eight places. The expected positions are what the retention rule
    /// gives (drop the interior snapshot whose removal leaves the smallest gap, the older one on a tie); dropping
    /// the oldest instead would hold 33 to 40.
    /// </summary>
    [Fact]
    public async Task WriteSnapshot_FortyWithEightKept_KeepsOldestAndNewestAndSpreadsTheRest()
    {
        long[] expected = [1, 9, 13, 19, 22, 27, 34, 40];
        await using (var store = await CreateStoreAsync(snapshotsKept: 8))
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.AppendAsync(Payloads(1, 40), Ct);
            for (var position = 1L; position <= 40; position++)
            {
                await log.WriteSnapshotAsync(position, State($"at {position}"), Ct);
                Assert.Equal(Math.Min(position, 8), (await log.ListSnapshotsAsync(Ct)).Count);
            }

            var held = await log.ListSnapshotsAsync(Ct);
            Assert.Equal(expected, held);
            for (var i = 1; i < held.Count; i++)
            {
                Assert.True(held[i] - held[i - 1] >= 3, $"snapshots {held[i - 1]} and {held[i]} are bunched");
            }

            foreach (var position in held)
            {
                AssertSnapshot(await log.ReadSnapshotAsync(position, Ct), position, $"at {position}");
            }

            Assert.Null(await log.ReadSnapshotAsync(2, Ct));
            Assert.Null(await log.ReadSnapshotAsync(39, Ct));
            AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), 40, "at 40");
        }

        await using (var store = await CreateStoreAsync(snapshotsKept: 8))
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal(expected, await log.ListSnapshotsAsync(Ct));
        }
    }

    [Fact]
    public async Task WriteSnapshot_TwoKept_KeepsOnlyOldestAndNewest()
    {
        await using var store = await CreateStoreAsync(snapshotsKept: 2);
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 9), Ct);

        await log.WriteSnapshotAsync(2, State("a"), Ct);
        await log.WriteSnapshotAsync(5, State("b"), Ct);
        await log.WriteSnapshotAsync(9, State("c"), Ct);

        Assert.Equal([2L, 9], await log.ListSnapshotsAsync(Ct));
        Assert.Null(await log.ReadSnapshotAsync(5, Ct));
    }

    [Fact]
    public async Task Trim_WithOlderSnapshots_DropsThoseBeforeFirstPositionAndKeepsTheRest()
    {
        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            for (var position = 1L; position <= 200; position += 5)
            {
                await log.AppendAsync(Payloads(position, 5), Ct);
            }

            long[] written = [20, 60, 100, 150, 190];
            foreach (var position in written)
            {
                await log.WriteSnapshotAsync(position, State($"at {position}"), Ct);
            }

            await log.TrimAsync(150, Ct);

            // Redis trims exactly; embedded by whole 4 KiB segments of about 25 entries: past 100 either way.
            AssertTrimmedTo(log, 150, 201);
            Assert.True(log.FirstPosition > 100, $"the log still starts at {log.FirstPosition}");
            Assert.Equal([150L, 190], await log.ListSnapshotsAsync(Ct));
            Assert.Null(await log.ReadSnapshotAsync(20, Ct));
            Assert.Null(await log.ReadSnapshotAsync(100, Ct));
            AssertSnapshot(await log.ReadSnapshotAsync(150, Ct), 150, "at 150");
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal([150L, 190], await log.ListSnapshotsAsync(Ct));
            AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), 190, "at 190");
        }
    }

    [Fact]
    public async Task WriteSnapshot_FencedOwner_ThrowsFencedAndWritesNothing()
    {
        await using (var store = await CreateStoreAsync())
        {
            var stale = await store.OpenAsync(0, 1, Ct);
            await stale.AppendAsync(Payloads(1, 3), Ct);
            await using var owner = await store.OpenAsync(0, 2, Ct);

            var fenced = await Assert.ThrowsAsync<FencedException>(() => stale.WriteSnapshotAsync(4, State("stale"), Ct).AsTask());

            Assert.Equal(2, fenced.OwnerEpoch);
            Assert.Empty(await owner.ListSnapshotsAsync(Ct));
            Assert.Null(await owner.ReadLatestSnapshotAsync(Ct));
            await stale.DisposeAsync();
        }

        await using (var store = await CreateStoreAsync())
        {
            await using var owner = await store.OpenAsync(0, 2, Ct);
            Assert.Empty(await owner.ListSnapshotsAsync(Ct));
        }
    }

    [Fact]
    public async Task ReadSnapshot_Damaged_ThrowsCorruptionNamingPositionAndPlaceWhileLatestFallsBack()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(3, 1, Ct);
        await log.AppendAsync(Payloads(1, 6), Ct);
        await log.WriteSnapshotAsync(3, State("after 2"), Ct);
        await log.WriteSnapshotAsync(6, State("after 5"), Ct);

        var place = await DamageSnapshotAsync(3, 6);

        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => log.ReadSnapshotAsync(6, Ct).AsTask());
        Assert.Equal(3, corrupt.Partition);
        Assert.Equal(6, corrupt.Position);
        Assert.Contains(place, corrupt.Where, StringComparison.Ordinal);
        AssertSnapshot(await log.ReadSnapshotAsync(3, Ct), 3, "after 2");
        AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), 3, "after 2");
        Assert.Equal([3L, 6], await log.ListSnapshotsAsync(Ct));
    }

    [Fact]
    public async Task ReadLatestSnapshot_EveryOneDamaged_ThrowsCorruptionOfTheNewest()
    {
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 6), Ct);
        await log.WriteSnapshotAsync(3, State("after 2"), Ct);
        await log.WriteSnapshotAsync(6, State("after 5"), Ct);

        await DamageSnapshotAsync(0, 3);
        await DamageSnapshotAsync(0, 6);

        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => log.ReadLatestSnapshotAsync(Ct).AsTask());
        Assert.Equal(6, corrupt.Position);
    }

    /// <summary>
    /// The partition loop appends while a background task reads the log from the start and takes snapshots, as a
    /// rollback does. Every read is a gapless prefix holding at least what was acknowledged before it started.
    /// </summary>
    [Fact]
    public async Task Log_AppendsBesideReadsAndSnapshots_EveryReadIsAnIntactPrefix()
    {
        const int Total = 2_000;
        await using var store = await CreateStoreAsync();
        await using var log = await store.OpenAsync(0, 1, Ct);

        // Embedded appends complete synchronously and could all be done before the reader's task gets a thread:
        // every so often the appender waits for the reader to finish a read, which then ran beside the appends.
        using var readDone = new SemaphoreSlim(0);
        var checkpoints = 0;
        var appender = Task.Run(async () =>
        {
            var calls = 0;
            for (var next = 1L; next <= Total;)
            {
                // 1 to 4 entries a call, about 800 calls.
                var count = (int)Math.Min(calls % 4 + 1, Total + 1 - next);
                await log.AppendAsync(Payloads(next, count), Ct);
                next += count;
                if (++calls % 150 == 0)
                {
                    while (readDone.Wait(0))
                    {
                    }

                    Assert.True(await readDone.WaitAsync(TimeSpan.FromSeconds(30)), "the reader stalled");
                    checkpoints++;
                }
            }
        });

        var besideAppends = 0;
        var background = Task.Run(async () =>
        {
            var last = false;
            while (!last)
            {
                last = appender.IsCompleted;
                var acknowledged = log.NextPosition - 1;
                var entries = await ReadAllAsync(log, 1);
                Assert.InRange(entries.Count, acknowledged, Total);
                AssertEntries(entries, 1, entries.Count + 1);
                besideAppends += last ? 0 : 1;
                readDone.Release();

                var at = entries.Count + 1L;
                await log.WriteSnapshotAsync(at, State($"at {at}"), Ct);
                var held = await log.ListSnapshotsAsync(Ct);
                Assert.Equal(at, held[^1]);
                Assert.InRange(held.Count, 1, DefaultSnapshotsKept);
                AssertSnapshot(await log.ReadSnapshotAsync(at, Ct), at, $"at {at}");
                AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), at, $"at {at}");
            }
        });

        await Task.WhenAll(appender, background);

        Assert.Equal(Total + 1, log.NextPosition);
        Assert.True(checkpoints >= 4, $"{checkpoints} checkpoints");
        Assert.True(besideAppends >= checkpoints, $"{besideAppends} reads ran while appends did");
        AssertEntries(await ReadAllAsync(log, 1), 1, Total + 1);
        AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), Total + 1, $"at {Total + 1}");
    }

    /// <summary>
    /// Random runs of appends, snapshots, trims and restarts: after each step the log holds exactly what was
    /// acknowledged, from at most the trim point on, and the newest snapshot is the last one written.
    /// </summary>
    [Fact]
    public async Task Log_RandomAppendsSnapshotsTrimsAndRestarts_HoldsExactlyWhatWasAcknowledged()
    {
        var step = Gen.Frequency(
            (6, Gen.Int[0, 300].Array[0, 8].Select(sizes => (Step)new AppendStep(sizes))),
            (1, Gen.Const((Step)new RestartStep())),
            (1, Gen.Const((Step)new SnapshotStep())),
            (1, Gen.Int[0, 100].Select(percent => (Step)new TrimStep(percent))));

        await step.Array[1, 30].SampleAsync(RunAsync, iter: 60, threads: 1);

        async Task RunAsync(Step[] steps)
        {
            var partition = Interlocked.Increment(ref s_nextPropertyPartition);
            var sizes = new List<int>();
            var written = new SortedSet<long>();
            var (snapshot, trimmedTo) = (0L, 1L);
            var store = await CreateStoreAsync();
            var log = await store.OpenAsync(partition, 1, Ct);
            try
            {
                foreach (var current in steps)
                {
                    switch (current)
                    {
                        case AppendStep append:
                            var first = sizes.Count + 1;
                            await log.AppendAsync(append.Sizes.Select((size, i) => (ReadOnlyMemory<byte>)Payload(first + i, size)).ToArray(), Ct);
                            sizes.AddRange(append.Sizes);
                            break;
                        case RestartStep:
                            await log.DisposeAsync();
                            await store.DisposeAsync();
                            store = await CreateStoreAsync();
                            log = await store.OpenAsync(partition, 1, Ct);
                            break;
                        case SnapshotStep:
                            snapshot = log.NextPosition;
                            await log.WriteSnapshotAsync(snapshot, State($"at {snapshot}"), Ct);
                            written.Add(snapshot);
                            break;
                        case TrimStep trim when snapshot > 0:
                            var before = log.FirstPosition + (snapshot - log.FirstPosition) * trim.Percent / 100;
                            await log.TrimAsync(before, Ct);
                            trimmedTo = Math.Max(trimmedTo, before);
                            break;
                    }

                    Assert.Equal(sizes.Count + 1, log.NextPosition);
                    AssertTrimmedTo(log, trimmedTo, sizes.Count + 1);

                    // At most 30 steps stay under the default retention, so only trims drop snapshots.
                    Assert.Equal(written.Where(p => p >= log.FirstPosition), await log.ListSnapshotsAsync(Ct));
                }

                AssertEntries(await ReadAllAsync(log, log.FirstPosition), log.FirstPosition, sizes.Count + 1, p => sizes[(int)p - 1]);
                if (snapshot > 0)
                {
                    AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), snapshot, $"at {snapshot}");
                }
            }
            finally
            {
                await log.DisposeAsync();
                await store.DisposeAsync();
            }
        }
    }

    /// <summary>A store may keep more than a trim asked to drop, never less than from the trim point on.</summary>
    private static void AssertTrimmedTo(IPartitionLog log, long trimmedTo, long next)
    {
        Assert.InRange(log.FirstPosition, 1, trimmedTo);
        Assert.Equal(next, log.NextPosition);
    }

    private abstract record Step;

    private sealed record AppendStep(int[] Sizes) : Step;

    private sealed record RestartStep : Step;

    private sealed record SnapshotStep : Step;

    private sealed record TrimStep(int Percent) : Step;
}
