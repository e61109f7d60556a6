using System.Collections.Concurrent;
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

    /// <summary>
    /// The wire result for a verdict. Verdicts come from a small fixed set of outcomes and constant
    /// reasons, so results are shared instances, not one allocation per event: callers add them to
    /// replies and must never mutate them.
    /// </summary>
    public static EventResult ToResult(this Verdict verdict)
    {
        var byReason = SharedResults[(int)verdict.Outcome & 7];
        if (byReason.TryGetValue(verdict.Reason, out var shared))
        {
            return shared;
        }
        var result = new EventResult { Outcome = verdict.Outcome.ToWire(), Reason = verdict.Reason };
        // Bounded: reasons are constants, but a cache must not grow with whatever it is handed.
        return byReason.Count < MaxSharedPerOutcome ? byReason.GetOrAdd(verdict.Reason, result) : result;
    }

    private const int MaxSharedPerOutcome = 64;

    private static readonly ConcurrentDictionary<string, EventResult>[] SharedResults =
        [new(), new(), new(), new(), new(), new(), new(), new()];
}
