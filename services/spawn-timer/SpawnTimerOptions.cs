using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Veltrix.SpawnTimer;

/// <summary>The spawn timer's own settings. Bound from the <c>Veltrix:SpawnTimer</c> section.</summary>
/// <remarks>Settable properties: the configuration binding source generator skips init-only ones.</remarks>
internal sealed record SpawnTimerOptions : IValidatableObject
{
    public const string Section = "Veltrix:SpawnTimer";

    /// <summary>Pending spawns at most; ScheduleOnce beyond it fails RESOURCE_EXHAUSTED.</summary>
    [Range(1, 10_000_000)]
    public int MaxPending { get; set; } = 1_000_000;

    /// <summary>Spawns per ApplyBatch at most; 16,384 worst-case spawns (64-char ids) stay under a 4 MB message.</summary>
    [Range(1, 16_384)]
    public int MaxBatchSpawns { get; set; } = 1024;

    /// <summary>First retry delay after a partition did not take a batch; it doubles per failure up to <see cref="RetryMaxMs"/>.</summary>
    [Range(1, 60_000)]
    public int RetryMinMs { get; set; } = 50;

    /// <summary>Retry delay cap; it bounds how late a spawn lands once its partition is back.</summary>
    [Range(1, 300_000)]
    public int RetryMaxMs { get; set; } = 1_000;

    /// <summary>Worlds that get a spawn every <see cref="IntervalMs"/>, comma-separated; empty turns automatic spawning off.</summary>
    public string Worlds { get; set; } = "";

    [Range(1, 3_600_000)]
    public int IntervalMs { get; set; } = 250;

    [Range(SpawnRules.MinValue, SpawnRules.MaxValue)]
    public long ValueMin { get; set; } = 10;

    [Range(SpawnRules.MinValue, SpawnRules.MaxValue)]
    public long ValueMax { get; set; } = 100;

    /// <summary>Automatic spawns land in [0, WorldSize)².</summary>
    [Range(1, SpawnRules.WorldSize)]
    public int WorldSize { get; set; } = SpawnRules.WorldSize;

    /// <summary>Seed of the position and value sequence of automatic spawns: the same seed replays the same spawns.</summary>
    public long Seed { get; set; } = 1;

    /// <summary>The world ids of <see cref="Worlds"/>, trimmed, empty entries dropped.</summary>
    public string[] WorldIds() =>
        Worlds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ValueMin > ValueMax)
        {
            yield return new ValidationResult($"ValueMin ({ValueMin}) must not exceed ValueMax ({ValueMax}).", [nameof(ValueMin), nameof(ValueMax)]);
        }
        if (RetryMinMs > RetryMaxMs)
        {
            yield return new ValidationResult($"RetryMinMs ({RetryMinMs}) must not exceed RetryMaxMs ({RetryMaxMs}).", [nameof(RetryMinMs), nameof(RetryMaxMs)]);
        }
        foreach (var world in WorldIds())
        {
            if (!SpawnRules.IsValidId(world))
            {
                yield return new ValidationResult($"Worlds: '{world}' is not 1..64 characters of [A-Za-z0-9_-].", [nameof(Worlds)]);
            }
        }
    }
}

[OptionsValidator]
internal sealed partial class SpawnTimerOptionsValidator : IValidateOptions<SpawnTimerOptions>;
