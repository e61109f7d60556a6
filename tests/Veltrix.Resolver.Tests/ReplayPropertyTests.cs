using System.Collections.Concurrent;
using System.Text;
using CsCheck;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Storage;
using Veltrix.Contracts.V1;
using Xunit.Abstractions;
using Outcome = Veltrix.Contracts.V1.Outcome;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// The replay guarantees of DESIGN.md section 4 ("given the same log ... every replay produces
/// byte-identical state") over random small games: a few worlds of one partition, a handful of
/// players, and logs with every kind of input, legal and not. State is compared as the bytes
/// <see cref="PartitionImages.Capture"/> writes, which is what a snapshot and a recovery see.
/// </summary>
public sealed class ReplayPropertyTests(ITestOutputHelper output)
{
    private const long Iterations = 10_000;

    [Fact]
    public void Replay_WholeLogAppliedTwice_SameBytesAndSecondPassChangesNothing()
    {
        ReplayGames.Any.Sample(game =>
        {
            var once = game.NewState();
            var first = Apply(once, game.Batches);
            var twice = game.NewState();
            Apply(twice, game.Batches);
            var second = Apply(twice, game.Batches);

            AssertSameBytes(once, twice);
            Assert.Equal(0, second.SpawnsApplied);
            for (var i = 0; i < second.Results.Count; i++)
            {
                // Every event that reached a world consumed its seq, accepted or rejected, joined
                // or not: the second time it is a duplicate. Only what never reached a world
                // (malformed, or refused by the world limit) consumed nothing and meets the same verdict.
                var consumedNothing = first.Results[i].Outcome == Outcome.Malformed || first.Results[i].Reason == Domain.Reasons.TooManyWorlds;
                AssertVerdict(consumedNothing ? first.Results[i] : DuplicateResult, second.Results[i], second.Events[i], "second pass");
            }
        }, iter: Iterations, print: g => g.ToString(), writeLine: output.WriteLine);
    }

    [Fact]
    public void Replay_DuplicatedPrefixThenWholeLog_SameBytesAndSameVerdictsAfterPrefix()
    {
        // Independent of the game, so each shrinks on its own; k past the end means the whole log.
        Gen.Select(ReplayGames.Any, Gen.Int[0, ReplayGames.MaxSteps]).Sample((game, k) =>
        {
            k = Math.Min(k, game.Batches.Length);
            var once = game.NewState();
            var expected = Apply(once, game.Batches);
            var retried = game.NewState();
            Apply(retried, game.Batches.AsSpan(0, k).ToArray());
            var actual = Apply(retried, game.Batches);

            AssertSameBytes(once, retried);
            // After the retried prefix the state is the prefix's state again, so the rest of the
            // log meets exactly the verdicts it met the first time.
            var skip = game.Batches.Take(k).Sum(b => b.Events.Count);
            for (var i = skip; i < actual.Results.Count; i++)
            {
                AssertVerdict(expected.Results[i], actual.Results[i], actual.Events[i], "after the prefix");
            }
        }, iter: Iterations, print: t => $"prefix of {Math.Min(t.Item2, t.Item1.Batches.Length)} batches, then {t.Item1}", writeLine: output.WriteLine);
    }

