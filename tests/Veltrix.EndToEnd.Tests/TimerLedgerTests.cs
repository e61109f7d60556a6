using Google.Protobuf;
using Veltrix.Cli.Bench.Timers;
using Veltrix.Cli.Launch;
using Veltrix.Contracts.Internal;

namespace Veltrix.EndToEnd.Tests;

/// <summary>How bench timers counts arrivals, duplicates, lost and early spawns, and what it starts.</summary>
public sealed class TimerLedgerTests
{
    private const long DueMs = 1_700_000_000_000;

    [Fact]
    public void Receive_EveryAcceptedTimerOnce_AllArrivedNoneLostNoDuplicates()
    {
        var ledger = Accepted(timers: 3);

        var fresh = ledger.Receive(Batch(("t0", DueMs), ("t1", DueMs), ("t2", DueMs)), DueMs * 1000 + 5_000);

        Assert.Equal(3, fresh);
        var reading = ledger.TakeReading();
        Assert.Equal(3, reading.Arrived);
        Assert.Equal(0, reading.Duplicates);
        Assert.Equal((0, -1), ledger.CountLost());
    }

    [Fact]
    public void Receive_SameSpawnAgain_CountsADuplicateAndIsNotNew()
    {
        var ledger = Accepted(timers: 1);
        ledger.Receive(Batch(("t0", DueMs)), DueMs * 1000);

        var fresh = ledger.Receive(Batch(("t0", DueMs + 50)), DueMs * 1000 + 50_000);

        Assert.Equal(0, fresh);
        var reading = ledger.TakeReading();
        Assert.Equal(1, reading.Arrived);
        Assert.Equal(1, reading.Duplicates);
    }

    [Fact]
    public void CountLost_AcceptedTimerNeverReceived_IsLostButAnUnacceptedOneIsNot()
    {
        var ledger = new TimerLedger(timers: 3, warmupTimers: 0);
        ledger.Plan(0, DueMs);
        ledger.Plan(1, DueMs);
        ledger.Plan(2, DueMs);
        ledger.Confirm(0, DueMs);
        ledger.Confirm(1, DueMs);
        ledger.Receive(Batch(("t0", DueMs)), DueMs * 1000);

        Assert.Equal((1L, 1), ledger.CountLost());
    }

    [Fact]
    public void Receive_FiveMillisecondsAfterDue_RecordsThatLateness()
    {
        var ledger = Accepted(timers: 1);

        ledger.Receive(Batch(("t0", DueMs + 2)), DueMs * 1000 + 5_000);

        var (arrival, fire, _) = ledger.Summaries();
        Assert.Equal(5_000, arrival.P50, 5_000 / 100.0);
        Assert.Equal(2_000, fire.P50, 2_000 / 100.0);
    }

    [Fact]
    public void Receive_StampedBeforeDue_CountsEarly()
    {
        var ledger = Accepted(timers: 1);

        ledger.Receive(Batch(("t0", DueMs - 1)), DueMs * 1000 + 100);

        Assert.Equal(1, ledger.TakeReading().Early);
    }

    [Theory]
    [InlineData("t7")]
    [InlineData("x0")]
    [InlineData("t")]
    [InlineData("t-1")]
    public void Receive_IdThisRunDidNotSchedule_CountsForeignNotArrived(string id)
    {
        var ledger = Accepted(timers: 1);

        ledger.Receive(Batch((id, DueMs)), DueMs * 1000);

        var reading = ledger.TakeReading();
        Assert.Equal(1, reading.Foreign);
        Assert.Equal(0, reading.Arrived);
    }

    [Fact]
    public void Receive_WarmupSpawn_CountedApartFromTheMeasuredTimers()
    {
        var ledger = new TimerLedger(timers: 1, warmupTimers: 1);
        ledger.Plan(0, DueMs, warmup: true);
        ledger.ConfirmWarmup(0, DueMs);

        ledger.Receive(Batch(("w0", DueMs)), DueMs * 1000);

        var reading = ledger.TakeReading();
        Assert.Equal(1, reading.WarmupArrived);
        Assert.Equal(0, reading.Arrived);
        Assert.Equal((0, -1), ledger.CountLost(warmup: true));
    }

    [Fact]
    public void Mesh_OnlySpawnTimerWithArguments_StartsJustItAndPassesThemToIt()
    {
        var mesh = new Mesh(
            new MeshSettings
            {
                RepoRoot = "/repo", DataDir = "/data", BasePort = 8800,
                Only = [ServiceCatalog.SpawnTimer], SpawnTimerArguments = ["--Veltrix:SpawnTimer:MaxPending=1020000"],
            },
            TextWriter.Null);

        Assert.Equal(["spawn-timer"], mesh.Services.Select(s => s.Name));
        Assert.Contains("--Veltrix:SpawnTimer:MaxPending=1020000", mesh.ArgumentsFor(ServiceCatalog.SpawnTimer));
        Assert.Contains("--Veltrix:Mesh:Resolvers:0=http://127.0.0.1:8820", mesh.ArgumentsFor(ServiceCatalog.SpawnTimer));
        Assert.DoesNotContain("--Veltrix:SpawnTimer:MaxPending=1020000", mesh.ArgumentsFor(ServiceCatalog.Resolver));
    }

    private static TimerLedger Accepted(int timers)
    {
        var ledger = new TimerLedger(timers, warmupTimers: 0);
        for (var i = 0; i < timers; i++)
        {
            ledger.Plan(i, DueMs);
            ledger.Confirm(i, DueMs);
        }
        return ledger;
    }

    private static byte[] Batch(params (string Id, long StampMs)[] spawns)
    {
        var batch = new ApplyBatch { Partition = 3 };
        foreach (var (id, stamp) in spawns)
        {
            batch.Spawns.Add(new Spawn { WorldId = "bench-0", TreasureId = id, X = 1, Y = 2, Value = 3, StampMs = stamp });
        }
        return batch.ToByteArray();
    }
}
