namespace Veltrix.Domain.Tests;

public sealed class WorldTests
{
    private const long T0 = 1_700_000_000_000;
    private readonly World _world = new("w1", WorldRules.Default);

    private static GameEvent Ev(string player, ulong seq, long clientMs, EventKind kind, int x = 0, int y = 0) =>
        new(player, "w1", seq, clientMs, kind, x, y);

    private Verdict Apply(in GameEvent e, long stamp) => _world.Apply(in e, stamp, out _);

    private Player JoinAt(string id, int x, int y)
    {
        Assert.True(Apply(Ev(id, 1, T0, EventKind.Join), T0).IsAccepted);
        var p = _world.FindPlayer(id)!;
        // Put the player somewhere known: a teleport (first one is never on cooldown).
        Assert.True(Apply(Ev(id, 2, T0, EventKind.Teleport, x, y), T0).IsAccepted);
        return p;
    }

    [Fact]
    public void Join_NewPlayer_PlacedAtDeterministicPointAndReportsZeroScore()
    {
        var verdict = _world.Apply(Ev("alice", 1, T0, EventKind.Join), T0, out var change);

        Assert.Equal(Outcome.Accepted, verdict.Outcome);
        var p = _world.FindPlayer("alice")!;
        Assert.True(p.Online);
        Assert.Equal(World.StartingPoint("w1", "alice", 100_000), (p.X, p.Y));
        Assert.Equal(new ScoreChange("alice", 0, T0), change);

        var again = new World("w1", WorldRules.Default);
        again.Apply(Ev("alice", 1, T0 + 5, EventKind.Join), T0 + 5, out _);
        Assert.Equal((p.X, p.Y), (again.FindPlayer("alice")!.X, again.FindPlayer("alice")!.Y));
    }

    [Fact]
    public void Join_ReturningPlayer_KeepsPosition()
    {
        var p = JoinAt("alice", 500, 600);
        Assert.True(Apply(Ev("alice", 3, T0 + 10, EventKind.Leave), T0 + 10).IsAccepted);
        Assert.False(p.Online);

        Assert.True(_world.Apply(Ev("alice", 4, T0 + 20, EventKind.Join), T0 + 20, out var change).IsAccepted);

        Assert.True(p.Online);
        Assert.Equal((500, 600), (p.X, p.Y));
        Assert.False(change.HasValue);
    }

    [Theory]
    [InlineData(EventKind.Move)]
    [InlineData(EventKind.Dig)]
    [InlineData(EventKind.Leave)]
    [InlineData(EventKind.Teleport)]
    public void AnyButJoin_UnknownPlayer_Rejected(EventKind kind)
    {
        var verdict = Apply(Ev("ghost", 1, T0, kind, 1, 1), T0);

        Assert.Equal(Verdict.Rejected(Reasons.NotJoined), verdict);
        Assert.Null(_world.FindPlayer("ghost"));
    }

    [Fact]
    public void Rejected_BeforeJoin_ConsumesSeqSoReplayIsIdempotent()
    {
        // A join refused for its clock, then a dig refused for want of a join: both seqs are used up.
        Assert.Equal(Reasons.ClockAhead, Apply(Ev("late", 1, T0 + 5_000, EventKind.Join), T0).Reason);
        Assert.Equal(Reasons.NotJoined, Apply(Ev("late", 2, T0 + 5_000, EventKind.Dig), T0 + 5_000).Reason);

        Assert.Equal(Outcome.Duplicate, Apply(Ev("late", 1, T0 + 5_000, EventKind.Join), T0 + 5_000).Outcome);
        Assert.Null(_world.FindPlayer("late"));
        Assert.Equal(0, _world.PlayerCount);

        Assert.True(_world.Apply(Ev("late", 3, T0 + 6_000, EventKind.Join), T0 + 6_000, out var change).IsAccepted);
        Assert.Equal(new ScoreChange("late", 0, T0 + 6_000), change);
        Assert.Equal(World.StartingPoint("w1", "late", 100_000), (_world.FindPlayer("late")!.X, _world.FindPlayer("late")!.Y));
        Assert.Equal(1, _world.PlayerCount);
    }

    [Fact]
    public void Move_OfflinePlayer_RejectedAndConsumesSeq()
    {
        JoinAt("alice", 100, 100);
        Apply(Ev("alice", 3, T0 + 1, EventKind.Leave), T0 + 1);

        Assert.Equal(Reasons.NotJoined, Apply(Ev("alice", 4, T0 + 1000, EventKind.Move, 101, 100), T0 + 1000).Reason);
        Assert.Equal(Outcome.Duplicate, Apply(Ev("alice", 4, T0 + 1000, EventKind.Move, 101, 100), T0 + 1000).Outcome);
    }

    [Fact]
    public void Seq_NotAboveLastApplied_Duplicate_NoEffect()
    {
        var p = JoinAt("alice", 100, 100);
        Assert.True(Apply(Ev("alice", 3, T0 + 1000, EventKind.Move, 150, 100), T0 + 1000).IsAccepted);

        Assert.Equal(Verdict.Duplicate, Apply(Ev("alice", 3, T0 + 2000, EventKind.Move, 200, 100), T0 + 2000));
        Assert.Equal(Verdict.Duplicate, Apply(Ev("alice", 1, T0 + 2000, EventKind.Move, 200, 100), T0 + 2000));
        Assert.Equal((150, 100), (p.X, p.Y));
        Assert.Equal(3UL, p.LastSeq);
    }

