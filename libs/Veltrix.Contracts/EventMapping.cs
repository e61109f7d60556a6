using Veltrix.Contracts.V1;
using Veltrix.Domain;
using DomainOutcome = Veltrix.Domain.Outcome;
using WireOutcome = Veltrix.Contracts.V1.Outcome;

namespace Veltrix.Contracts;

/// <summary>Between the wire's messages and the domain's values.</summary>
public static class EventMapping
{
    /// <summary>The domain's view of a wire event. Never throws: a missing kind maps to <see cref="EventKind.None"/>.</summary>
    public static GameEvent ToGameEvent(this Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var (kind, x, y) = e.KindCase switch
        {
            Event.KindOneofCase.Join => (EventKind.Join, 0, 0),
            Event.KindOneofCase.Leave => (EventKind.Leave, 0, 0),
            Event.KindOneofCase.Move => (EventKind.Move, e.Move.X, e.Move.Y),
            Event.KindOneofCase.Teleport => (EventKind.Teleport, e.Teleport.X, e.Teleport.Y),
            Event.KindOneofCase.Dig => (EventKind.Dig, 0, 0),
            _ => (EventKind.None, 0, 0),
        };
        return new GameEvent(e.PlayerId, e.WorldId, e.Seq, e.ClientTimeMs, kind, x, y);
    }

    public static WireOutcome ToWire(this DomainOutcome outcome) => (WireOutcome)(int)outcome;

    public static EventResult ToResult(this Verdict verdict) =>
        new() { Outcome = verdict.Outcome.ToWire(), Reason = verdict.Reason };
}
