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
}

[OptionsValidator]
public sealed partial class IngestOptionsValidator : IValidateOptions<IngestOptions>;
