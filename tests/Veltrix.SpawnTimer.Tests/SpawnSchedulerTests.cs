using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Veltrix.Domain;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer.Tests;

public sealed class SpawnSchedulerTests : IDisposable
{
    private const long T0 = 1_700_000_000_000;
    private const int Partitions = 4;

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(T0));
    private readonly RecordingSink _sink;
    private SpawnScheduler _scheduler;

    public SpawnSchedulerTests()
    {
        _sink = new RecordingSink(_time);
        _scheduler = Create();
    }

    public void Dispose() => _scheduler.Dispose();

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private SpawnScheduler Create(int maxPending = 1_000, int maxBatch = 1_024, int retryMinMs = 100, int retryMaxMs = 400) =>
        new(_sink, _time, new SpawnSchedulerSettings
        {
            Partitions = Partitions,
            MaxPending = maxPending,
            MaxBatchSpawns = maxBatch,
            RetryMin = TimeSpan.FromMilliseconds(retryMinMs),
            RetryMax = TimeSpan.FromMilliseconds(retryMaxMs),
        }, new TreasureIds("test"), NullLogger.Instance);

    private void Recreate(int maxPending = 1_000, int maxBatch = 1_024, int retryMinMs = 100, int retryMaxMs = 400)
    {
        _scheduler.Dispose();
        _scheduler = Create(maxPending, maxBatch, retryMinMs, retryMaxMs);
    }

    private ScheduleOutcome Schedule(string world, string? id, long atMs, int x = 1, int y = 2, long value = 3) =>
        _scheduler.Schedule(new SpawnRequest(world, id, x, y, value, atMs));

    private void Advance(long ms) => _time.Advance(TimeSpan.FromMilliseconds(ms));

    private static string WorldIn(int partition, int skip = 0)
    {
        for (var i = 0; ; i++)
        {
            var world = $"world-{i}";
            if (Partitioning.PartitionOf(world, Partitions) == partition && skip-- == 0)
            {
                return world;
            }
        }
    }

    [Fact]
    public void Fire_OneMillisecondBeforeDue_NothingSentThenSentExactlyAtDue()
    {
        var outcome = Schedule("w1", "gold", T0 + 1_000, x: 10, y: 20, value: 30);
        // Wakes the scheduler one millisecond before "gold" is due.
        Schedule("w2", "decoy", T0 + 999);
        Assert.Equal(ScheduleStatus.Scheduled, outcome.Status);
        Assert.Equal(T0 + 1_000, outcome.DueMs);

        Advance(999);
        Assert.Equal(["decoy"], _sink.Delivered.Select(s => s.TreasureId));
        Assert.Equal(1, _scheduler.PendingCount);

        Advance(1);
        var sent = _sink.Sent[^1];
        Assert.Equal((uint)Partitioning.PartitionOf("w1", Partitions), sent.Batch.Partition);
        var spawn = Assert.Single(sent.Batch.Spawns);
        Assert.Equal(("w1", "gold", 10, 20, 30L), (spawn.WorldId, spawn.TreasureId, spawn.X, spawn.Y, spawn.Value));
        Assert.Equal(T0 + 1_000, spawn.StampMs);
        Assert.Equal(0, _scheduler.PendingCount);
        Assert.Equal(2, _scheduler.FiredTotal);
    }

    [Fact]
    public void Schedule_AtMsInThePast_DueNowAndSentAtOnce()
    {
        var outcome = Schedule("w1", "late", T0 - 5_000);

        Assert.Equal(T0, outcome.DueMs);
        var spawn = Assert.Single(_sink.Delivered);
        Assert.Equal("late", spawn.TreasureId);
        Assert.Equal(T0, spawn.StampMs);
        Assert.Equal(0, _scheduler.PendingCount);
    }

    [Fact]
    public void Fire_ManySpawnsWithDifferentDueTimes_InDueOrderGroupedByPartitionNeverEarly()
    {
        var random = new Random(7);
        var due = new Dictionary<string, long>();
        var worldOf = new Dictionary<string, string>();
        for (var i = 0; i < 300; i++)
        {
            var world = $"world-{random.Next(12)}";
            var id = $"s{i}";
            var at = T0 + random.Next(1, 500);
            Assert.Equal(ScheduleStatus.Scheduled, Schedule(world, id, at).Status);
            due[id] = at;
            worldOf[id] = world;
        }

        var delivered = new HashSet<string>();
        var lastDueInPartition = new long[Partitions];
        var seen = 0;
        while (delivered.Count < due.Count && Now < T0 + 1_000)
        {
            Advance(7);
            var sent = _sink.Sent;
            var partitionsThisStep = new HashSet<uint>();
            foreach (var attempt in sent.Skip(seen))
            {
                Assert.False(attempt.Failed);
                // One batch per partition per firing: due spawns are grouped, not sent one by one.
                Assert.True(partitionsThisStep.Add(attempt.Batch.Partition));
                foreach (var spawn in attempt.Batch.Spawns)
                {
                    var id = spawn.TreasureId;
                    Assert.Equal(attempt.Batch.Partition, (uint)Partitioning.PartitionOf(worldOf[id], Partitions));
                    Assert.True(due[id] <= attempt.AtMs, $"{id} due at {due[id]} was sent at {attempt.AtMs}");
                    Assert.Equal(attempt.AtMs, spawn.StampMs);
                    Assert.True(due[id] >= lastDueInPartition[attempt.Batch.Partition], $"{id} left its partition out of due order");
                    lastDueInPartition[attempt.Batch.Partition] = due[id];
                    Assert.True(delivered.Add(id), $"{id} was delivered twice");
                }
            }
            seen = sent.Count;
            // Nothing is late either: every spawn due by now has been delivered.
            foreach (var (id, at) in due)
            {
                Assert.True(at > Now || delivered.Contains(id), $"{id} due at {at} was not sent by {Now}");
            }
        }

        Assert.Equal(due.Count, delivered.Count);
        Assert.Equal(0, _scheduler.PendingCount);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.DeadlineExceeded)]
    public void Send_Refused_SpawnStaysPendingAndIsSentAgainAfterBackoff(StatusCode status)
    {
        _sink.FailNext(status, 2);
        Schedule("w1", "gold", T0 + 10);

        Advance(10);
        Assert.Single(_sink.Sent);
        Assert.Equal(1, _scheduler.PendingCount);
        Assert.Equal("gold", Assert.Single(_scheduler.ListPending(null, 10).Spawns).TreasureId);

        Advance(99);
        Assert.Single(_sink.Sent);
        Advance(1);
        Assert.Equal(2, _sink.Sent.Count);
        Assert.Equal(1, _scheduler.PendingCount);

        Advance(199);
        Assert.Equal(2, _sink.Sent.Count);
        Advance(1);

        var attempts = _sink.Sent;
        Assert.Equal([true, true, false], attempts.Select(a => a.Failed));
        Assert.All(attempts, a => Assert.Equal("gold", Assert.Single(a.Batch.Spawns).TreasureId));
        Assert.Equal([T0 + 10, T0 + 110, T0 + 310], attempts.Select(a => a.Batch.Spawns[0].StampMs));
        Assert.Equal(0, _scheduler.PendingCount);
        Assert.Equal(2, _scheduler.SendFailuresTotal);
        Assert.Equal(1, _scheduler.FiredTotal);
    }

    [Fact]
    public void Send_KeepsFailing_BackoffDoublesUpToTheCap()
    {
        _sink.FailWhen = _ => StatusCode.Unavailable;
        Schedule("w1", "gold", T0);
        Assert.Single(_sink.Sent);

        foreach (var delay in new[] { 100, 200, 400, 400, 400 })
        {
            var before = _sink.Sent.Count;
            Advance(delay - 1);
            Assert.Equal(before, _sink.Sent.Count);
            Advance(1);
            Assert.Equal(before + 1, _sink.Sent.Count);
        }
        Assert.Equal(1, _scheduler.PendingCount);
    }

    [Fact]
    public void Send_OnePartitionRefusing_OtherPartitionsStillDelivered()
    {
        var broken = WorldIn(0);
        var healthy = WorldIn(1);
        _sink.FailWhen = batch => batch.Partition == 0 ? StatusCode.Unavailable : null;

        Schedule(broken, "a", T0 + 5);
        Schedule(healthy, "b", T0 + 5);
        Advance(5);
        Schedule(healthy, "c", T0 + 50);
        Advance(45);

        Assert.Equal(["b", "c"], _sink.Delivered.Select(s => s.TreasureId));
        var stuck = Assert.Single(_scheduler.ListPending(null, 10).Spawns);
        Assert.Equal("a", stuck.TreasureId);
    }

    [Fact]
    public void Fire_BatchInFlight_SpawnsStayPendingUntilAcknowledged()
    {
        _sink.Hold = new TaskCompletionSource();
        Schedule("w1", "first", T0);
        Schedule("w1", "second", T0);

        // The partition has one batch in flight; the second spawn waits for it instead of racing it.
        var attempt = Assert.Single(_sink.Sent);
        Assert.Equal("first", Assert.Single(attempt.Batch.Spawns).TreasureId);
        Assert.Equal(2, _scheduler.PendingCount);
        Assert.Equal(["first", "second"], _scheduler.ListPending("w1", 10).Spawns.Select(s => s.TreasureId));

        _sink.Release();

        Assert.Equal(["first", "second"], _sink.Delivered.Select(s => s.TreasureId));
        Assert.Equal(0, _scheduler.PendingCount);
    }

    [Fact]
    public void Fire_MoreDueThanOneBatch_SentInBatchesOfAtMostMax()
    {
        Recreate(maxBatch: 3);
        _sink.Hold = new TaskCompletionSource();
        for (var i = 0; i < 7; i++)
        {
            Schedule("w1", $"s{i}", T0 + 1);
        }
        Advance(1);
        _sink.Release();

        Assert.Equal([3, 3, 1], _sink.Sent.Select(s => s.Batch.Spawns.Count));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"s{i}"), _sink.Delivered.Select(s => s.TreasureId));
    }

    [Fact]
    public void Schedule_MaxPendingReached_FullUntilAnAcknowledgementFreesRoom()
    {
        Recreate(maxPending: 3);
        _sink.Hold = new TaskCompletionSource();
        Assert.Equal(ScheduleStatus.Scheduled, Schedule("w1", "a", T0).Status);
        Assert.Equal(ScheduleStatus.Scheduled, Schedule("w1", "b", T0 + 100).Status);
        Assert.Equal(ScheduleStatus.Scheduled, Schedule("w2", "c", T0 + 100).Status);

        // "a" has been fired but not acknowledged: it still takes room.
        Assert.Equal(ScheduleStatus.Full, Schedule("w3", "d", T0).Status);
        Assert.Equal(ScheduleStatus.Full, Schedule("w3", null, T0 + 5).Status);
        Assert.Equal(3, _scheduler.PendingCount);
        Assert.Equal(2, _scheduler.RejectedTotal);

        _sink.Release();
        Assert.Equal(2, _scheduler.PendingCount);
        Assert.Equal(ScheduleStatus.Scheduled, Schedule("w3", "d", T0 + 100).Status);
        Assert.Equal(ScheduleStatus.Full, Schedule("w3", "e", T0 + 100).Status);
    }

    [Fact]
    public void Schedule_SameTreasurePending_NotScheduledTwice()
    {
        var first = Schedule("w1", "gold", T0 + 100, x: 5, y: 6, value: 7);
        Advance(10);
        var again = Schedule("w1", "gold", T0 + 500, x: 5, y: 6, value: 7);
        var moved = Schedule("w1", "gold", T0 + 100, x: 9, y: 6, value: 7);
        var otherWorld = Schedule("w2", "gold", T0 + 100, x: 9, y: 6, value: 7);

        Assert.Equal(ScheduleStatus.AlreadyPending, again.Status);
        Assert.Equal(first.DueMs, again.DueMs);
        Assert.Equal(ScheduleStatus.Conflict, moved.Status);
        Assert.Equal(ScheduleStatus.Scheduled, otherWorld.Status);
        Assert.Equal(2, _scheduler.PendingCount);
    }

    [Fact]
    public void Schedule_NoTreasureId_NamesEachSpawnDistinctly()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => Schedule("w1", null, T0 + 100).TreasureId).ToList();

        Assert.Equal(100, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(SpawnRules.IsValidId(id), id));
        Assert.All(ids, id => Assert.StartsWith("t-test-", id, StringComparison.Ordinal));
    }

    [Fact]
    public void TreasureIds_TwoProcesses_NameTheirFirstTreasuresDifferently()
    {
        var a = new TreasureIds().Next();
        var b = new TreasureIds().Next();

        Assert.NotEqual(a, b);
        Assert.True(SpawnRules.IsValidId(a), a);
        // Short enough to be held packed while pending.
        Assert.True(ShortId.TryPack(a, out _), a);
    }

    [Fact]
    public void ListPending_SpawnsOfSeveralWorlds_MergedInDueOrderWithTotals()
    {
        Schedule("b", "b1", T0 + 30);
        Schedule("a", "a1", T0 + 20);
        Schedule("c", "c1", T0 + 10);
        Schedule("a", "a2", T0 + 40);
        Schedule("b", "b2", T0 + 20);

        var all = _scheduler.ListPending(null, 10);
        var firstThree = _scheduler.ListPending(null, 3);
        var worldA = _scheduler.ListPending("a", 10);
        var none = _scheduler.ListPending("zzz", 10);

        Assert.Equal(["c1", "a1", "b2", "b1", "a2"], all.Spawns.Select(s => s.TreasureId));
        Assert.Equal(5, all.Total);
        Assert.Equal(["c1", "a1", "b2"], firstThree.Spawns.Select(s => s.TreasureId));
        Assert.Equal(5, firstThree.Total);
        Assert.Equal(["a1", "a2"], worldA.Spawns.Select(s => s.TreasureId));
        Assert.Equal(2, worldA.Total);
        Assert.Empty(none.Spawns);
        Assert.Equal(0, none.Total);
    }

    [Fact]
    public void Dispose_SpawnsPending_NothingFiresAfterwards()
    {
        Schedule("w1", "gold", T0 + 10);
        _scheduler.Dispose();

        Advance(100);

        Assert.Empty(_sink.Sent);
    }
}