    [Fact]
    public void Move_WithinSpeedPlusSlack_Accepted()
    {
        var p = JoinAt("alice", 1000, 1000);

        // 1 s of client time at 100 units/s plus 5 of slack: 105 units.
        Assert.True(Apply(Ev("alice", 3, T0 + 1000, EventKind.Move, 1105, 1000), T0 + 1000).IsAccepted);
        Assert.Equal((1105, 1000), (p.X, p.Y));
    }

    [Fact]
    public void Move_FartherThanSpeedAllows_RejectedAndPositionAndClockUnchanged()
    {
        var p = JoinAt("alice", 1000, 1000);

        Assert.Equal(Reasons.TooFast, Apply(Ev("alice", 3, T0 + 1000, EventKind.Move, 1106, 1000), T0 + 1000).Reason);
        Assert.Equal((1000, 1000), (p.X, p.Y));
        // The rejected move did not reset the motion clock: 2 s after the teleport, 205 units are allowed.
        Assert.True(Apply(Ev("alice", 4, T0 + 2000, EventKind.Move, 1205, 1000), T0 + 2000).IsAccepted);
    }

    [Fact]
    public void Move_DiagonalDistance_IsEuclidean()
    {
        JoinAt("alice", 1000, 1000);

        // (80, 80) is 113 units away: more than 105.
        Assert.Equal(Reasons.TooFast, Apply(Ev("alice", 3, T0 + 1000, EventKind.Move, 1080, 1080), T0 + 1000).Reason);
        // (70, 70) is 99 units away.
        Assert.True(Apply(Ev("alice", 4, T0 + 1000, EventKind.Move, 1070, 1070), T0 + 1000).IsAccepted);
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    [InlineData(100_000, 5)]
    [InlineData(5, 100_000)]
    public void MoveAndTeleport_OutOfBounds_Rejected(int x, int y)
    {
        JoinAt("alice", 0, 0);
        var far = T0 + 10_000_000;

        Assert.Equal(Reasons.OutOfBounds, Apply(Ev("alice", 3, far, EventKind.Move, x, y), far).Reason);
        Assert.Equal(Reasons.OutOfBounds, Apply(Ev("alice", 4, far, EventKind.Teleport, x, y), far).Reason);
    }

    [Fact]
    public void Move_HugeElapsedTime_DoesNotOverflow()
    {
        JoinAt("alice", 0, 0);
        var far = T0 + 9_000_000_000_000;

        Assert.True(Apply(Ev("alice", 3, far, EventKind.Move, 99_999, 99_999), far).IsAccepted);
    }

    [Fact]
    public void ClientTime_AheadOfStampBeyondSkew_Rejected()
    {
        Assert.Equal(Reasons.ClockAhead, Apply(Ev("alice", 1, T0 + 2001, EventKind.Join), T0).Reason);
        Assert.True(Apply(Ev("alice", 2, T0 + 2000, EventKind.Join), T0).IsAccepted);
    }

    [Fact]
    public void ClientTime_GoingBackwards_Rejected()
    {
        JoinAt("alice", 100, 100);
        Apply(Ev("alice", 3, T0 + 1000, EventKind.Move, 110, 100), T0 + 1000);

        Assert.Equal(Reasons.ClockBackwards, Apply(Ev("alice", 4, T0 + 999, EventKind.Move, 111, 100), T0 + 1000).Reason);
    }

    [Fact]
    public void Teleport_WithinCooldown_RejectedThenAcceptedAfterIt()
    {
        var p = JoinAt("alice", 100, 100);

        Assert.Equal(Reasons.TeleportCooldown, Apply(Ev("alice", 3, T0 + 29_999, EventKind.Teleport, 5000, 5000), T0 + 29_999).Reason);
        Assert.Equal(T0 + 30_000, p.TeleportReadyAtMs(_world.Rules));
        Assert.True(Apply(Ev("alice", 4, T0 + 30_000, EventKind.Teleport, 5000, 5000), T0 + 30_000).IsAccepted);
        Assert.Equal((5000, 5000), (p.X, p.Y));
    }

    [Fact]
    public void Teleport_Disabled_Rejected()
    {
        var world = new World("w1", WorldRules.Default with { TeleportEnabled = false });
        world.Apply(Ev("alice", 1, T0, EventKind.Join), T0, out _);

        Assert.Equal(Reasons.TeleportDisabled, world.Apply(Ev("alice", 2, T0, EventKind.Teleport, 1, 1), T0, out _).Reason);
    }

    [Fact]
    public void Dig_TreasureInReach_ClaimsAndScores()
    {
        var p = JoinAt("alice", 1000, 1000);
        Assert.True(_world.Spawn("t1", 1010, 1010, 40));

        var verdict = _world.Apply(Ev("alice", 3, T0 + 5, EventKind.Dig), T0 + 5, out var change);

        Assert.True(verdict.IsAccepted);
        Assert.Equal(40, p.Score);
        Assert.Equal(new ScoreChange("alice", 40, T0 + 5), change);
        Assert.Equal("alice", _world.FindTreasure("t1")!.ClaimedBy);
        Assert.Equal(0, _world.OpenTreasureCount);
    }

    [Fact]
    public void Dig_NothingWithinRadius_Rejected()
    {
        JoinAt("alice", 1000, 1000);
        _world.Spawn("t1", 1015, 1015, 40); // 21.2 units away

        Assert.Equal(Reasons.NothingToDig, Apply(Ev("alice", 3, T0 + 5, EventKind.Dig), T0 + 5).Reason);
        Assert.Null(_world.FindTreasure("t1")!.ClaimedBy);
    }

    [Fact]
    public void Dig_TwoPlayersSameTreasure_FirstInOrderWins()
    {
        var alice = JoinAt("alice", 1000, 1000);
        var bob = JoinAt("bob", 1000, 1000);
        _world.Spawn("t1", 1000, 1000, 10);

        Assert.True(Apply(Ev("bob", 3, T0 + 5, EventKind.Dig), T0 + 5).IsAccepted);
        Assert.Equal(Reasons.NothingToDig, Apply(Ev("alice", 3, T0 + 6, EventKind.Dig), T0 + 6).Reason);
        Assert.Equal((0, 10), (alice.Score, bob.Score));
    }

    [Fact]
    public void Dig_SeveralInReach_NearestThenSmallestIdWins()
    {
        JoinAt("alice", 1000, 1000);
        _world.Spawn("far", 1010, 1000, 1);
        _world.Spawn("b", 1003, 1004, 2);   // distance 5
        _world.Spawn("a", 1000, 1005, 3);   // distance 5, smaller id

        Assert.True(Apply(Ev("alice", 3, T0 + 1, EventKind.Dig), T0 + 1).IsAccepted);
        Assert.Equal("alice", _world.FindTreasure("a")!.ClaimedBy);
        Assert.True(Apply(Ev("alice", 4, T0 + 2, EventKind.Dig), T0 + 2).IsAccepted);
        Assert.Equal("alice", _world.FindTreasure("b")!.ClaimedBy);
        Assert.True(Apply(Ev("alice", 5, T0 + 3, EventKind.Dig), T0 + 3).IsAccepted);
        Assert.Equal("alice", _world.FindTreasure("far")!.ClaimedBy);
    }

    [Fact]
    public void Dig_TreasureAcrossCellBoundary_Found()
    {
        JoinAt("alice", 39, 39);
        _world.Spawn("t1", 41, 41, 7);

        Assert.True(Apply(Ev("alice", 3, T0 + 1, EventKind.Dig), T0 + 1).IsAccepted);
    }

    [Fact]
    public void Dig_ScoreMultiplier_Applied()
    {
        var world = new World("w1", WorldRules.Default with { ScoreMultiplierPct = 250 });
        world.Apply(Ev("alice", 1, T0, EventKind.Join), T0, out _);
        var p = world.FindPlayer("alice")!;
        world.Spawn("t1", p.X, p.Y, 10);

        Assert.True(world.Apply(Ev("alice", 2, T0, EventKind.Dig), T0, out _).IsAccepted);
        Assert.Equal(25, p.Score);
    }

    [Fact]
    public void Spawn_SameIdTwice_SecondIgnoredEvenAfterClaim()
    {
        JoinAt("alice", 1000, 1000);
        Assert.True(_world.Spawn("t1", 1000, 1000, 10));
        Apply(Ev("alice", 3, T0 + 1, EventKind.Dig), T0 + 1);

        Assert.False(_world.Spawn("t1", 1000, 1000, 10));
        Assert.Equal(0, _world.OpenTreasureCount);
    }

    [Fact]
    public void Join_WorldAtPlayerLimit_Rejected()
    {
        var world = new World("w1", WorldRules.Default with { MaxPlayers = 1 });
        world.Apply(Ev("alice", 1, T0, EventKind.Join), T0, out _);

        Assert.Equal(Reasons.WorldFull, world.Apply(Ev("bob", 1, T0, EventKind.Join), T0, out _).Reason);
    }

    [Fact]
    public void Join_RecordsOfRejectedStrangersAtLimit_DoNotKeepPlayersOut()
    {
        var world = new World("w1", WorldRules.Default with { MaxPlayers = 1 });
        Assert.Equal(Reasons.NotJoined, world.Apply(Ev("stranger", 1, T0, EventKind.Dig), T0, out _).Reason);

        Assert.True(world.Apply(Ev("alice", 1, T0, EventKind.Join), T0, out _).IsAccepted);
        Assert.Equal(Reasons.WorldFull, world.Apply(Ev("stranger", 2, T0, EventKind.Join), T0, out _).Reason);
        // The second stranger gets no record (the cap for them is full too): their seq is not remembered.
        world.Apply(Ev("other", 1, T0, EventKind.Dig), T0, out _);
        Assert.Equal(2, world.Players.Count);
    }
}
