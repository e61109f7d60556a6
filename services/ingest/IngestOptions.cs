using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Veltrix.Ingest;

/// <summary>Bound from <c>Veltrix:Ingest</c>. Settable: the binding source generator skips init-only properties.</summary>
public sealed record IngestOptions
{
    public const string Section = "Veltrix:Ingest";

    /// <summary>Events one EventBatch may carry; a larger batch is refused whole with RESOURCE_EXHAUSTED.</summary>
    [Range(1, 65_536)]
    public int MaxEventsPerBatch { get; set; } = 4_096;

    /// <summary>Events one Apply call to a resolver carries at most: parts of many batches merged.</summary>
    [Range(1, 65_536)]
    public int MaxEventsPerCall { get; set; } = 8_192;

    /// <summary>Batch parts a partition's lane queues before routing waits.</summary>
    [Range(1, 1_000_000)]
    public int LaneCapacity { get; set; } = 4_096;

    /// <summary>Batches of one Publish stream being resolved at once; the stream's reading waits beyond it.</summary>
    [Range(1, 1_024)]
    public int MaxBatchesInFlightPerStream { get; set; } = 32;
}

[OptionsValidator]
public sealed partial class IngestOptionsValidator : IValidateOptions<IngestOptions>;