    /// <summary>
    /// What may be reordered, and why: the rules couple two players only through treasures. A Dig
    /// reads and claims the world's open treasures and a Spawn adds to them; Join, Leave, Move and
    /// Teleport read and write only the acting player's record, and every clock they compare
    /// (client time, the teleport cooldown's stamp) is the event's own or that player's own.
    /// Worlds share nothing at all (without a world limit: with one, which world is created first
    /// decides which is refused). So any interleaving is equivalent that keeps, per world, the
    /// order of its spawns and of every event of its players who dig, and per (world, player) the
    /// order of everyone else's events. Moving two diggers' events past each other is not: the
    /// first Dig in the partition's order claims the treasure, by design.
    /// </summary>
    [Fact]
    public void Replay_InterleavingThatKeepsEachWorldsDigOrderAndEachPlayersOrder_SameBytesAndVerdicts()
    {
        // One pick and one cut per step of the longest game, independent of the game so each shrinks on its own.
        var steering = Gen.Select(Gen.Int[0, 999].Array[ReplayGames.MaxSteps], Gen.Int[0, 3].Array[ReplayGames.MaxSteps]);
        Gen.Select(ReplayGames.Unlimited, steering).Sample((game, steer) =>
        {
            var reordered = Interleave(game, steer.Item1, steer.Item2);
            var original = game.NewState();
            var expected = Apply(original, game.Batches);
            var shuffled = game.NewState();
            var actual = Apply(shuffled, reordered);

            AssertSameBytes(original, shuffled);
            // Same verdict for each event, wherever it ended up (events are matched by instance).
            var verdicts = new Dictionary<Event, EventResult>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < actual.Events.Count; i++)
            {
                verdicts.Add(actual.Events[i].Event, actual.Results[i]);
            }
            for (var i = 0; i < expected.Events.Count; i++)
            {
                AssertVerdict(expected.Results[i], verdicts[expected.Events[i].Event], expected.Events[i], "reordered");
            }
        }, iter: Iterations, print: t => $"{t.Item1}reordered as:\n{ReplayGames.Describe(Interleave(t.Item1, t.Item2.Item1, t.Item2.Item2))}", writeLine: output.WriteLine);
    }

    [Fact]
    public void Replay_SameLogOnTwoFreshStates_SameBytesAndSameVerdicts()
    {
        ReplayGames.Any.Sample(game =>
        {
            var a = game.NewState();
            var b = game.NewState();
            var ra = Apply(a, game.Batches);
            var rb = Apply(b, game.Batches);

            AssertSameBytes(a, b);
            for (var i = 0; i < ra.Results.Count; i++)
            {
                AssertVerdict(ra.Results[i], rb.Results[i], rb.Events[i], "second state");
            }
            Assert.Equal(ra.SpawnsApplied, rb.SpawnsApplied);
        }, iter: Iterations, print: g => g.ToString(), writeLine: output.WriteLine);
    }

    [Fact]
    public void Snapshot_CaptureRestoreThenContinue_SameBytesAsNeverSnapshotted()
    {
        Gen.Select(ReplayGames.Any, Gen.Int[0, ReplayGames.MaxSteps]).Sample((game, split) =>
        {
            split = Math.Min(split, game.Batches.Length);
            var live = game.NewState();
            Apply(live, game.Batches.AsSpan(0, split).ToArray());
            var image = PartitionImages.Capture(live, position: 0);
            var restored = game.NewState();
            PartitionImages.Restore(restored, image);

            AssertSameBytes(image, PartitionImages.Capture(restored, position: 0));

            var rest = game.Batches.AsSpan(split).ToArray();
            var expected = Apply(live, rest);
            var actual = Apply(restored, rest);
            AssertSameBytes(live, restored);
            for (var i = 0; i < expected.Results.Count; i++)
            {
                AssertVerdict(expected.Results[i], actual.Results[i], actual.Events[i], "after the restore");
            }
            Assert.Equal(expected.SpawnsApplied, actual.SpawnsApplied);
        }, iter: Iterations, print: t => $"snapshot after {Math.Min(t.Item2, t.Item1.Batches.Length)} batches of {t.Item1}", writeLine: output.WriteLine);
    }

    [Fact]
    public void Snapshot_WrittenWithoutMessages_SameBytesAsTheGeneratedSerializer()
    {
        // The loop writes its snapshot by hand (CapturePooled); recovery reads it with the generated parser.
        Gen.Select(ReplayGames.Any, Gen.Long[0, long.MaxValue]).Sample((game, position) =>
        {
            var state = game.NewState();
            Apply(state, game.Batches);
            var (buffer, length) = PartitionImages.CapturePooled(state, position);
            try
            {
                Assert.Equal(PartitionImages.Capture(state, position), buffer.AsSpan(0, length).ToArray());
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }, iter: Iterations, print: t => $"at position {t.Item2}: {t.Item1}", writeLine: output.WriteLine);
    }

    /// <summary>The properties above are only as good as the games: every verdict must come up.</summary>
    [Fact]
    public void ReplayGames_TenThousandGames_ReachEveryVerdictAndSpawnOutcome()
    {
        var seen = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        ReplayGames.Any.Sample(game =>
        {
            var state = game.NewState();
            foreach (var batch in game.Batches)
            {
                var reply = new ApplyReply();
                ApplyWork.ApplyInputs(state, batch, reply);
                seen.AddOrUpdate(reply.SpawnsApplied == batch.Spawns.Count ? "spawns all new" : "spawn ignored", 1, (_, n) => n + 1);
                for (var i = 0; i < batch.Events.Count; i++)
                {
                    var r = reply.Results[i];
                    seen.AddOrUpdate($"{batch.Events[i].KindCase} {r.Outcome} {r.Reason}", 1, (_, n) => n + 1);
                }
            }
        }, iter: Iterations, threads: 1);

        foreach (var (verdict, count) in seen.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{count,8} {verdict}");
        }
        string[] wanted =
        [
            "Join Accepted ", "Leave Accepted ", "Move Accepted ", "Teleport Accepted ", "Dig Accepted ",
            $"Dig Duplicate {Domain.Reasons.Duplicate}",
            $"Move Rejected {Domain.Reasons.TooFast}",
            $"Move Rejected {Domain.Reasons.OutOfBounds}",
            $"Teleport Rejected {Domain.Reasons.OutOfBounds}",
            $"Teleport Rejected {Domain.Reasons.TeleportCooldown}",
            $"Dig Rejected {Domain.Reasons.NothingToDig}",
            $"Dig Rejected {Domain.Reasons.NotJoined}",
            $"Move Rejected {Domain.Reasons.ClockAhead}",
            $"Move Rejected {Domain.Reasons.ClockBackwards}",
            $"Join Rejected {Domain.Reasons.TooManyWorlds}",
            $"Join Malformed {Domain.Reasons.SeqZero}",
            $"None Malformed {Domain.Reasons.KindMissing}",
            $"Join Malformed {Domain.Reasons.PlayerIdInvalid}",
            "spawn ignored",
        ];
        Assert.All(wanted, w => Assert.True(seen.GetValueOrDefault(w) >= 100, $"'{w}' came up {seen.GetValueOrDefault(w)} times in {Iterations} games"));
    }

    private static readonly EventResult DuplicateResult = new() { Outcome = Outcome.Duplicate, Reason = Domain.Reasons.Duplicate };

    /// <summary>Every event applied, in order, with its verdict.</summary>
    private sealed record Run(List<StampedEvent> Events, List<EventResult> Results, long SpawnsApplied);

    private static Run Apply(PartitionState state, IEnumerable<ApplyBatch> batches)
    {
        var run = new Run([], [], 0);
        long spawns = 0;
        foreach (var batch in batches)
        {
            var reply = new ApplyReply();
            ApplyWork.ApplyInputs(state, batch, reply);
            run.Events.AddRange(batch.Stamped());
            run.Results.AddRange(reply.Results);
            spawns += reply.SpawnsApplied;
        }
        return run with { SpawnsApplied = spawns };
    }

    private static void AssertVerdict(EventResult expected, EventResult actual, StampedEvent stamped, string when)
    {
        if (!expected.Equals(actual))
        {
            throw new Xunit.Sdk.XunitException(
                $"{when}: {ReplayGames.Describe(stamped)} was {actual.Outcome} '{actual.Reason}', expected {expected.Outcome} '{expected.Reason}'");
        }
    }

    private static void AssertSameBytes(PartitionState expected, PartitionState actual) =>
        AssertSameBytes(PartitionImages.Capture(expected, position: 0), PartitionImages.Capture(actual, position: 0));

    private static void AssertSameBytes(byte[] expected, byte[] actual)
    {
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            // The decoded images say what differs; the bytes alone would not.
            throw new Xunit.Sdk.XunitException(
                $"state bytes differ\nexpected: {PartitionImage.Parser.ParseFrom(expected)}\nactual:   {PartitionImage.Parser.ParseFrom(actual)}");
        }
    }

    /// <summary>
    /// A merge of the log's chains (see the property above) steered by <paramref name="picks"/>,
    /// cut into batches by <paramref name="cuts"/>. A batch applies its spawns before its events,
    /// so a spawn that follows an event always opens a new batch: the applied order is the merge.
    /// </summary>
    private static ApplyBatch[] Interleave(ReplayGame game, int[] picks, int[] cuts)
    {
        var diggers = new HashSet<(string, string)>();
        foreach (var batch in game.Batches)
        {
            foreach (var e in batch.Events)
            {
                if (e.KindCase == Event.KindOneofCase.Dig)
                {
                    diggers.Add((e.WorldId, e.PlayerId));
                }
            }
        }
        var chains = new Dictionary<string, Queue<(Spawn? Spawn, StampedEvent? Event)>>(StringComparer.Ordinal);
        var order = new List<Queue<(Spawn?, StampedEvent?)>>();
        void Add(string key, (Spawn?, StampedEvent?) item)
        {
            if (!chains.TryGetValue(key, out var chain))
            {
                chains.Add(key, chain = new Queue<(Spawn?, StampedEvent?)>());
                order.Add(chain);
            }
            chain.Enqueue(item);
        }
        foreach (var batch in game.Batches)
        {
            foreach (var s in batch.Spawns)
            {
                Add("world " + s.WorldId, (s, null));
            }
            foreach (var s in batch.Stamped())
            {
                var e = s.Event;
                Add(diggers.Contains((e.WorldId, e.PlayerId)) ? "world " + e.WorldId : $"player {e.WorldId}/{e.PlayerId}", (null, s));
            }
        }

        var total = game.Batches.Sum(static b => b.Spawns.Count + b.Events.Count);
        var batches = new List<ApplyBatch>();
        ApplyBatch? current = null;
        for (var i = 0; i < total; i++)
        {
            order.RemoveAll(static c => c.Count == 0);
            var (spawn, stamped) = order[picks[i] % order.Count].Dequeue();
            if (current is null || cuts[i] == 0 || (spawn is not null && current.Events.Count > 0))
            {
                current = new ApplyBatch { Partition = ReplayGames.PartitionId };
                batches.Add(current);
            }
            if (spawn is not null)
            {
                current.Spawns.Add(spawn);
            }
            else
            {
                current.Add(stamped!);
            }
        }
        return [.. batches];
    }
}

