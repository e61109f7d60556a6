using CsCheck;
using Google.Protobuf;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Storage;
using Veltrix.Domain;
using Veltrix.Resolver.Rollback;
using Xunit.Abstractions;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// DESIGN.md section 4: a rollback's result "is what would have happened had the voided events never
/// arrived". Over random games: the rewritten world equals a fresh replay of the log without the voided
/// events, byte for byte; the partition after the commit equals a recovery that replays the log with the
/// rollback entry in it; other worlds do not change; and a second rollback across the first voids the
/// first one's events again.
/// </summary>
public sealed class RollbackPropertyTests(ITestOutputHelper output)
{
    private const long Iterations = 10_000;
    private static readonly string World = ReplayGames.WorldIds[0];

    // Players to void (an empty set: every player) and a window over the game's stamps, which run from
    // T0 up to a few minutes after it. Most windows start and end exactly on stamps the game has, where
    // an off-by-one in the bounds would show.
    private static readonly Gen<RawWindow> Windows = Gen.Select(Gen.Int[0, 7], Gen.Int[0, 200_000], Gen.Int[0, 200_000], Gen.Int[0, 3],
        static (mask, a, b, mode) => new RawWindow(mask, a, b, mode));

    private sealed record RawWindow(int Mask, int A, int B, int Mode)
    {
        public Window For(ReplayGame game)
        {
            string[] players = [.. Enumerable.Range(0, 3).Where(i => (Mask & (1 << i)) != 0).Select(i => $"p{i}")];
            var stamps = game.Batches.SelectMany(b => b.StampsMs).Distinct().Order().ToArray();
            var (a, b) = Mode == 0 || stamps.Length == 0
                ? (ReplayGames.T0 + A, ReplayGames.T0 + B)
                : (stamps[A % stamps.Length], stamps[B % stamps.Length]);
            return new Window(players, Math.Min(a, b), Math.Max(a, b));
        }
    }

    [Fact]
    public void Rollback_ThenRecoveryReplay_EqualsFreshReplayWithoutVoidedEvents()
    {
        Gen.Select(ReplayGames.Unlimited, Windows).Sample((game, raw) =>
        {
            var window = raw.For(game);
            var log = game.Batches;
            var live = game.NewState();
            Apply(live, log);

            var rewrite = new WorldRewrite(new World(World, WorldRules.Default), FlagSet.Defaults(), 1, window.ToRollbackWindow(long.MaxValue), []);
            for (var i = 0; i < log.Length; i++)
            {
                rewrite.Apply(i + 1, Entry(log[i]));
            }

            var fresh = game.NewState();
            Apply(fresh, log.Select(b => Without(b, window)));
            AssertSameWorld(fresh, rewrite.World);
            Assert.Equal(CountVoided(log, window), rewrite.Voided);

            // Commit as the loop does, then recover from the log that now ends with the rollback entry.
            var record = Commit(live, rewrite, window, position: log.Length + 1);
            AssertSameBytes(fresh, live);
            var recovered = game.NewState();
            recovered.Replaying = true;
            Apply(recovered, log);
            recovered.CommitRollback(record);
            AssertSameBytes(live, recovered);
        }, iter: Iterations, print: t => $"void {t.Item2.For(t.Item1)} in {t.Item1}", writeLine: output.WriteLine);
    }

    [Fact]
    public void SecondRollback_AcrossFirst_VoidsBothWindowsAsFreshReplayWould()
    {
        Gen.Select(ReplayGames.Unlimited, Windows, Windows, Gen.Int[0, ReplayGames.MaxSteps]).Sample((game, rawFirst, rawSecond, split) =>
        {
            var (first, second) = (rawFirst.For(game), rawSecond.For(game));
            split = Math.Min(split, game.Batches.Length);
            var before = game.Batches[..split];
            var after = game.Batches[split..];
            var firstPosition = split + 1;

            // The first rollback at entry split + 1 voids its window among the entries before it.
            var live = game.NewState();
            Apply(live, before);
            var rewrite = new WorldRewrite(new World(World, WorldRules.Default), FlagSet.Defaults(), 1, first.ToRollbackWindow(long.MaxValue), []);
            for (var i = 0; i < before.Length; i++)
            {
                rewrite.Apply(i + 1, Entry(before[i]));
            }
            var firstRecord = Commit(live, rewrite, first, firstPosition);
            Apply(live, after);

            // The second replays from the start of the log, across the first rollback's entry.
            var entries = before.Select(Entry).Append(new LogRecord { Rollback = firstRecord }).Concat(after.Select(Entry)).ToArray();
            var again = new WorldRewrite(new World(World, WorldRules.Default), FlagSet.Defaults(), 1, second.ToRollbackWindow(long.MaxValue), [firstRecord.Mark]);
            for (var i = 0; i < entries.Length; i++)
            {
                again.Apply(i + 1, entries[i]);
            }

            var fresh = game.NewState();
            Apply(fresh, before.Select(b => Without(Without(b, first), second)).Concat(after.Select(b => Without(b, second))));
            AssertSameWorld(fresh, again.World);
        }, iter: Iterations, print: t => $"void {t.Item2.For(t.Item1)}, split at {t.Item4}, then void {t.Item3.For(t.Item1)} in {t.Item1}", writeLine: output.WriteLine);
    }

