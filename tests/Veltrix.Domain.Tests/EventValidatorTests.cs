namespace Veltrix.Domain.Tests;

public sealed class EventValidatorTests
{
    private static readonly GameEvent Valid = new("player-1", "world_1", 1, 1_700_000_000_000, EventKind.Move, 5, 5);

    [Fact]
    public void Validate_WellFormedEvent_Accepted() =>
        Assert.Equal(Outcome.Accepted, EventValidator.Validate(Valid).Outcome);

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("dot.ted")]
    [InlineData("ünïcode")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123X")]
    public void Validate_BadPlayerId_Malformed(string id) =>
        Assert.Equal(Verdict.Malformed(Reasons.PlayerIdInvalid), EventValidator.Validate(Valid with { PlayerId = id }));

    [Fact]
    public void Validate_NullIds_MalformedNotThrown()
    {
        Assert.Equal(Reasons.PlayerIdInvalid, EventValidator.Validate(Valid with { PlayerId = null! }).Reason);
        Assert.Equal(Reasons.WorldIdInvalid, EventValidator.Validate(Valid with { WorldId = null! }).Reason);
    }

    [Fact]
    public void Validate_SixtyFourCharacterId_Accepted() =>
        Assert.True(EventValidator.Validate(Valid with { WorldId = new string('a', 64) }).IsAccepted);

    [Fact]
    public void Validate_BadWorldId_Malformed() =>
        Assert.Equal(Reasons.WorldIdInvalid, EventValidator.Validate(Valid with { WorldId = "w/1" }).Reason);

    [Fact]
    public void Validate_SeqZero_Malformed() =>
        Assert.Equal(Reasons.SeqZero, EventValidator.Validate(Valid with { Seq = 0 }).Reason);

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Validate_NonPositiveClientTime_Malformed(long ms) =>
        Assert.Equal(Reasons.ClientTimeInvalid, EventValidator.Validate(Valid with { ClientTimeMs = ms }).Reason);

    [Fact]
    public void Validate_NoKind_Malformed() =>
        Assert.Equal(Reasons.KindMissing, EventValidator.Validate(Valid with { Kind = EventKind.None }).Reason);

    [Fact]
    public void Validate_UnknownKind_Malformed() =>
        Assert.Equal(Reasons.KindUnknown, EventValidator.Validate(Valid with { Kind = (EventKind)99 }).Reason);
}

public sealed class PartitioningTests
{
    [Fact]
    public void PartitionOf_SameWorld_SameAnswerEveryTime() =>
        Assert.Equal(Partitioning.PartitionOf("world-7", 8), Partitioning.PartitionOf("world-7", 8));

    [Fact]
    public void PartitionOf_KnownValue_StableAcrossReleases()
    {
        // Changing the hash moves worlds between partitions and breaks running clusters: pin it.
        Assert.Equal(0x811C9DC5u, Partitioning.StableHash(""));
        Assert.Equal(Partitioning.StableHash("world-0") % 8, (uint)Partitioning.PartitionOf("world-0", 8));
    }

    [Fact]
    public void PartitionOf_ManyWorlds_SpreadOverEveryPartition()
    {
        var counts = new int[8];
        for (var i = 0; i < 8_000; i++)
        {
            counts[Partitioning.PartitionOf($"world-{i}", 8)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }
}