/// <summary>A generated log and the partition options it is applied with.</summary>
internal sealed record ReplayGame(ApplyBatch[] Batches, bool LimitWorlds)
{
    // Three worlds are generated; a limit of two makes the third one's inputs meet TooManyWorlds.
    private static readonly ResolverOptions Limited = new() { MaxWorldsPerPartition = 2 };
    private static readonly ResolverOptions Unlimited = new();

    public PartitionState NewState() => new((int)ReplayGames.PartitionId, LimitWorlds ? Limited : Unlimited);

    public override string ToString() =>
        $"{(LimitWorlds ? "at most 2 worlds" : "no world limit")}, {Batches.Length} batches:\n{ReplayGames.Describe(Batches)}";
}

/// <summary>
/// Random games that mostly follow the rules, so the interesting verdicts come up: each step is
/// turned into an input by a rough model of each player (joined or not, position, clocks, seq),
/// then bent on purpose (clock ahead or backwards, too far, out of bounds, cooling down, retried,
/// malformed). Treasures and teleports aim at a few hotspots so digs find treasures, and ties.
/// </summary>
internal static class ReplayGames
{
    public const long T0 = 1_700_000_000_000;
    public const int MaxSteps = 50;
    private const int Players = 3;
    private const int TreasureIds = 6;