    private sealed record Window(string[] Players, long FromMs, long ToMs)
    {
        public RollbackWindow ToRollbackWindow(long beforePosition) => new(World, Players, FromMs, ToMs, beforePosition);

        public bool Voids(StampedEvent s) =>
            s.Event.WorldId == World && s.StampMs >= FromMs && s.StampMs <= ToMs && (Players.Length == 0 || Players.Contains(s.Event.PlayerId));

        public override string ToString() => $"{(Players.Length == 0 ? "everyone" : string.Join(",", Players))} in [{FromMs - ReplayGames.T0}, {ToMs - ReplayGames.T0}]";
    }

    private static RollbackRecord Commit(PartitionState state, WorldRewrite rewrite, Window window, int position)
    {
        var mark = new RollbackMark { WorldId = World, FromMs = window.FromMs, ToMs = window.ToMs, Position = (ulong)position };
        mark.PlayerIds.AddRange(window.Players);
        var record = new RollbackRecord { Mark = mark, World = PartitionImages.CaptureWorld(rewrite.World), Actor = "test", Reason = "property" };
        state.CommitRollback(record);
        state.Entry.Clear();
        return record;
    }

    private static LogRecord Entry(ApplyBatch batch) => new() { Batches = { batch } };

    private static ApplyBatch Without(ApplyBatch batch, Window window)
    {
        var kept = new ApplyBatch { Partition = batch.Partition };
        kept.Spawns.AddRange(batch.Spawns);
        foreach (var e in batch.Stamped().Where(e => !window.Voids(e) || !EventValidatorAccepts(e)))
        {
            kept.Add(e);
        }
        return kept;
    }

    // A malformed event never reaches a world, so "voiding" it changes nothing either way; the rewrite
    // counts only well-formed ones.
    private static bool EventValidatorAccepts(StampedEvent s)
    {
        var e = Contracts.EventMapping.ToGameEvent(s.Event);
        return EventValidator.Validate(in e).IsAccepted;
    }

    private static long CountVoided(IEnumerable<ApplyBatch> log, Window window) =>
        log.SelectMany(b => b.Stamped()).LongCount(e => window.Voids(e) && EventValidatorAccepts(e));

    private static void Apply(PartitionState state, IEnumerable<ApplyBatch> batches)
    {
        foreach (var batch in batches)
        {
            ApplyWork.ApplyInputs(state, batch, results: null);
        }
    }

    private static void AssertSameWorld(PartitionState expected, World actual)
    {
        var want = expected.FindWorld(World) is { } w ? PartitionImages.CaptureWorld(w) : new WorldImage { WorldId = World };
        var got = PartitionImages.CaptureWorld(actual);
        if (!want.ToByteString().Equals(got.ToByteString()))
        {
            throw new Xunit.Sdk.XunitException($"rewritten world differs\nexpected: {want}\nactual:   {got}");
        }
    }

    // The world being rolled back exists on both sides; compare every world's bytes.
    private static void AssertSameBytes(PartitionState expected, PartitionState actual)
    {
        if (expected.FindWorld(World) is null && actual.FindWorld(World) is { } empty && empty.Players.Count == 0 && empty.AllTreasures.Count == 0)
        {
            expected.PutWorld(new World(World, WorldRules.Default));
        }
        var want = PartitionImage.Parser.ParseFrom(PartitionImages.Capture(expected, 0));
        var got = PartitionImage.Parser.ParseFrom(PartitionImages.Capture(actual, 0));
        // Only the worlds: the rollback marks and the latest stamp are bookkeeping, compared elsewhere.
        want.Rollbacks.Clear();
        got.Rollbacks.Clear();
        if (!want.Worlds.Equals(got.Worlds))
        {
            throw new Xunit.Sdk.XunitException($"partition state differs\nexpected: {want}\nactual:   {got}");
        }
    }
}
