using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bots;

public enum BotPhase
{
    /// <summary>Not in the world (new, or the resolver says offline): the next event is a Join.</summary>
    NeedsJoin,

    /// <summary>Its position or seq is not known for sure: read them back with Resolver.GetPlayer.</summary>
    NeedsSync,

    /// <summary>A GetPlayer is under way.</summary>
    Syncing,

    /// <summary>In the world, position known: walks, teleports and digs.</summary>
    Active,
}

/// <summary>
/// One simulated player: decides its next event from what it knows and learns from each result. It keeps
/// at most one event in flight, so it always knows which position the resolver measures its next move
/// from. Pure: the caller supplies the clock and the open treasures, and does the I/O.
/// </summary>
public sealed class Bot
{
    /// <summary>Digging this close to a treasure is safely inside the dig radius.</summary>
    public const int DigReach = GameRules.DigRadius - 2;

    /// <summary>Ingest stamps arrive after the client time; this keeps the bot clear of the cooldown edge.</summary>
    public const long TeleportMarginMs = 1_000;

    private const int WanderRadius = 1_500;

    private readonly Random _random;
    private PendingEvent? _pending;
    private Spot? _waypoint;

    public Bot(string worldId, string playerId, int worldIndex, Random random)
    {
        WorldId = worldId;
        PlayerId = playerId;
        WorldIndex = worldIndex;
        _random = random;
    }

    public string WorldId { get; }
    public string PlayerId { get; }
    public int WorldIndex { get; }
    public BotPhase Phase { get; private set; } = BotPhase.NeedsJoin;
    public ulong NextSeq { get; private set; } = 1;
    public Spot Position { get; private set; }

    /// <summary>Client time of the last accepted Join, Move or Teleport: where the move budget is measured from.</summary>
    public long AnchorMs { get; private set; }

    public long TeleportReadyAtMs { get; private set; }
    public long LastClientMs { get; private set; }
    public string? TargetTreasureId { get; private set; }
    public long SyncNotBeforeMs { get; private set; }
    public bool AwaitingResult => _pending is not null;

    /// <summary>The event to send now, or null when the bot waits (a result or a sync outstanding).</summary>
    public Event? NextEvent(long nowMs, IReadOnlyList<Treasure> open, IReadOnlySet<string> gone)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(gone);
        if (_pending is not null)
        {
            return null;
        }
        var clientMs = Math.Max(nowMs, LastClientMs);
        switch (Phase)
        {
            case BotPhase.NeedsJoin:
                return Emit(new Event { Join = new Join() }, BotAction.Join, Position, clientMs, null);
            case BotPhase.Active:
                break;
            default:
                return null;
        }

        var target = PickTarget(open, gone);
        if (target is not null)
        {
            var spot = new Spot(target.X, target.Y);
            if (Spot.Distance2(Position, spot) <= (long)DigReach * DigReach)
            {
                return Emit(new Event { Dig = new Dig() }, BotAction.Dig, Position, clientMs, target.Id);
            }
            if (clientMs >= TeleportReadyAtMs && GameRules.InBounds(spot))
            {
                return Emit(new Event { Teleport = new Teleport { X = spot.X, Y = spot.Y } }, BotAction.Teleport, spot, clientMs, null);
            }
            var step = GameRules.StepToward(Position, spot, GameRules.MoveBudget(clientMs - AnchorMs));
            return Emit(new Event { Move = new Move { X = step.X, Y = step.Y } }, BotAction.Move, step, clientMs, null);
        }