    public static readonly string[] WorldIds = SamePartitionWorlds(3);
    public static readonly uint PartitionId = (uint)Domain.Partitioning.PartitionOf(WorldIds[0], ResolverFixture.Partitions);

    // Four within dig radius of each other, where most treasure is; a few at the corners, where the grid ends.
    private static readonly (int X, int Y)[] Hotspots =
        [(5_000, 5_000), (5_010, 5_000), (5_005, 5_000), (5_005, 5_005), (0, 0), (99_999, 99_999)];

    // Half the steps happen in the first world, a fifth in the third: with a limit of two worlds,
    // the world that comes third is refused, and it should not be most of the game.
    private static readonly Gen<Step> Steps = Gen.Select(
        Gen.Int[0, 99], Gen.Int[0, 9], Gen.Int[0, Players - 1], Gen.Int[0, 99],
        Gen.Int[0, 99], Gen.Int[0, 999], Gen.Int[0, 999], Gen.Int[0, 99], Gen.Int[0, 3],
        static (kind, world, player, clock, shape, a, b, tick, cut) =>
            new Step(kind, world < 5 ? 0 : world < 8 ? 1 : 2, player, clock, shape, a, b, tick, cut == 0));

    private static readonly Gen<int[]> Skews = Gen.Int[-1_500, 1_500].Array[Players];

    public static readonly Gen<ReplayGame> Any =
        Gen.Select(Skews, Steps.Array[1, MaxSteps], Gen.Int[0, 3], static (skews, steps, limit) => Build(skews, steps, limitWorlds: limit == 0));

    public static readonly Gen<ReplayGame> Unlimited =
        Gen.Select(Skews, Steps.Array[1, MaxSteps], static (skews, steps) => Build(skews, steps, limitWorlds: false));

