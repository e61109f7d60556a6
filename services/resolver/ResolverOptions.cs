using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Veltrix.Resolver;

/// <summary>Bound from <c>Veltrix:Resolver</c>.</summary>
public sealed record ResolverOptions
{
    public const string Section = "Veltrix:Resolver";

    /// <summary>
    /// Which instance of <c>Veltrix:Mesh:Resolvers</c> this resolver is. Unset: the trailing <c>-N</c> of the
    /// HOSTNAME (a StatefulSet pod's name) when there are several instances, else 0 (<see cref="ServiceDefaults.PartitionMap.ResolveOrdinal"/>).
    /// </summary>
    [Range(0, 4_095)]
    public int? Ordinal { get; set; }

    /// <summary>Work items (batches, reads) a partition queues before callers wait.</summary>
    [Range(1, 65_536)]
    public int QueueCapacity { get; set; } = 1_024;

    /// <summary>Queued items one turn of the loop applies before it acknowledges them together.</summary>
    [Range(1, 4_096)]
    public int MaxItemsPerTurn { get; set; } = 64;

    /// <summary>Worlds one partition keeps; hostile input cannot create worlds past it.</summary>
    [Range(1, 10_000_000)]
    public int MaxWorldsPerPartition { get; set; } = 100_000;

    /// <summary>Players and treasures one GetWorld lists at most.</summary>
    [Range(1, 100_000)]
    public int MaxListed { get; set; } = 1_000;

    /// <summary>Score-feed messages a subscriber may have queued before it is cut off.</summary>
    [Range(1, 1_000_000)]
    public int FeedSubscriberCapacity { get; set; } = 4_096;
}

[OptionsValidator]
public sealed partial class ResolverOptionsValidator : IValidateOptions<ResolverOptions>;
