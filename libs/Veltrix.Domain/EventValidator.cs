namespace Veltrix.Domain;

/// <summary>
/// The checks that make an event well-formed. Failing them is MALFORMED: the event never reaches a
/// partition and consumes no seq. Rules that depend on state (bounds, speed, cooldowns) are not here.
/// </summary>
public static class EventValidator
{
    public const int MaxIdLength = 64;

    public static Verdict Validate(in GameEvent e) =>
        Validate(IsValidId(e.PlayerId), IsValidId(e.WorldId), e.Seq, e.ClientTimeMs, e.Kind);

    /// <summary>The same checks, in the same order, for an event whose ids were checked where they were read.</summary>
    public static Verdict Validate(bool playerIdValid, bool worldIdValid, ulong seq, long clientTimeMs, EventKind kind)
    {
        if (!playerIdValid)
        {
            return Verdict.Malformed(Reasons.PlayerIdInvalid);
        }
        if (!worldIdValid)
        {
            return Verdict.Malformed(Reasons.WorldIdInvalid);
        }
        if (seq == 0)
        {
            return Verdict.Malformed(Reasons.SeqZero);
        }
        if (clientTimeMs <= 0)
        {
            return Verdict.Malformed(Reasons.ClientTimeInvalid);
        }
        return kind switch
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

    /// <summary>The same rule for an id as UTF-8 bytes: a valid id is ASCII, one byte per character.</summary>
    public static bool IsValidId(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || utf8.Length > MaxIdLength)
        {
            return false;
        }
        foreach (var b in utf8)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b == (byte)'_' || b == (byte)'-'))
            {
                return false;
            }
        }
        return true;
    }

    public static bool IsValidId(string? id) => id is not null && IsValidId(id.AsSpan());
}
