namespace Veltrix.Cli.Bots;

/// <summary>A point of a world.</summary>
public readonly record struct Spot(int X, int Y)
{
    public static long Distance2(Spot a, Spot b)
    {
        long dx = a.X - b.X;
        long dy = a.Y - b.Y;
        return dx * dx + dy * dy;
    }
}

/// <summary>
/// The client's side of the game rules (DESIGN.md section 4, default configuration): what a well-behaved
/// player may send. The resolver is the authority; these keep the bots within it.
/// </summary>
public static class GameRules
{
    public const int WorldSize = 100_000;
    public const int MaxSpeedPerSecond = 100;
    public const int MoveSlack = 5;
    public const int DigRadius = 20;
    public const long TeleportCooldownMs = 30_000;

    /// <summary>
    /// How far a Move may go after <paramref name="elapsedMs"/> of client time since the last accepted
    /// Join, Move or Teleport: speed × elapsed + slack, less one unit so integer rounding on either side
    /// can never turn a legal step into an illegal one.
    /// </summary>
    public static long MoveBudget(long elapsedMs) =>
        MaxSpeedPerSecond * Math.Max(0, elapsedMs) / 1000 + MoveSlack - 1;

    public static bool InBounds(Spot s) => s.X is >= 0 and < WorldSize && s.Y is >= 0 and < WorldSize;

    public static Spot Clamp(Spot s) =>
        new(Math.Clamp(s.X, 0, WorldSize - 1), Math.Clamp(s.Y, 0, WorldSize - 1));

    /// <summary>
    /// The point toward <paramref name="to"/> at most <paramref name="budget"/> units from
    /// <paramref name="from"/>: <paramref name="to"/> itself when in reach.
    /// </summary>
    public static Spot StepToward(Spot from, Spot to, long budget)
    {
        budget = Math.Max(0, budget);
        to = Clamp(to);
        if (Spot.Distance2(from, to) <= budget * budget)
        {
            return to;
        }
        long dx = to.X - from.X;
        long dy = to.Y - from.Y;
        var scale = budget / Math.Sqrt(dx * dx + dy * dy);
        // Truncation moves each component toward zero, so the step can only get shorter; the loop mops up
        // the rare case where floating point rounded a component up past an integer.
        var sx = (long)(dx * scale);
        var sy = (long)(dy * scale);
        while (sx * sx + sy * sy > budget * budget)
        {
            if (Math.Abs(sx) >= Math.Abs(sy))
            {
                sx -= Math.Sign(sx);
            }
            else
            {
                sy -= Math.Sign(sy);
            }
        }
        return Clamp(new Spot((int)(from.X + sx), (int)(from.Y + sy)));
    }
}