    /// <summary>One generated step. Kind picks the input, Clock how the client's clock behaves,
    /// Shape whether a move or teleport is legal, A and B its numbers, Tick how far the stamp moves.</summary>
    private readonly record struct Step(int Kind, int World, int Player, int Clock, int Shape, int A, int B, int Tick, bool Cut);

    private sealed class PlayerModel
    {
        public ulong NextSeq = 1;
        public bool Joined;
        public bool Placed;
        public int X;
        public int Y;
        public long LastMotionStamp;
        public long? LastTeleportStamp;
        public long LastClient;
        public readonly List<Event> Sent = [];
    }

    private static string[] SamePartitionWorlds(int count)
    {
        var ids = new List<string>();
        var partition = Domain.Partitioning.PartitionOf("w-0", ResolverFixture.Partitions);
        for (var i = 0; ids.Count < count; i++)
        {
            var id = $"w-{i}";
            if (Domain.Partitioning.PartitionOf(id, ResolverFixture.Partitions) == partition)
            {
                ids.Add(id);
            }
        }
        return [.. ids];
    }

    private static ReplayGame Build(int[] skews, Step[] steps, bool limitWorlds)
    {
        var size = Domain.WorldRules.Default.Size;
        var models = new Dictionary<(int, int), PlayerModel>();
        var batches = new List<ApplyBatch>();
        ApplyBatch? batch = null;
        var stamp = T0;
        foreach (var s in steps)
        {
            // Stamps never go back; a quarter of steps share the previous stamp, a few jump past a cooldown.
            stamp += s.Tick < 25 ? 0 : s.Tick < 85 ? (s.Tick - 25) * 35 : 30_000 + (s.Tick - 85) * 150;
            if (batch is null || s.Cut)
            {
                batch = new ApplyBatch { Partition = PartitionId };
                batches.Add(batch);
            }
            var world = WorldIds[s.World];
            if (s.Kind is >= 68 and < 84)
            {
                var (hx, hy) = Hotspot(s.A / TreasureIds);
                batch.Spawns.Add(new Spawn
                {
                    WorldId = world,
                    TreasureId = $"t{s.A % TreasureIds}",
                    // Half exactly on a hotspot, where digs from between two of them tie.
                    X = s.Shape < 10 ? -5 : s.B % 2 == 0 ? hx : hx + (s.B % 11) - 5,
                    Y = s.Shape < 10 ? hy : s.B % 2 == 0 ? hy : hy + (s.B / 11 % 11) - 5,
                    Value = 1 + (s.B % 50),
                    StampMs = stamp,
                });
                continue;
            }

            if (!models.TryGetValue((s.World, s.Player), out var m))
            {
                models.Add((s.World, s.Player), m = new PlayerModel());
            }
            var player = $"p{s.Player}";
            var e = new Event { WorldId = world, PlayerId = player, Seq = m.NextSeq };
            var clockOk = s.Clock < 90;
            e.ClientTimeMs = s.Clock switch
            {
                < 90 => m.LastClient = stamp + skews[s.Player],
                < 95 => stamp + 1_999 + (s.A % 100),   // 1,999 and 2,000 are still in skew; the rest is ahead
                _ => (m.LastClient > 0 ? m.LastClient : stamp) - 1 - s.A,
            };

            if (s.Kind >= 96)
            {
                // Malformed: consumes no seq.
                switch (s.Shape % 3)
                {
                    case 0:
                        e.Seq = 0;
                        e.Join = new Join();
                        break;
                    case 1:
                        break;
                    default:
                        e.PlayerId = "bad player!";
                        e.Join = new Join();
                        break;
                }
            }
            else if (s.Kind >= 84 && m.Sent.Count > 0)
            {
                var earlier = m.Sent[s.A % m.Sent.Count];
                if (s.Shape < 70)
                {
                    e = earlier.Clone();   // a retry: same event, new stamp
                }
                else
                {
                    e.Seq = earlier.Seq;   // a confused client: an old seq with new content
                    e.Dig = new Dig();
                }
            }
            else
            {
                m.NextSeq += s.B % 5 == 0 ? 2u : 1u;   // seqs increase, sometimes with a gap
                var applies = clockOk && m.Joined;
                // Most players join before they act, some do not.
                var kind = !m.Placed && s.Shape >= 25 ? 0 : s.Kind;
                switch (kind)
                {
                    case < 10 or >= 84:
                        e.Join = new Join();
                        if (clockOk)
                        {
                            if (!m.Placed)
                            {
                                (m.X, m.Y) = Domain.World.StartingPoint(world, player, size);
                                m.Placed = true;
                            }
                            m.Joined = true;
                            m.LastMotionStamp = stamp;
                        }
                        break;
                    case < 15:
                        e.Leave = new Leave();
                        m.Joined &= !applies;
                        break;
                    case < 35:
                    {
                        var elapsed = Math.Min(100_000, stamp - m.LastMotionStamp);
                        var reach = (int)(Domain.WorldRules.Default.MaxSpeed * elapsed / 1_000) + Domain.WorldRules.Default.MoveSlack;
                        var (x, y) = s.Shape switch
                        {
                            // Inside a square whose corners are within reach; often a small step, to stay near treasure.
                            < 40 => (m.X + Spread(s.A, Math.Min(15, reach * 7 / 10)), m.Y + Spread(s.B, Math.Min(15, reach * 7 / 10))),
                            < 60 => (m.X + Spread(s.A, reach * 7 / 10), m.Y + Spread(s.B, reach * 7 / 10)),
                            < 80 => (m.X + reach + 1 + s.A, m.Y),
                            _ => s.A % 2 == 0 ? (-1 - s.B, m.Y) : (m.X, size + s.B),
                        };
                        e.Move = new Move { X = x, Y = y };
                        if (applies && s.Shape < 60 && InBounds(x, y, size))
                        {
                            (m.X, m.Y, m.LastMotionStamp) = (x, y, stamp);
                        }
                        break;
                    }
                    case < 53:
                    {
                        var (hx, hy) = Hotspot(s.A);
                        var (x, y) = s.Shape switch
                        {
                            // A third exactly on a hotspot: between treasures on two others, a dig ties.
                            < 60 => s.B % 3 == 0 ? (hx, hy) : (hx + (s.B % 7) - 3, hy + (s.B / 7 % 7) - 3),
                            < 90 => ((s.A * 100) + s.B, (s.B * 100) + s.A),
                            _ => (size + s.B, s.A),
                        };
                        e.Teleport = new Teleport { X = x, Y = y };
                        if (applies && InBounds(x, y, size) && (m.LastTeleportStamp is not { } last || stamp >= last + 30_000))
                        {
                            (m.X, m.Y, m.LastMotionStamp, m.LastTeleportStamp) = (x, y, stamp, stamp);
                        }
                        break;
                    }
                    default:
                        e.Dig = new Dig();
                        break;
                }
                m.Sent.Add(e);
            }
            batch.Add(e, stamp);
        }
        return new ReplayGame([.. batches], limitWorlds);
    }

