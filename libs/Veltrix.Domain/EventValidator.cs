namespace Veltrix.Domain;

/// <summary>
/// The checks that make an event well-formed. Failing them is MALFORMED: the event never reaches a
/// partition and consumes no seq. Rules that depend on state (bounds, speed, cooldowns) are not here.
/// </summary>
public static class EventValidator
{
    public const int MaxIdLength = 64;

    public static Verdict Validate(in GameEvent e)
    {
        if (!IsValidId(e.PlayerId))
        {
            return Verdict.Malformed(Reasons.PlayerIdInvalid);
        }
        if (!IsValidId(e.WorldId))
        {
            return Verdict.Malformed(Reasons.WorldIdInvalid);
        }
        if (e.Seq == 0)
        {
            return Verdict.Malformed(Reasons.SeqZero);
        }
        if (e.ClientTimeMs <= 0)
        {
            return Verdict.Malformed(Reasons.ClientTimeInvalid);
        }
        return e.Kind switch
        {
            EventKind.Join or EventKind.Leave or EventKind.Move or EventKind.Teleport or EventKind.Dig => Verdict.Accepted,
            EventKind.None => Verdict.Malformed(Reasons.KindMissing),
            _ => Verdict.Malformed(Reasons.KindUnknown),
        };
    }

    /// <summary>1..64 characters of [A-Za-z0-9_-].</summary>
    public static bool IsValidId(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > MaxIdLength)
        {
            return false;
        }
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-'))
            {
                return false;
            }
        }
        return true;
    }

    public static bool IsValidId(string? id) => id is not null && IsValidId(id.AsSpan());
}
