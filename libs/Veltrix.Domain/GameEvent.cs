namespace Veltrix.Domain;

/// <summary>What a player asked for. Numbers match the public contract's <c>oneof kind</c>.</summary>
public enum EventKind : byte
{
    None = 0,
    Join = 10,
    Leave = 11,
    Move = 12,
    Teleport = 13,
    Dig = 14,
}

/// <summary>How an event ended. Numbers match the public contract's <c>Outcome</c>.</summary>
public enum Outcome : byte
{
    Unspecified = 0,
    Accepted = 1,
    Duplicate = 2,
    Rejected = 3,
    Malformed = 4,
}

/// <summary>
/// One player event as the domain sees it. (WorldId, PlayerId, Seq) is its identity; X and Y are the
/// target of a Move or Teleport and zero otherwise.
/// </summary>
public readonly record struct GameEvent(
    string PlayerId,
    string WorldId,
    ulong Seq,
    long ClientTimeMs,
    EventKind Kind,
    int X = 0,
    int Y = 0);

/// <summary>An outcome and, unless accepted, why. Reasons are constants: a verdict allocates nothing.</summary>
public readonly record struct Verdict(Outcome Outcome, string Reason)
{
    public static readonly Verdict Accepted = new(Outcome.Accepted, "");
    public static readonly Verdict Duplicate = new(Outcome.Duplicate, Reasons.Duplicate);

    public static Verdict Rejected(string reason) => new(Outcome.Rejected, reason);

    public static Verdict Malformed(string reason) => new(Outcome.Malformed, reason);

    public bool IsAccepted => Outcome == Outcome.Accepted;
}

/// <summary>The reasons clients see. Stable text: clients and dashboards match on them.</summary>
public static class Reasons
{
    public const string Duplicate = "seq already applied";

    public const string PlayerIdInvalid = "player_id must be 1-64 characters of A-Z a-z 0-9 _ -";
    public const string WorldIdInvalid = "world_id must be 1-64 characters of A-Z a-z 0-9 _ -";
    public const string SeqZero = "seq must be at least 1";
    public const string ClientTimeInvalid = "client_time_ms must be a positive unix time in milliseconds";
    public const string KindMissing = "event has no kind (join, leave, move, teleport or dig)";
    public const string KindUnknown = "event kind is not known to this server";

    public const string ClockAhead = "client_time_ms is ahead of the server clock by more than max_skew_ms";
    public const string ClockBackwards = "client_time_ms went backwards";
    public const string NotJoined = "player has not joined this world";
    public const string OutOfBounds = "target is outside the world";
    public const string TooFast = "move is farther than max_speed allows for the elapsed client time";
    public const string TeleportDisabled = "teleport is disabled in this world";
    public const string TeleportCooldown = "teleport is cooling down";
    public const string NothingToDig = "no unclaimed treasure within dig_radius";
    public const string WorldFull = "world has reached its player limit";
    public const string TooManyWorlds = "partition has reached its world limit";
}