        if (_waypoint is not { } waypoint || waypoint == Position)
        {
            waypoint = GameRules.Clamp(new Spot(
                Position.X + _random.Next(-WanderRadius, WanderRadius + 1),
                Position.Y + _random.Next(-WanderRadius, WanderRadius + 1)));
            _waypoint = waypoint;
        }
        var next = GameRules.StepToward(Position, waypoint, GameRules.MoveBudget(clientMs - AnchorMs));
        if (next == Position)
        {
            _waypoint = null;
            return null;
        }
        return Emit(new Event { Move = new Move { X = next.X, Y = next.Y } }, BotAction.Move, next, clientMs, null);
    }

    /// <summary>Learns from the result of the event in flight; returns the id of a treasure that is no longer worth digging for.</summary>
    public string? OnResult(Outcome outcome)
    {
        if (_pending is not { } sent)
        {
            return null;
        }
        _pending = null;
        switch (outcome, sent.Action)
        {
            case (Outcome.Accepted, BotAction.Join):
                // The world chose where the player stands: read it back before the first move.
                Phase = BotPhase.NeedsSync;
                SyncNotBeforeMs = 0;
                return null;
            case (Outcome.Accepted, BotAction.Move):
                Position = sent.Target;
                AnchorMs = sent.ClientMs;
                return null;
            case (Outcome.Accepted, BotAction.Teleport):
                Position = sent.Target;
                AnchorMs = sent.ClientMs;
                TeleportReadyAtMs = sent.ClientMs + GameRules.TeleportCooldownMs + TeleportMarginMs;
                return null;
            case (Outcome.Accepted or Outcome.Rejected, BotAction.Dig):
                // Dug it, or someone was first: either way it is gone.
                TargetTreasureId = null;
                return sent.TreasureId;
            case (Outcome.Rejected, BotAction.Teleport):
                // Cooldown or a flag: back off a full cooldown and check where the resolver has us.
                TeleportReadyAtMs = sent.ClientMs + GameRules.TeleportCooldownMs + TeleportMarginMs;
                Phase = BotPhase.NeedsSync;
                return null;
            default:
                // Duplicate means our seq is behind (a previous run, say); anything else means our view is off.
                Phase = BotPhase.NeedsSync;
                return null;
        }
    }

    /// <summary>The event in flight may or may not have been applied (its stream broke).</summary>
    public void OnLost()
    {
        if (_pending is null)
        {
            return;
        }
        _pending = null;
        Phase = BotPhase.NeedsSync;
        SyncNotBeforeMs = 0;
    }

    public void BeginSync() => Phase = BotPhase.Syncing;

    /// <summary>What the resolver knows about this player; null when it does not know the player.</summary>
    public void OnSynced(PlayerState? state, long nowMs)
    {
        if (state is null)
        {
            Phase = BotPhase.NeedsJoin;
            return;
        }
        NextSeq = Math.Max(NextSeq, state.LastSeq + 1);
        Position = new Spot(state.X, state.Y);
        // The resolver measures from its last accepted move, which is no later than now: measuring from
        // now can only make our budget smaller than its.
        AnchorMs = Math.Max(nowMs, LastClientMs);
        if (state.TeleportReadyAtMs > 0)
        {
            TeleportReadyAtMs = Math.Max(TeleportReadyAtMs, state.TeleportReadyAtMs + TeleportMarginMs);
        }
        _waypoint = null;
        Phase = state.Online ? BotPhase.Active : BotPhase.NeedsJoin;
    }

    public void OnSyncFailed(long nowMs)
    {
        Phase = BotPhase.NeedsSync;
        SyncNotBeforeMs = nowMs + 1_000;
    }

    private Treasure? PickTarget(IReadOnlyList<Treasure> open, IReadOnlySet<string> gone)
    {
        Treasure? best = null;
        var bestDistance = long.MaxValue;
        for (var i = 0; i < open.Count; i++)
        {
            var t = open[i];
            if (gone.Contains(t.Id))
            {
                continue;
            }
            if (t.Id == TargetTreasureId)
            {
                // Keep the current target while it is open, so the bot does not dither between two.
                return t;
            }
            var d = Spot.Distance2(Position, new Spot(t.X, t.Y));
            if (d < bestDistance)
            {
                best = t;
                bestDistance = d;
            }
        }
        TargetTreasureId = best?.Id;
        return best;
    }

    private Event Emit(Event e, BotAction action, Spot target, long clientMs, string? treasureId)
    {
        e.PlayerId = PlayerId;
        e.WorldId = WorldId;
        e.Seq = NextSeq++;
        e.ClientTimeMs = clientMs;
        LastClientMs = clientMs;
        _pending = new PendingEvent(action, target, clientMs, treasureId);
        return e;
    }

    private enum BotAction
    {
        Join,
        Move,
        Teleport,
        Dig,
    }

    private readonly record struct PendingEvent(BotAction Action, Spot Target, long ClientMs, string? TreasureId);
}
