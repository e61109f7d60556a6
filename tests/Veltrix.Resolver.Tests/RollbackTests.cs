using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>Admin rollbacks through a real resolver on an embedded store (DESIGN.md section 4).</summary>
public sealed class RollbackTests : IDisposable
{
    private const string World = "w-hunt";
    private readonly string _dataDir = Directory.CreateTempSubdirectory("veltrix-rollback-").FullName;

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);

    /// <summary>
    /// The exploiter teleports onto the gold and digs it up a second before the honest player, who got
    /// there too and dug for nothing. Then the exploiter keeps teleporting and digging the silver.
    /// </summary>
    private static async Task PlayExploitAsync(ResolverFixture resolver)
    {
        var setup = Batch(World, Join(World, "cheat", 1).Stamp(), Join(World, "honest", 1).Stamp());
        setup.Spawns.Add(Spawn(World, "gold", 90_000, 90_000, 50));
        setup.Spawns.Add(Spawn(World, "silver", 10_000, 10_000, 20));
        await ApplyAllAsync(resolver, setup, Outcome.Accepted, Outcome.Accepted);

        await ApplyAllAsync(resolver, Batch(World,
            Teleport(World, "cheat", 2, 90_000, 90_000, T0 + 1_000).Stamp(T0 + 1_000),
            Dig(World, "cheat", 3, T0 + 1_000).Stamp(T0 + 1_000)), Outcome.Accepted, Outcome.Accepted);
        await ApplyAllAsync(resolver, Batch(World,
            Teleport(World, "honest", 2, 90_005, 90_000, T0 + 2_000).Stamp(T0 + 2_000),
            Dig(World, "honest", 3, T0 + 2_000).Stamp(T0 + 2_000)), Outcome.Accepted, Outcome.Rejected);
        await ApplyAllAsync(resolver, Batch(World,
            Teleport(World, "cheat", 4, 10_000, 10_000, T0 + 40_000).Stamp(T0 + 40_000),
            Dig(World, "cheat", 5, T0 + 40_000).Stamp(T0 + 40_000)), Outcome.Accepted, Outcome.Accepted);
    }

    private static async Task ApplyAllAsync(ResolverFixture resolver, ApplyBatch batch, params Outcome[] expected)
    {
        var reply = await resolver.Writer.ApplyAsync(batch);
        Assert.Equal(expected, reply.Results.Select(r => r.Outcome));
    }

    private static RollbackRequest VoidCheat(bool dryRun) => new()
    {
        WorldId = World,
        PlayerIds = { "cheat" },
        FromMs = T0 + 500,
        ToMs = T0 + 60_000,
        Reason = "teleport exploit, ticket 4711",
        DryRun = dryRun,
    };

    private static async Task<long> ScoreAsync(ResolverFixture resolver, string player) =>
        (await resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = World, PlayerId = player })).Score;

    [Fact]
    public async Task Rollback_DryRun_ReportsDiffAndChangesNothing()
    {
        using var resolver = new ResolverFixture(_dataDir);
        await PlayExploitAsync(resolver);

        var report = await resolver.Admin.RollbackAsync(VoidCheat(dryRun: true));

        Assert.True(report.DryRun);
        Assert.Equal("", report.AuditId);
        Assert.Equal(4ul, report.EventsVoided);
        Assert.Equal(2ul, report.EventsReplayed);
        Assert.Equal(
            [("cheat", 70L, 0L), ("honest", 0L, 50L)],
            report.Players.Select(p => (p.PlayerId, p.ScoreBefore, p.ScoreAfter)));
        Assert.Equal(
            [("gold", "cheat", "honest"), ("silver", "cheat", "")],
            report.Treasures.Select(t => (t.TreasureId, t.OwnerBefore, t.OwnerAfter)));
        Assert.Equal(70, await ScoreAsync(resolver, "cheat"));
        Assert.Equal(0, await ScoreAsync(resolver, "honest"));
    }

    [Fact]
    public async Task Rollback_ExploitersSpree_TreasureGoesToNextDiggerBoardsToldAndItSurvivesRestart()
    {
        using (var resolver = new ResolverFixture(_dataDir))
        {
            await PlayExploitAsync(resolver);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var feed = resolver.Feed.Subscribe(new ScoreFeedRequest(), cancellationToken: cts.Token);
            while (await feed.ResponseStream.MoveNext(cts.Token) && !feed.ResponseStream.Current.SnapshotDone)
            {
            }

            var report = await resolver.Admin.RollbackAsync(VoidCheat(dryRun: false), new Metadata { { "veltrix-actor", "ops-anna" } });

            Assert.False(report.DryRun);
            Assert.StartsWith(World + "@", report.AuditId, StringComparison.Ordinal);
            Assert.Equal(0, await ScoreAsync(resolver, "cheat"));
            Assert.Equal(50, await ScoreAsync(resolver, "honest"));

            // The audit trail that outlives the log: who, when, why, and the diff.
            var audit = Assert.Single(File.ReadAllLines(Path.Combine(_dataDir, "audit", "rollbacks.jsonl")));
            using (var json = System.Text.Json.JsonDocument.Parse(audit))
            {
                var root = json.RootElement;
                Assert.Equal(report.AuditId, root.GetProperty("audit_id").GetString());
                Assert.Equal("ops-anna", root.GetProperty("actor").GetString());
                Assert.Equal("teleport exploit, ticket 4711", root.GetProperty("reason").GetString());
                Assert.True(root.GetProperty("committed_at_ms").GetInt64() > 0);
                Assert.Equal(2, root.GetProperty("scores").GetArrayLength());
            }

            // The boards hear it at once: both players' new scores, with when they were reached.
            using var within = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var heard = new Dictionary<string, ScoreChange>();
            while (heard.Count < 2 && await feed.ResponseStream.MoveNext(within.Token))
            {
                foreach (var change in feed.ResponseStream.Current.Changes.Where(c => c.WorldId == World))
                {
                    heard[change.PlayerId] = change;
                }
            }
            Assert.Equal((0L, false), (heard["cheat"].Score, heard["cheat"].Removed));
            Assert.Equal((50L, T0 + 2_000), (heard["honest"].Score, heard["honest"].ReachedAtMs));

            // The exploiter plays on after it; their voided seqs are free again.
            var next = await resolver.Writer.ApplyAsync(Batch(World, Dig(World, "cheat", 6, T0 + 70_000).Stamp(T0 + 70_000)));
            Assert.Equal(Outcome.Rejected, next.Results[0].Outcome);
        }

        using var restarted = new ResolverFixture(_dataDir);
        Assert.Equal(0, await ScoreAsync(restarted, "cheat"));
        Assert.Equal(50, await ScoreAsync(restarted, "honest"));
        var world = await restarted.Reads.GetWorldAsync(new GetWorldRequest { WorldId = World });
        Assert.Equal(1u, world.TreasuresClaimed);
        Assert.Contains(world.OpenTreasures, t => t.Id == "silver");
    }

    [Fact]
    public async Task Rollback_FromSnapshotTakenBeforeWindow_SameResultAsFromStartOfLog()
    {
        // Snapshots every few events: the rollback starts from one taken before its window.
        using var snapshotted = new ResolverFixture(_dataDir, snapshotEveryEvents: 2);
        await PlayExploitAsync(snapshotted);
        var fromSnapshot = await snapshotted.Admin.RollbackAsync(VoidCheat(dryRun: false));

        using var plain = new ResolverFixture(null);
        await PlayExploitAsync(plain);
        var fromStart = await plain.Admin.RollbackAsync(VoidCheat(dryRun: false));

        Assert.Equal(fromStart.Players, fromSnapshot.Players);
        Assert.Equal(fromStart.Treasures, fromSnapshot.Treasures);
        Assert.Equal(fromStart.EventsVoided, fromSnapshot.EventsVoided);
        Assert.Equal(50, await ScoreAsync(snapshotted, "honest"));
    }

    [Fact]
    public async Task Rollback_OtherWorldOfSamePartition_Untouched()
    {
        using var resolver = new ResolverFixture(_dataDir);
        var other = Enumerable.Range(0, 1_000).Select(i => $"w-other-{i}").First(w => ResolverFixture.PartitionOf(w) == ResolverFixture.PartitionOf(World));
        await PlayExploitAsync(resolver);
        var batch = Batch(other, Join(other, "cheat", 1, T0 + 1_000).Stamp(T0 + 1_000), Teleport(other, "cheat", 2, 50, 50, T0 + 1_000).Stamp(T0 + 1_000));
        batch.Spawns.Add(Spawn(other, "gold", 50, 50, 7));
        batch.Add(Dig(other, "cheat", 3, T0 + 1_000).Stamp(T0 + 1_000));
        await ApplyAllAsync(resolver, batch, Outcome.Accepted, Outcome.Accepted, Outcome.Accepted);

        await resolver.Admin.RollbackAsync(VoidCheat(dryRun: false));

        var there = await resolver.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = other, PlayerId = "cheat" });
        Assert.Equal((7L, 3ul), (there.Score, there.LastSeq));
    }

    [Fact]
    public async Task Rollback_VoidedJoin_PlayerLeavesTheBoards()
    {
        using var resolver = new ResolverFixture(_dataDir);
        await PlayExploitAsync(resolver);
        await ApplyAllAsync(resolver, Batch(World, Join(World, "sock", 1, T0 + 50_000).Stamp(T0 + 50_000)), Outcome.Accepted);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var feed = resolver.Feed.Subscribe(new ScoreFeedRequest(), cancellationToken: cts.Token);
        while (await feed.ResponseStream.MoveNext(cts.Token) && !feed.ResponseStream.Current.SnapshotDone)
        {
        }

        await resolver.Admin.RollbackAsync(new RollbackRequest { WorldId = World, PlayerIds = { "sock" }, FromMs = T0 + 45_000, ToMs = T0 + 55_000, Reason = "sock puppet" });

        Assert.True(await feed.ResponseStream.MoveNext(cts.Token));
        Assert.Contains(feed.ResponseStream.Current.Changes, c => c.PlayerId == "sock" && c.Removed);
        var error = await Assert.ThrowsAsync<RpcException>(() => ScoreAsync(resolver, "sock"));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Log_PastRetentionHorizon_TrimmedInBackgroundRestartExactRollbackRefused()
    {
        // The game is stamped in 2023: with a one-hour horizon all of it is past, and once a background
        // snapshot covers it the log before that snapshot is dropped.
        IEnumerable<KeyValuePair<string, string?>> oneHour = [new("Veltrix:Storage:RetentionHours", "1"), new("Veltrix:Storage:SegmentBytes", "1024")];
        using (var resolver = new ResolverFixture(_dataDir, snapshotEveryEvents: 2, settings: oneHour))
        {
            await PlayExploitAsync(resolver);
            // More turns, so the log spans several (small) segments and trimming has whole ones to drop.
            await ApplyAllAsync(resolver, Batch(World, Join(World, "filler", 1, T0 + 41_000).Stamp(T0 + 41_000)), Outcome.Accepted);
            for (var i = 2; i < 60; i++)
            {
                await ApplyAllAsync(resolver, Batch(World, Move(World, "filler", (ulong)i, 0, 0, T0 + 41_000 + i).Stamp(T0 + 41_000 + i)), Outcome.Rejected);
            }
            var deadline = DateTime.UtcNow.AddSeconds(20);
            RpcException? refused = null;
            while (refused is null && DateTime.UtcNow < deadline)
            {
                try
                {
                    await resolver.Admin.RollbackAsync(VoidCheat(dryRun: true));
                    await Task.Delay(50);
                }
                catch (RpcException ex)
                {
                    refused = ex;
                }
            }
            Assert.NotNull(refused);
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains("rollback horizon", refused.Status.Detail, StringComparison.Ordinal);
        }

        using var restarted = new ResolverFixture(_dataDir, settings: oneHour);
        Assert.Equal(70, await ScoreAsync(restarted, "cheat"));
        var retry = await restarted.Writer.ApplyAsync(Batch(World, Dig(World, "cheat", 5, T0 + 40_000).Stamp(T0 + 40_000)));
        Assert.Equal(Outcome.Duplicate, retry.Results[0].Outcome);
    }

    public static TheoryData<RollbackRequest, StatusCode> BadRequests => new()
    {
        { new RollbackRequest { WorldId = "", FromMs = 0, ToMs = 1, Reason = "r" }, StatusCode.InvalidArgument },
        { new RollbackRequest { WorldId = World, PlayerIds = { "no spaces" }, FromMs = 0, ToMs = 1, Reason = "r" }, StatusCode.InvalidArgument },
        { new RollbackRequest { WorldId = World, FromMs = 5, ToMs = 1, Reason = "r" }, StatusCode.InvalidArgument },
        { new RollbackRequest { WorldId = World, FromMs = 0, ToMs = 1, Reason = " " }, StatusCode.InvalidArgument },
        { new RollbackRequest { WorldId = "w-nobody-played", FromMs = 0, ToMs = 1, Reason = "r" }, StatusCode.NotFound },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Rollback_BadRequest_PreciseError(RollbackRequest request, StatusCode expected)
    {
        using var resolver = new ResolverFixture(_dataDir);
        await PlayExploitAsync(resolver);

        var error = await Assert.ThrowsAsync<RpcException>(() => resolver.Admin.RollbackAsync(request).ResponseAsync);

        Assert.Equal(expected, error.StatusCode);
    }
}
