namespace Veltrix.Domain.Tests;

public sealed class FlagSetTests
{
    private const long T0 = 1_700_000_000_000;

    [Fact]
    public void Evaluate_NoRules_WorldDefaults()
    {
        var flags = FlagSet.Defaults();

        Assert.Equal(1, flags.Evaluate(FlagName.TeleportEnabled, "w", "p", T0));
        Assert.Equal(30_000, flags.Evaluate(FlagName.TeleportCooldownMs, "w", "p", T0));
        Assert.Equal(100, flags.Evaluate(FlagName.ScoreMultiplierPct, "w", "p", T0));
    }

    [Fact]
    public void Evaluate_WorldRule_BeatsGlobalRuleWhateverTheOrder()
    {
        var flags = new FlagSet(2, [
            new FlagRule(FlagName.ScoreMultiplierPct, 150, World: "w1"),
            new FlagRule(FlagName.ScoreMultiplierPct, 200),
        ]);

        Assert.Equal(150, flags.Evaluate(FlagName.ScoreMultiplierPct, "w1", "p", T0));
        Assert.Equal(200, flags.Evaluate(FlagName.ScoreMultiplierPct, "w2", "p", T0));
    }

    [Fact]
    public void Evaluate_LaterRuleOfSameScope_Wins()
    {
        var flags = new FlagSet(1, [
            new FlagRule(FlagName.TeleportCooldownMs, 10_000),
            new FlagRule(FlagName.TeleportCooldownMs, 5_000),
        ]);

        Assert.Equal(5_000, flags.Evaluate(FlagName.TeleportCooldownMs, "w", "p", T0));
    }

    [Fact]
    public void Evaluate_TimeWindow_AppliesFromStartUntilBeforeEnd()
    {
        var flags = new FlagSet(1, [new FlagRule(FlagName.ScoreMultiplierPct, 300, FromMs: T0, ToMs: T0 + 1000)]);

        Assert.Equal(100, flags.Evaluate(FlagName.ScoreMultiplierPct, "w", "p", T0 - 1));
        Assert.Equal(300, flags.Evaluate(FlagName.ScoreMultiplierPct, "w", "p", T0));
        Assert.Equal(300, flags.Evaluate(FlagName.ScoreMultiplierPct, "w", "p", T0 + 999));
        Assert.Equal(100, flags.Evaluate(FlagName.ScoreMultiplierPct, "w", "p", T0 + 1000));
    }

    [Fact]
    public void Evaluate_PercentRollout_StablePerPlayerAndCloseToShare()
    {
        var flags = new FlagSet(1, [new FlagRule(FlagName.TeleportEnabled, 0, RolloutPct: 25)]);

        var off = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var player = $"player-{i}";
            var disabled = !flags.IsEnabled(FlagName.TeleportEnabled, "w", player, T0);
            Assert.Equal(FlagSet.RolloutBucket(player) < 25, disabled);
            Assert.Equal(disabled, !new FlagSet(7, flags.Rules).IsEnabled(FlagName.TeleportEnabled, "w", player, T0 + 5));
            off += disabled ? 1 : 0;
        }
        Assert.InRange(off, 2_200, 2_800);
    }

    [Fact]
    public void Evaluate_ManyTimes_AllocatesNothing()
    {
        var flags = new FlagSet(3, [
            new FlagRule(FlagName.TeleportEnabled, 0, World: "w1", RolloutPct: 50),
            new FlagRule(FlagName.ScoreMultiplierPct, 200, FromMs: T0, ToMs: T0 + 10),
        ]);
        long sum = flags.Evaluate(FlagName.TeleportEnabled, "w1", "warm", T0);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            sum += flags.Evaluate(FlagName.TeleportEnabled, "w1", "alice", T0 + i);
            sum += flags.Evaluate(FlagName.ScoreMultiplierPct, "w2", "bob", T0 + i);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(sum > 0);
    }

    [Theory]
    [InlineData(101)]
    [InlineData(-1)]
    public void Constructor_RolloutOutOfRange_Throws(int pct) =>
        Assert.Throws<ArgumentException>(() => new FlagSet(1, [new FlagRule(FlagName.TeleportEnabled, 0, RolloutPct: pct)]));

    [Fact]
    public void Constructor_BadWorldOrEmptyWindow_Throws()
    {
        Assert.Throws<ArgumentException>(() => new FlagSet(1, [new FlagRule(FlagName.TeleportEnabled, 0, World: "bad world")]));
        Assert.Throws<ArgumentException>(() => new FlagSet(1, [new FlagRule(FlagName.TeleportEnabled, 0, FromMs: 5, ToMs: 5)]));
    }

    [Fact]
    public void WorldApply_TeleportDisabledByFlagInOneWorld_RejectedThereOnly()
    {
        var flags = new FlagSet(1, [new FlagRule(FlagName.TeleportEnabled, 0, World: "closed")]);
        var closed = new World("closed", WorldRules.Default);
        var open = new World("open", WorldRules.Default);
        closed.Apply(new GameEvent("p", "closed", 1, T0, EventKind.Join), T0, flags, out _);
        open.Apply(new GameEvent("p", "open", 1, T0, EventKind.Join), T0, flags, out _);

        var a = closed.Apply(new GameEvent("p", "closed", 2, T0, EventKind.Teleport, 5, 5), T0, flags, out _);
        var b = open.Apply(new GameEvent("p", "open", 2, T0, EventKind.Teleport, 5, 5), T0, flags, out _);

        Assert.Equal(Reasons.TeleportDisabled, a.Reason);
        Assert.True(b.IsAccepted);
    }

    [Fact]
    public void WorldApply_CooldownAndMultiplierFromFlags_Used()
    {
        var flags = new FlagSet(1, [
            new FlagRule(FlagName.TeleportCooldownMs, 1_000),
            new FlagRule(FlagName.ScoreMultiplierPct, 300),
        ]);
        var world = new World("w", WorldRules.Default);
        world.Apply(new GameEvent("p", "w", 1, T0, EventKind.Join), T0, flags, out _);
        Assert.True(world.Apply(new GameEvent("p", "w", 2, T0, EventKind.Teleport, 50, 50), T0, flags, out _).IsAccepted);
        world.Spawn("t", 50, 50, 10);

        Assert.True(world.Apply(new GameEvent("p", "w", 3, T0 + 1_000, EventKind.Teleport, 50, 50), T0 + 1_000, flags, out _).IsAccepted);
        Assert.True(world.Apply(new GameEvent("p", "w", 4, T0 + 1_000, EventKind.Dig), T0 + 1_000, flags, out _).IsAccepted);
        Assert.Equal(30, world.FindPlayer("p")!.Score);
    }
}
