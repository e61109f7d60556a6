using Veltrix.Cli.Bots;
using Veltrix.Contracts.V1;

namespace Veltrix.EndToEnd.Tests;

public sealed class BotTests
{
    private const long Start = 1_800_000_000_000;
    private static readonly HashSet<string> NoneGone = [];
    private static readonly Treasure[] NoTreasures = [];

    [Fact]
    public void NextEvent_NewBot_JoinsWithSeqOne()
    {
        var bot = NewBot();

        var e = bot.NextEvent(Start, NoTreasures, NoneGone);

        Assert.NotNull(e);
        Assert.Equal(Event.KindOneofCase.Join, e.KindCase);
        Assert.Equal(1ul, e.Seq);
        Assert.Equal(Start, e.ClientTimeMs);
        Assert.Equal("world-0", e.WorldId);
        Assert.Equal("bot-7", e.PlayerId);
    }

    [Fact]
    public void NextEvent_ResultOutstanding_SendsNothing()
    {
        var bot = NewBot();
        bot.NextEvent(Start, NoTreasures, NoneGone);

        Assert.Null(bot.NextEvent(Start + 100, NoTreasures, NoneGone));
    }

    [Fact]
    public void OnResult_JoinAccepted_NeedsSyncBeforeMoving()
    {
        var bot = NewBot();
        bot.NextEvent(Start, NoTreasures, NoneGone);

        bot.OnResult(Outcome.Accepted);

        Assert.Equal(BotPhase.NeedsSync, bot.Phase);
        Assert.Null(bot.NextEvent(Start + 100, NoTreasures, NoneGone));
    }

    [Fact]
    public void NextEvent_WanderingForTenSeconds_EveryMoveLegalSeqIncreasingClockMonotonic()
    {
        var bot = ActiveBot(new Spot(50_000, 50_000), lastSeq: 1, Start);
        var position = bot.Position;
        var anchor = bot.AnchorMs;
        var lastSeq = 1ul;
        var lastTime = Start;
        var moves = 0;

        for (var now = Start + 100; now <= Start + 10_000; now += 100)
        {
            var e = bot.NextEvent(now, NoTreasures, NoneGone);
            if (e is null)
            {
                continue;
            }
            Assert.Equal(Event.KindOneofCase.Move, e.KindCase);
            Assert.True(e.Seq > lastSeq, "seq must grow");
            Assert.True(e.ClientTimeMs >= lastTime, "client time must not go backwards");
            var target = new Spot(e.Move.X, e.Move.Y);
            var allowed = GameRules.MaxSpeedPerSecond * (e.ClientTimeMs - anchor) / 1000.0 + GameRules.MoveSlack;
            Assert.True(Math.Sqrt(Spot.Distance2(position, target)) <= allowed, $"{position} -> {target} exceeds {allowed}");
            Assert.True(GameRules.InBounds(target));
            bot.OnResult(Outcome.Accepted);
            position = target;
            anchor = e.ClientTimeMs;
            lastSeq = e.Seq;
            lastTime = e.ClientTimeMs;
            moves++;
        }

        Assert.True(moves > 90, $"only {moves} moves in 100 ticks");
        Assert.NotEqual(new Spot(50_000, 50_000), bot.Position);
    }

    [Fact]
    public void NextEvent_TeleportReady_TeleportsOntoNearestOpenTreasureThenDigs()
    {
        var bot = ActiveBot(new Spot(1_000, 1_000), lastSeq: 1, Start);
        Treasure[] open = [Treasure("far", 90_000, 90_000), Treasure("near", 5_000, 4_000)];

        var teleport = bot.NextEvent(Start + 100, open, NoneGone);
        Assert.NotNull(teleport);
        Assert.Equal(Event.KindOneofCase.Teleport, teleport.KindCase);
        Assert.Equal((5_000, 4_000), (teleport.Teleport.X, teleport.Teleport.Y));
        bot.OnResult(Outcome.Accepted);

        var dig = bot.NextEvent(Start + 200, open, NoneGone);
        Assert.NotNull(dig);
        Assert.Equal(Event.KindOneofCase.Dig, dig.KindCase);
        Assert.Equal("near", bot.OnResult(Outcome.Accepted));
    }

