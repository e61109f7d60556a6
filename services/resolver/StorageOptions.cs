using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Veltrix.Resolver;

/// <summary>Where partitions keep their log and snapshots. Bound from <c>Veltrix:Storage</c>.</summary>
public sealed record StorageOptions
{
    public const string Section = "Veltrix:Storage";

    /// <summary><c>embedded</c> (segment files under <see cref="DataDir"/>) or <c>redis</c>.</summary>
    [RegularExpression("^(embedded|redis)$")]
    public string Kind { get; set; } = "embedded";

    public string DataDir { get; set; } = "veltrix-data";

    /// <summary>StackExchange.Redis configuration string, for <c>redis</c>.</summary>
    public string Redis { get; set; } = "127.0.0.1:6379";

    /// <summary>This owner's epoch: a resolver that takes partitions over must use a higher one.</summary>
    [Range(1, long.MaxValue)]
    public long Epoch { get; set; } = 1;

    /// <summary>Events applied between two snapshots; bounds how much of the log recovery replays.</summary>
    [Range(1, long.MaxValue)]
    public long SnapshotEveryEvents { get; set; } = 1_000_000;

    /// <summary>Embedded: size at which a log segment file is closed; trimming drops whole segments.</summary>
    [Range(1_024, 1L << 40)]
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Snapshots a partition keeps, spread over its retained log: where rollbacks start from.</summary>
    [Range(2, 4_096)]
    public int SnapshotsKept { get; set; } = 32;

    /// <summary>How far back rollbacks reach (DESIGN.md: at least 24 h); the log is trimmed only past it.</summary>
    [Range(1, 24 * 365 * 100)]
    public int RetentionHours { get; set; } = 24;
}

[OptionsValidator]
public sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;