    private static (int X, int Y) Hotspot(int roll) => Hotspots[roll % 10 == 0 ? 4 + (roll / 10 % 2) : roll % 4];

    /// <summary>An offset in [-radius, radius], spread over <paramref name="roll"/>'s range [0, 999].</summary>
    private static int Spread(int roll, int radius) => (int)((long)roll * 2 * radius / 999) - radius;

    private static bool InBounds(int x, int y, int size) => (uint)x < (uint)size && (uint)y < (uint)size;

    /// <summary>A log as a reader wants it in a failure report: times relative to T0.</summary>
    public static string Describe(IEnumerable<ApplyBatch> batches)
    {
        var text = new StringBuilder();
        var n = 0;
        foreach (var batch in batches)
        {
            text.Append("  batch ").Append(n++).Append('\n');
            foreach (var s in batch.Spawns)
            {
                text.Append($"    spawn {s.WorldId} {s.TreasureId} at ({s.X},{s.Y}) value {s.Value}\n");
            }
            foreach (var stamped in batch.Stamped())
            {
                text.Append("    ").Append(Describe(stamped)).Append('\n');
            }
        }
        return text.ToString();
    }

    public static string Describe(StampedEvent stamped)
    {
        var e = stamped.Event;
        var what = e.KindCase switch
        {
            Event.KindOneofCase.Move => $"move to ({e.Move.X},{e.Move.Y})",
            Event.KindOneofCase.Teleport => $"teleport to ({e.Teleport.X},{e.Teleport.Y})",
            Event.KindOneofCase.None => "(no kind)",
            var kind => kind.ToString().ToLowerInvariant(),
        };
        return $"@{stamped.StampMs - T0} {e.WorldId} {e.PlayerId} seq {e.Seq} client @{e.ClientTimeMs - T0}: {what}";
    }
}
