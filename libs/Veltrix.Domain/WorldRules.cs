namespace Veltrix.Domain;

/// <summary>
/// The per-world numbers the rules use (DESIGN.md section 4). Defaults are the product's defaults;
/// deployments override them per world.
/// </summary>
public sealed record WorldRules
{
    public static readonly WorldRules Default = new();

    /// <summary>The world is the square [0, Size)².</summary>
    public int Size { get; init; } = 100_000;

    /// <summary>Units per second of client time.</summary>
    public int MaxSpeed { get; init; } = 100;

    public int MoveSlack { get; init; } = 5;

    public long MaxSkewMs { get; init; } = 2_000;

    public int DigRadius { get; init; } = 20;

    public bool TeleportEnabled { get; init; } = true;

    /// <summary>Measured in stamp (server) time.</summary>
    public long TeleportCooldownMs { get; init; } = 30_000;

    public int ScoreMultiplierPct { get; init; } = 100;

    /// <summary>
    /// Joined players a world keeps; records of players known only from rejected events are capped at as
    /// many again, so hostile input cannot grow a world past twice this, nor keep players out.
    /// </summary>
    public int MaxPlayers { get; init; } = 2_000_000;
}
