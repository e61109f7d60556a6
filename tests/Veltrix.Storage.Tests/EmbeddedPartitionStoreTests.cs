using System.Diagnostics;
using static Veltrix.Storage.Tests.TestLog;

namespace Veltrix.Storage.Tests;

/// <summary>
/// What only the embedded store has to prove: recovery of its segment files after a crash or damage, snapshot
/// fallback, segment roll-over and trimming, and the lock that keeps a second process out of a partition.
/// </summary>
public sealed class EmbeddedPartitionStoreTests : IDisposable
{
    private const long DefaultSegmentBytes = 64L * 1024 * 1024;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"veltrix-embedded-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task Reopen_LastRecordCutMidway_TornTailDroppedAndAppendingResumes()
    {
        var ends = await AppendOneByOneAsync(0, 5);
        CutTo(SegmentPath(0, 1), ends[3] + 10);

        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal(5, log.NextPosition);
            Assert.Equal(ends[3], new FileInfo(SegmentPath(0, 1)).Length);
            AssertEntries(await ReadAllAsync(log, 1), 1, 5);

            await log.AppendAsync([Payload(5)], Ct);
        }

        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            AssertEntries(await ReadAllAsync(log, 1), 1, 6);
        }
    }

    [Fact]
    public async Task Reopen_ByteFlippedInLastRecord_TornTailDropped()
    {
        var ends = await AppendOneByOneAsync(0, 5);
        FlipByte(SegmentPath(0, 1), ends[3] + 30);

        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);

        Assert.Equal(5, log.NextPosition);
        Assert.Equal(ends[3], new FileInfo(SegmentPath(0, 1)).Length);
        AssertEntries(await ReadAllAsync(log, 1), 1, 5);
    }

    [Fact]
    public async Task Reopen_LastHeaderCutShort_TornTailDropped()
    {
        var ends = await AppendOneByOneAsync(0, 3);
        CutTo(SegmentPath(0, 1), ends[1] + 7);

        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);

        Assert.Equal(3, log.NextPosition);
        Assert.Equal(ends[1], new FileInfo(SegmentPath(0, 1)).Length);
    }

    [Fact]
    public async Task Reopen_UnfinishedAppendCall_DroppedAsAWhole()
    {
        var (endA, endB) = await AppendTwoCallsAsync();
        CutTo(SegmentPath(0, 1), endA + (endB - endA) * 3 / 4);

        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);

        Assert.Equal(4, log.NextPosition);
        Assert.Equal(endA, new FileInfo(SegmentPath(0, 1)).Length);
        AssertEntries(await ReadAllAsync(log, 1), 1, 4);
    }

    [Fact]
    public async Task Reopen_DamageInLastCallWithItsLaterRecordsIntact_CallDropped()
    {
        // Pages of one write can reach the disk out of order: a hole inside the unfinished call is a torn tail.
        var (endA, _) = await AppendTwoCallsAsync();
        FlipByte(SegmentPath(0, 1), endA + 30);

        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);

        Assert.Equal(4, log.NextPosition);
        Assert.Equal(endA, new FileInfo(SegmentPath(0, 1)).Length);
    }

    [Fact]
    public async Task Reopen_DamagedRecordFollowedByLaterAppend_ThrowsCorruptionNamingPositionFileAndOffset()
    {
        var ends = await AppendOneByOneAsync(0, 10);
        FlipByte(SegmentPath(0, 1), ends[2] + 30);

        await using var store = NewStore();
        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => store.OpenAsync(0, 1, Ct).AsTask());

        Assert.Equal(0, corrupt.Partition);
        Assert.Equal(4, corrupt.Position);
        Assert.Contains(SegmentPath(0, 1), corrupt.Where, StringComparison.Ordinal);
        Assert.Contains($"byte {ends[2]}", corrupt.Where, StringComparison.Ordinal);
        Assert.Equal(ends[9], new FileInfo(SegmentPath(0, 1)).Length);
    }

    [Fact]
    public async Task Reopen_DamagedLengthFieldMidLog_ThrowsCorruptionInsteadOfTakingItForATornTail()
    {
        // Byte 7 of a record header is the high byte of its payload length: the record now claims to run past
        // the end of the file, like a cut-short last record would.
        var ends = await AppendOneByOneAsync(0, 10);
        FlipByte(SegmentPath(0, 1), ends[2] + 7);

        await using var store = NewStore();
        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => store.OpenAsync(0, 1, Ct).AsTask());

        Assert.Equal(4, corrupt.Position);
        Assert.Contains($"byte {ends[2]}", corrupt.Where, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopen_DamageAtEndOfEarlierSegment_ThrowsCorruption()
    {
        await AppendOneByOneAsync(0, 20, segmentBytes: 1024);
        var segments = SegmentPaths(0);
        Assert.True(segments.Length >= 3);
        FlipByte(segments[0], new FileInfo(segments[0]).Length - 5);

        await using var store = NewStore(1024);
        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => store.OpenAsync(0, 1, Ct).AsTask());

        Assert.Contains(segments[0], corrupt.Where, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopen_SegmentMissingInTheMiddle_ThrowsCorruptionAtTheGap()
    {
        await AppendOneByOneAsync(0, 20, segmentBytes: 1024);
        var segments = SegmentPaths(0);
        Assert.True(segments.Length >= 3);
        var missingFrom = FirstPositionOf(segments[1]);
        File.Delete(segments[1]);

        await using var store = NewStore(1024);
        var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => store.OpenAsync(0, 1, Ct).AsTask());

        Assert.Equal(missingFrom, corrupt.Position);
        Assert.Contains(segments[2], corrupt.Where, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopen_DamagedTailBeforeNewestSnapshot_ThrowsInsteadOfDroppingAcknowledgedEntries()
    {
        var ends = await AppendOneByOneAsync(0, 5);
        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.WriteSnapshotAsync(6, State("after 5"), Ct);
        }

        FlipByte(SegmentPath(0, 1), ends[3] + 30);

        await using (var store = NewStore())
        {
            var corrupt = await Assert.ThrowsAsync<LogCorruptedException>(() => store.OpenAsync(0, 1, Ct).AsTask());
            Assert.Equal(5, corrupt.Position);
            Assert.Equal(ends[4], new FileInfo(SegmentPath(0, 1)).Length);
        }
    }

    [Fact]
    public async Task Reopen_NewSegmentHoldingOnlyATornRecord_TornTailDroppedAndAppendsContinueThere()
    {
        // A crash right after a roll: the new segment exists, its first call never finished.
        await AppendOneByOneAsync(0, 3);
        var torn = SegmentPath(0, 4);
        await File.WriteAllBytesAsync(torn, new byte[17]);

        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal(4, log.NextPosition);
            Assert.Equal(0, new FileInfo(torn).Length);
            await log.AppendAsync([Payload(4)], Ct);
        }

        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            AssertEntries(await ReadAllAsync(log, 1), 1, 5);
            AssertEntries(await ReadAllAsync(log, 4), 4, 5);
        }
    }

    [Fact]
    public async Task Reopen_LeftoverTemporaryFiles_Removed()
    {
        await AppendOneByOneAsync(0, 2);
        var leftover = Path.Combine(PartitionDirectory(0), "snap-00000000000000000002.bin.tmp");
        await File.WriteAllBytesAsync(leftover, new byte[10]);

        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);

        Assert.False(File.Exists(leftover));
        Assert.Null(await log.ReadLatestSnapshotAsync(Ct));
    }

    [Fact]
    public async Task Snapshot_NewestDamaged_FallsBackToThePreviousOne()
    {
        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 5), Ct);
        await log.WriteSnapshotAsync(3, State("after 2"), Ct);
        await log.WriteSnapshotAsync(5, State("after 4"), Ct);

        FlipByte(SnapshotPath(0, 5), 30);

        var snapshot = await log.ReadLatestSnapshotAsync(Ct);
        Assert.NotNull(snapshot);
        Assert.Equal(3, snapshot.Position);
        Assert.Equal("after 2", System.Text.Encoding.UTF8.GetString(snapshot.State.Span));
    }

    [Fact]
    public async Task Snapshot_NewestCutShort_FallsBackToThePreviousOneAfterRestart()
    {
        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.AppendAsync(Payloads(1, 5), Ct);
            await log.WriteSnapshotAsync(3, State("after 2"), Ct);
            await log.WriteSnapshotAsync(5, State("after 4 and then some"), Ct);
        }

        CutTo(SnapshotPath(0, 5), new FileInfo(SnapshotPath(0, 5)).Length - 4);

        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            var snapshot = await log.ReadLatestSnapshotAsync(Ct);
            Assert.Equal(3, snapshot?.Position);
        }
    }

    [Fact]
    public async Task Snapshot_MoreThanKept_FileOfTheDroppedOneDeleted()
    {
        await using var store = NewStore(snapshotsKept: 2);
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 9), Ct);

        await log.WriteSnapshotAsync(2, State("a"), Ct);
        await log.WriteSnapshotAsync(5, State("b"), Ct);
        await log.WriteSnapshotAsync(9, State("c"), Ct);

        Assert.Equal([SnapshotName(2), SnapshotName(9)], SnapshotFiles(0));
    }

    [Fact]
    public async Task Reopen_MoreSnapshotFilesThanKept_ThinnedByTheRetentionRule()
    {
        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.AppendAsync(Payloads(1, 9), Ct);
            foreach (var position in new long[] { 1, 2, 4, 8, 9 })
            {
                await log.WriteSnapshotAsync(position, State($"at {position}"), Ct);
            }
        }

        await using (var store = NewStore(snapshotsKept: 3))
        {
            await using var log = await store.OpenAsync(0, 1, Ct);

            // 2 goes first (its neighbours are 3 apart), then 8 (4 to 9 is 5 apart, against 1 to 8 for 4).
            Assert.Equal([1L, 4, 9], await log.ListSnapshotsAsync(Ct));
            Assert.Equal([SnapshotName(1), SnapshotName(4), SnapshotName(9)], SnapshotFiles(0));
        }
    }

    [Fact]
    public async Task Reopen_SnapshotFileBeforeTheLog_Deleted()
    {
        await AppendOneByOneAsync(0, 60, segmentBytes: 1024);
        var firsts = SegmentPaths(0).Select(FirstPositionOf).ToArray();
        await using (var store = NewStore(1024))
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.WriteSnapshotAsync(5, State("after 4"), Ct);
            await log.WriteSnapshotAsync(61, State("after 60"), Ct);
        }

        // What a crash between deleting segments and deleting their snapshots would leave.
        File.Delete(SegmentPaths(0)[0]);

        await using (var store = NewStore(1024))
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal(firsts[1], log.FirstPosition);
            Assert.Equal([61L], await log.ListSnapshotsAsync(Ct));
            Assert.Equal([SnapshotName(61)], SnapshotFiles(0));
        }
    }

    [Fact]
    public async Task Snapshot_OutsideTheLog_Refused()
    {
        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 3), Ct);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.WriteSnapshotAsync(5, State("x"), Ct).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.WriteSnapshotAsync(0, State("x"), Ct).AsTask());
        Assert.Empty(Directory.GetFiles(PartitionDirectory(0), "snap-*"));
    }

    [Fact]
    public async Task Append_PastSegmentSize_RollsToSegmentsNamedByTheirFirstPosition()
    {
        await AppendOneByOneAsync(0, 30, segmentBytes: 1024);

        var segments = SegmentPaths(0);
        Assert.True(segments.Length >= 3, $"{segments.Length} segments");
        Assert.Equal(1, FirstPositionOf(segments[0]));
        foreach (var segment in segments[..^1])
        {
            Assert.InRange(new FileInfo(segment).Length, 1024, 1024 + 24 + 300);
        }

        await using var store = NewStore(1024);
        await using var log = await store.OpenAsync(0, 1, Ct);
        Assert.Equal(31, log.NextPosition);
        for (var i = 0; i < segments.Length; i++)
        {
            var first = FirstPositionOf(segments[i]);
            var next = i + 1 < segments.Length ? FirstPositionOf(segments[i + 1]) : 31;
            Assert.True(next > first, $"segment {Path.GetFileName(segments[i])} holds nothing");
            AssertEntries(await ReadAllAsync(log, first), first, 31);
        }
    }

    [Fact]
    public async Task Trim_BeforePosition_DeletesExactlyTheWholeSegmentsBeforeIt()
    {
        await AppendOneByOneAsync(0, 60, segmentBytes: 1024);
        var firsts = SegmentPaths(0).Select(FirstPositionOf).ToArray();
        Assert.True(firsts.Length >= 4, $"{firsts.Length} segments");

        await using (var store = NewStore(1024))
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            await log.WriteSnapshotAsync(61, State("after 60"), Ct);

            // One short of the third segment keeps the second; the third segment's first position drops it.
            await log.TrimAsync(firsts[2] - 1, Ct);
            Assert.Equal(firsts[1], log.FirstPosition);
            await log.TrimAsync(firsts[2], Ct);
            Assert.Equal(firsts[2], log.FirstPosition);

            Assert.Equal(firsts[2..], SegmentPaths(0).Select(FirstPositionOf));
            AssertEntries(await ReadAllAsync(log, firsts[2]), firsts[2], 61);
            Assert.Throws<ArgumentOutOfRangeException>(() => log.ReadAsync(firsts[2] - 1, Ct));
        }

        await using (var store = NewStore(1024))
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            Assert.Equal(firsts[2], log.FirstPosition);
            Assert.Equal(61, log.NextPosition);
            AssertEntries(await ReadAllAsync(log, firsts[2]), firsts[2], 61);
        }
    }

    [Fact]
    public async Task Trim_ToNewestSnapshot_KeepsSnapshotsInTheRetainedSegmentAndDeletesOlderOnes()
    {
        await AppendOneByOneAsync(0, 60, segmentBytes: 1024);
        var firsts = SegmentPaths(0).Select(FirstPositionOf).ToArray();
        var holding50 = firsts.Last(first => first <= 50);
        Assert.True(holding50 < 50 && holding50 > 10, $"segment of 50 starts at {holding50}");
        await using var store = NewStore(1024);
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.WriteSnapshotAsync(10, State("after 9"), Ct);
        await log.WriteSnapshotAsync(holding50, State("segment start"), Ct);
        await log.WriteSnapshotAsync(50, State("after 49"), Ct);

        await log.TrimAsync(50, Ct);

        Assert.Equal(holding50, log.FirstPosition);
        Assert.Equal([holding50, 50], await log.ListSnapshotsAsync(Ct));
        Assert.Equal([SnapshotName(holding50), SnapshotName(50)], SnapshotFiles(0));

        // The older snapshot in the retained segment is still a way back when the newest is damaged.
        FlipByte(SnapshotPath(0, 50), 30);
        AssertSnapshot(await log.ReadLatestSnapshotAsync(Ct), holding50, "segment start");
        AssertEntries(await ReadAllAsync(log, holding50), holding50, 61);
    }

    [Fact]
    public async Task Read_BesideAppendsThatRollSegments_SeesEveryEntryBeforeItsStart()
    {
        // Rolls every few entries, so the segment list changes under the reader. Every 100 appends the appender
        // waits for a read to finish, so reads surely run beside appends.
        await using var store = NewStore(1024);
        await using var log = await store.OpenAsync(0, 1, Ct);
        using var readDone = new SemaphoreSlim(0);
        var appender = Task.Run(async () =>
        {
            for (var position = 1L; position <= 600; position++)
            {
                await log.AppendAsync([Payload(position)], Ct);
                if (position % 100 == 0)
                {
                    while (readDone.Wait(0))
                    {
                    }

                    Assert.True(await readDone.WaitAsync(TimeSpan.FromSeconds(30)), "the reader stalled");
                }
            }
        });

        var besideAppends = 0;
        while (!appender.IsCompleted)
        {
            var known = log.NextPosition;
            var from = Math.Max(1, known - 40);
            var entries = await ReadAllAsync(log, from);
            Assert.True(entries.Count >= known - from, $"read from {from} returned {entries.Count} entries, {known - from} were acknowledged");
            AssertEntries(entries, from, from + entries.Count);
            besideAppends++;
            readDone.Release();
        }

        await appender;
        Assert.True(besideAppends >= 6, $"{besideAppends} reads ran beside appends");
        Assert.True(SegmentPaths(0).Length > 20);
    }

    [Fact]
    public async Task Read_FromMiddleOfLargeSegment_FindsThePositionAlsoAfterRestart()
    {
        // About 3 MiB in one segment, so reads start from the segment's sparse index rather than its beginning.
        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            for (var position = 1L; position <= 3000; position += 100)
            {
                await log.AppendAsync(Payloads(position, 100, KibiByte), Ct);
            }

            AssertEntries(await ReadAllAsync(log, 2_500), 2_500, 3_001, KibiByte);
        }

        Assert.Single(SegmentPaths(0));
        await using (var store = NewStore())
        {
            await using var log = await store.OpenAsync(0, 1, Ct);
            AssertEntries(await ReadAllAsync(log, 1_234), 1_234, 3_001, KibiByte);
        }
    }

    [Fact]
    public async Task Open_SecondStoreOnSamePartition_RefusedWhileTheFirstHoldsIt()
    {
        await using var first = NewStore();
        await using var second = NewStore();
        var held = await first.OpenAsync(0, 1, Ct);

        var refused = await Assert.ThrowsAsync<IOException>(() => second.OpenAsync(0, 2, Ct).AsTask());
        Assert.Contains("held by another owner", refused.Message, StringComparison.Ordinal);
        await using (var other = await second.OpenAsync(1, 1, Ct))
        {
            Assert.Equal(1, other.NextPosition);
        }

        await held.DisposeAsync();
        await using var taken = await second.OpenAsync(0, 2, Ct);
        Assert.Equal(2, taken.Epoch);
    }

    [Fact]
    public async Task Open_Partition_LockFileLockedAgainstOtherProcesses()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        var lockFile = Path.Combine(PartitionDirectory(0), "lock");

        Assert.Equal(1, await FlockExitCodeAsync(lockFile));
        await log.DisposeAsync();
        Assert.Equal(0, await FlockExitCodeAsync(lockFile));
    }

    [Fact]
    public async Task Open_SameEpochWhileOpenInThisStore_Refused()
    {
        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 3, Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.OpenAsync(0, 3, Ct).AsTask());
        await log.AppendAsync([Payload(1)], Ct);
        Assert.Equal(2, log.NextPosition);
    }

    [Fact]
    public async Task Fenced_LowerOwner_CannotSnapshotOrTrimEither()
    {
        await using var store = NewStore();
        var stale = await store.OpenAsync(0, 1, Ct);
        await stale.AppendAsync(Payloads(1, 3), Ct);
        await using var owner = await store.OpenAsync(0, 2, Ct);

        await Assert.ThrowsAsync<FencedException>(() => stale.WriteSnapshotAsync(4, State("stale"), Ct).AsTask());
        await Assert.ThrowsAsync<FencedException>(() => stale.TrimAsync(1, Ct).AsTask());
        Assert.Empty(Directory.GetFiles(PartitionDirectory(0), "snap-*"));
        Assert.Equal(4, owner.NextPosition);
    }

    [Fact]
    public async Task Append_AfterDispose_ThrowsObjectDisposed()
    {
        await using var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => log.AppendAsync([Payload(1)], Ct).AsTask());
    }

    [Fact]
    public async Task DisposeStore_WithLogsOpen_ClosesThemAndReleasesTheirPartitions()
    {
        var store = NewStore();
        var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync([Payload(1)], Ct);

        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => log.AppendAsync([Payload(2)], Ct).AsTask());
        await using var next = NewStore();
        await using var reopened = await next.OpenAsync(0, 1, Ct);
        Assert.Equal(2, reopened.NextPosition);
    }

    private EmbeddedPartitionStore NewStore(long segmentBytes = DefaultSegmentBytes, int snapshotsKept = 32) =>
        new(new EmbeddedStoreOptions { DataFolder = _folder, SegmentBytes = segmentBytes, SnapshotsKept = snapshotsKept });

    private string PartitionDirectory(int partition) => NewStore().GetPartitionDirectory(partition);

    private string SegmentPath(int partition, long first) => Path.Combine(PartitionDirectory(partition), $"log-{first:D20}.seg");

    private string SnapshotPath(int partition, long position) => Path.Combine(PartitionDirectory(partition), $"snap-{position:D20}.bin");

    private static string SnapshotName(long position) => $"snap-{position:D20}.bin";

    private string[] SnapshotFiles(int partition) =>
        [.. Directory.GetFiles(PartitionDirectory(partition), "snap-*").Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal)];

    private string[] SegmentPaths(int partition) =>
        [.. Directory.GetFiles(PartitionDirectory(partition), "log-*.seg").Order(StringComparer.Ordinal)];

    private static long FirstPositionOf(string segmentPath) => long.Parse(Path.GetFileName(segmentPath)[4..24], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Appends positions 1..count one call each; returns the segment file's length after each call.</summary>
    private async Task<long[]> AppendOneByOneAsync(int partition, int count, long segmentBytes = DefaultSegmentBytes)
    {
        var ends = new long[count];
        await using var store = NewStore(segmentBytes);
        await using var log = await store.OpenAsync(partition, 1, Ct);
        for (var position = 1; position <= count; position++)
        {
            await log.AppendAsync([Payload(position)], Ct);
            ends[position - 1] = new FileInfo(SegmentPaths(partition)[^1]).Length;
        }

        return ends;
    }

    /// <summary>Appends positions 1..3 in one call and 4..7 in a second; returns the file length after each.</summary>
    private async Task<(long EndA, long EndB)> AppendTwoCallsAsync()
    {
        await using var store = NewStore();
        await using var log = await store.OpenAsync(0, 1, Ct);
        await log.AppendAsync(Payloads(1, 3), Ct);
        var endA = new FileInfo(SegmentPath(0, 1)).Length;
        await log.AppendAsync(Payloads(4, 4), Ct);
        return (endA, new FileInfo(SegmentPath(0, 1)).Length);
    }

    private static void CutTo(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    private static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0xFF));
    }

    private static async Task<int> FlockExitCodeAsync(string path)
    {
        using var flock = Process.Start(new ProcessStartInfo("flock", ["--nonblock", path, "true"]) { UseShellExecute = false })!;
        await flock.WaitForExitAsync();
        return flock.ExitCode;
    }
}
