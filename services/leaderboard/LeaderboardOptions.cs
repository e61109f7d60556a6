using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Veltrix.Leaderboard;

/// <summary>Bound from the <c>Veltrix:Leaderboard</c> section.</summary>
internal sealed record LeaderboardOptions
{
    public const string Section = "Veltrix:Leaderboard";

    /// <summary>First wait before resubscribing to the score feed; doubles per failure up to the max.</summary>
    [Range(1, 60_000)]
    public int ReconnectMinMs { get; set; } = 100;

    [Range(1, 300_000)]
    public int ReconnectMaxMs { get; set; } = 5_000;

    /// <summary>A Watch that sent nothing for this long sends a heartbeat frame.</summary>
    [Range(100, 300_000)]
    public int HeartbeatMs { get; set; } = 15_000;

    /// <summary>A Watch write that does not complete in this time cuts the subscriber off.</summary>
    [Range(100, 300_000)]
    public int WatchWriteTimeoutMs { get; set; } = 10_000;
}

[OptionsValidator]
internal sealed partial class LeaderboardOptionsValidator : IValidateOptions<LeaderboardOptions>;
