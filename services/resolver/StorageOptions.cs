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
}

[OptionsValidator]
public sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;
