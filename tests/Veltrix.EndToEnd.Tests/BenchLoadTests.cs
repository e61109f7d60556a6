using Veltrix.Cli;
using Veltrix.Cli.Bench;
using Veltrix.Cli.Bots;
using Veltrix.Contracts.V1;
using Veltrix.Domain;

namespace Veltrix.EndToEnd.Tests;

/// <summary>The load generator: its schedule, its players, and a real run against the bare sink.</summary>
public sealed class BenchLoadTests
{
    private const long Microseconds = 1_000_000;

    [Fact]
    public void PacingFor_320kOver8StreamsOf256_OneBatchEvery6400Microseconds()
    {
        var schedule = PacingSchedule.For(320_000, 8, 0, 256, start: 1_000, frequency: Microseconds);

        // 40,000 events/s per stream is 156.25 batches of 256 a second.
        Assert.Equal(6_400, schedule.TicksPerBatch, 9);
        Assert.Equal(1_000, schedule.IntendedAt(0));
        Assert.Equal(1_000 + 6_400, schedule.IntendedAt(1));
    }

    [Fact]
    public void PacingFor_StreamsStaggeredOverOneInterval_StartsSpreadEvenly()
    {
        var starts = Enumerable.Range(0, 8).Select(s => PacingSchedule.For(320_000, 8, s, 256, 0, Microseconds).IntendedAt(0)).ToArray();

        Assert.Equal([0, 800, 1_600, 2_400, 3_200, 4_000, 4_800, 5_600], starts);
    }

    [Fact]
    public void PacingIntendedAt_AMillionBatchesIn_NoDrift()
    {
        var schedule = PacingSchedule.For(1_000_000, 3, 0, 256, 0, Microseconds);

        // 768 µs a batch: 333,333.33 events/s per stream over 256-event batches.
        Assert.Equal(768_000_000, schedule.IntendedAt(1_000_000));
    }

