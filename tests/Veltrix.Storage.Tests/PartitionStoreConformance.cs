using CsCheck;
using static Veltrix.Storage.Tests.TestLog;

namespace Veltrix.Storage.Tests;

/// <summary>
/// What every <see cref="IPartitionStore"/> must do (DESIGN.md section 6: both stores pass one suite). A store
/// test class derives from this and supplies <see cref="CreateStoreAsync"/>; each test gets its own storage.
/// </summary>
public abstract class PartitionStoreConformance
{
    private static int s_nextPropertyPartition = 1000;

    /// <summary>
    /// A new store over this test's storage. Every call opens the same storage, so disposing one store and
    /// creating the next is a restart of the owning process.
    /// </summary>
    protected abstract Task<IPartitionStore> CreateStoreAsync();

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
                            break;
                        case TrimStep trim when snapshot > 0:
                            var before = log.FirstPosition + (snapshot - log.FirstPosition) * trim.Percent / 100;
                            await log.TrimAsync(before, Ct);
                            trimmedTo = Math.Max(trimmedTo, before);
                            break;
                    }

                    Assert.Equal(sizes.Count + 1, log.NextPosition);
                    AssertTrimmedTo(log, trimmedTo, sizes.Count + 1);
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