    [Fact]
    public void NextEvent_TeleportCoolingDown_WalksTowardTreasureWithinBudget()
    {
        var bot = ActiveBot(new Spot(1_000, 1_000), lastSeq: 1, Start);
        Treasure[] first = [Treasure("a", 3_000, 1_000)];
        bot.NextEvent(Start + 100, first, NoneGone);
        bot.OnResult(Outcome.Accepted);
        bot.NextEvent(Start + 200, first, NoneGone);
        bot.OnResult(Outcome.Accepted);
        Treasure[] second = [Treasure("b", 3_000, 1_500)];

        var e = bot.NextEvent(Start + 300, second, NoneGone);

        Assert.NotNull(e);
        Assert.Equal(Event.KindOneofCase.Move, e.KindCase);
        Assert.True(bot.TeleportReadyAtMs >= Start + 100 + GameRules.TeleportCooldownMs);
        // Measured from the teleport, the last accepted move: the dig in between does not count.
        Assert.Equal(new Spot(3_000, 1_000 + (int)GameRules.MoveBudget(200)), new Spot(e.Move.X, e.Move.Y));
    }

    [Fact]
    public void NextEvent_TreasureKnownGone_IsNotTargeted()
    {
        var bot = ActiveBot(new Spot(1_000, 1_000), lastSeq: 1, Start);
        Treasure[] open = [Treasure("taken", 1_005, 1_000), Treasure("free", 9_000, 9_000)];

        var e = bot.NextEvent(Start + 100, open, new HashSet<string> { "taken" });

        Assert.NotNull(e);
        Assert.Equal(Event.KindOneofCase.Teleport, e.KindCase);
        Assert.Equal((9_000, 9_000), (e.Teleport.X, e.Teleport.Y));
    }

    [Fact]
    public void OnResult_DigRejected_ReportsTreasureGone()
    {
        var bot = ActiveBot(new Spot(1_000, 1_000), lastSeq: 1, Start);
        var e = bot.NextEvent(Start + 100, [Treasure("t", 1_000, 1_010)], NoneGone);
        Assert.Equal(Event.KindOneofCase.Dig, e!.KindCase);

        Assert.Equal("t", bot.OnResult(Outcome.Rejected));
        Assert.Null(bot.TargetTreasureId);
    }

    [Fact]
    public void OnResult_Duplicate_SyncMovesSeqPastResolversLastSeq()
    {
        var bot = NewBot();
        bot.NextEvent(Start, NoTreasures, NoneGone);

        bot.OnResult(Outcome.Duplicate);
        Assert.Equal(BotPhase.NeedsSync, bot.Phase);
        bot.BeginSync();
        bot.OnSynced(new PlayerState { X = 7, Y = 9, LastSeq = 41, Online = true }, Start + 50);

        var e = bot.NextEvent(Start + 100, NoTreasures, NoneGone);
        Assert.NotNull(e);
        Assert.Equal(42ul, e.Seq);
        Assert.Equal(Event.KindOneofCase.Move, e.KindCase);
    }

    [Fact]
    public void OnLost_OutcomeUnknown_NeedsSync()
    {
        var bot = ActiveBot(new Spot(10, 10), lastSeq: 1, Start);
        bot.NextEvent(Start + 100, NoTreasures, NoneGone);

        bot.OnLost();

        Assert.Equal(BotPhase.NeedsSync, bot.Phase);
        Assert.False(bot.AwaitingResult);
    }

    [Fact]
    public void OnSynced_PlayerUnknownToResolver_JoinsAgain()
    {
        var bot = NewBot();
        bot.NextEvent(Start, NoTreasures, NoneGone);
        bot.OnLost();
        bot.BeginSync();

        bot.OnSynced(null, Start + 10);

        var e = bot.NextEvent(Start + 100, NoTreasures, NoneGone);
        Assert.Equal(Event.KindOneofCase.Join, e!.KindCase);
        Assert.Equal(2ul, e.Seq);
    }

    private static Bot NewBot() => new("world-0", "bot-7", 0, new Random(7));

    private static Bot ActiveBot(Spot at, ulong lastSeq, long now)
    {
        var bot = NewBot();
        bot.BeginSync();
        bot.OnSynced(new PlayerState { X = at.X, Y = at.Y, LastSeq = lastSeq, Online = true }, now);
        Assert.Equal(BotPhase.Active, bot.Phase);
        return bot;
    }

    private static Treasure Treasure(string id, int x, int y) => new() { Id = id, X = x, Y = y, Value = 10 };
}