    [Fact]
    public void PacingFor_ZeroRate_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PacingSchedule.For(0, 8, 0, 256, 0, Microseconds));
        Assert.Throws<ArgumentOutOfRangeException>(() => PacingSchedule.For(1_000, 8, 8, 256, 0, Microseconds));
    }

    [Fact]
    public void PlayerGroupFill_FirstEventOfEachPlayerJoins_ThenSeqIncreasesPerPlayer()
    {
        var group = new PlayerGroup(firstPlayer: 100, count: 10, worlds: 4, batchSize: 16, digEvery: 0);
        var batch = new EventBatch();
        var events = new List<Event>();

        for (var b = 0; b < 5; b++)
        {
            group.Fill(batch, (ulong)b, 1_700_000_000_000 + b);
            events.AddRange(batch.Events.Select(e => e.Clone()));
            Assert.Equal((ulong)b, batch.BatchId);
            Assert.Equal(16, batch.Events.Count);
        }

        foreach (var player in events.GroupBy(e => e.PlayerId))
        {
            var list = player.ToList();
            Assert.Equal(Event.KindOneofCase.Join, list[0].KindCase);
            Assert.DoesNotContain(list.Skip(1), e => e.KindCase == Event.KindOneofCase.Join);
            Assert.Equal(Enumerable.Range(1, list.Count).Select(i => (ulong)i), list.Select(e => e.Seq));
            Assert.Single(list.Select(e => e.WorldId).Distinct());
        }
        Assert.Equal(10, events.Select(e => e.PlayerId).Distinct().Count());
        // Player g plays in world g mod 4: players 100..109 cover all four.
        Assert.Equal(4, events.Select(e => e.WorldId).Distinct().Count());
        Assert.Contains(events, e => e.PlayerId == "bench-p100" && e.WorldId == "bench-w0");
    }

    [Fact]
    public void PlayerGroupFill_Moves_StayWithinTheSlackOfEveryPositionThePlayerCanHold()
    {
        var group = new PlayerGroup(0, 50, 8, 64, digEvery: 0);
        var batch = new EventBatch();
        var positions = new Dictionary<string, List<(int X, int Y)>>();
        for (var b = 0; b < 20; b++)
        {
            group.Fill(batch, (ulong)b, 1_700_000_000_000);
            foreach (var e in batch.Events)
            {
                if (!positions.TryGetValue(e.PlayerId, out var list))
                {
                    // Where the world places the player on its Join.
                    positions[e.PlayerId] = list = [World.StartingPoint(e.WorldId, e.PlayerId, GameRules.WorldSize)];
                }
                if (e.KindCase == Event.KindOneofCase.Move)
                {
                    list.Add((e.Move.X, e.Move.Y));
                }
            }
        }

        foreach (var (player, list) in positions)
        {
            Assert.True(list.Count > 10, $"{player} barely moved");
            // Any move must be legal from any earlier position (a move may have been rejected), with no time elapsed.
            foreach (var a in list)
            {
                foreach (var b in list)
                {
                    Assert.True(Spot.Distance2(new Spot(a.X, a.Y), new Spot(b.X, b.Y)) <= GameRules.MoveSlack * GameRules.MoveSlack);
                    Assert.True(GameRules.InBounds(new Spot(b.X, b.Y)));
                }
            }
        }
    }

    [Fact]
    public void PlayerGroupFill_DigEvery_EveryNthEventAfterTheJoinDigs()
    {
        var group = new PlayerGroup(0, 1, 1, 33, digEvery: 8);
        var batch = new EventBatch();

        group.Fill(batch, 1, 1_700_000_000_000);

        var kinds = batch.Events.Select(e => e.KindCase).ToList();
        Assert.Equal(Event.KindOneofCase.Join, kinds[0]);
        Assert.Equal([8, 16, 24, 32], kinds.Select((k, i) => (k, i)).Where(p => p.k == Event.KindOneofCase.Dig).Select(p => p.i));
    }

    [Fact]
    public void PlayerGroupFill_WallClockGoesBack_ClientTimeNeverDecreases()
    {
        var group = new PlayerGroup(0, 4, 1, 8, digEvery: 0);
        var batch = new EventBatch();

        group.Fill(batch, 1, 2_000);
        group.Fill(batch, 2, 1_000);

        Assert.All(batch.Events, e => Assert.Equal(2_000, e.ClientTimeMs));
    }

    [Fact]
    public async Task LoadGenerator_FlatOutAgainstTheBareSink_EveryEventAckedAcceptedAndTimed()
    {
        await using var sink = await BareSink.StartAsync(CancellationToken.None);
        using var client = new GatewayClients(sink.Address);
        var settings = new LoadSettings { Streams = 2, Batch = 64, InFlight = 2, Players = 200, Worlds = 4, DigEvery = 8 };
        await using var load = new LoadGenerator(client.Ingest, client.Call, settings);

        load.Start();
        await WaitForAsync(() => load.Stats.Read().Acked >= 10_000);
        await load.StopAsync();

        var counts = load.Stats.Read();
        Assert.True(counts.Sent >= 10_000, $"sent {counts.Sent}");
        Assert.Equal(counts.Sent, counts.Acked);
        Assert.Equal(counts.Sent, counts.Accepted);
        Assert.Equal(0, counts.Errors);
        Assert.Equal(0, counts.Lost);
        Assert.Equal(2, counts.StreamsOpened);
        Assert.Null(load.Stats.LastError);
        Assert.Equal(counts.Sent / 64, load.Stats.Latency.GetIntervalHistogram().TotalCount);
    }

    [Fact]
    public async Task LoadGenerator_AtAFixedRate_NeverSendsAheadOfTheSchedule()
    {
        await using var sink = await BareSink.StartAsync(CancellationToken.None);
        using var client = new GatewayClients(sink.Address);
        var settings = new LoadSettings { Streams = 2, Batch = 50, InFlight = 4, Players = 100, Rate = 2_000 };
        await using var load = new LoadGenerator(client.Ingest, client.Call, settings);
        var started = TimeProvider.System.GetTimestamp();

        load.Start();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var sent = load.Stats.Read().Sent;
        var elapsed = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
        await load.StopAsync();

        // Each stream sends batch k at k × 50 ms: at most elapsed × rate plus the batch each stream sends at 0.
        Assert.True(sent <= elapsed * 2_000 + 2 * 50, $"sent {sent} in {elapsed:0.000} s");
        Assert.Equal(load.Stats.Read().Sent, load.Stats.Read().Acked);
    }

    [Fact]
    public async Task LoadGenerator_CountBoundReached_StopsSendingAndDrainsCleanly()
    {
        await using var sink = await BareSink.StartAsync(CancellationToken.None);
        using var client = new GatewayClients(sink.Address);
        var settings = new LoadSettings { Streams = 2, Batch = 10, InFlight = 3, Players = 20, MaxBatchesPerStream = 5 };
        await using var load = new LoadGenerator(client.Ingest, client.Call, settings);

        load.Start();
        await WaitForAsync(() => load.Stats.Read().Acked == 100);
        await load.StopAsync();

        var counts = load.Stats.Read();
        Assert.Equal(100, counts.Sent);
        Assert.Equal(100, counts.Acked);
        Assert.Equal(0, counts.Errors);
        Assert.Equal(2, counts.StreamsOpened);
    }

    private static async Task WaitForAsync(Func<bool> done)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the load did not get there in 30 s");
            await Task.Delay(50);
        }
    }
}
