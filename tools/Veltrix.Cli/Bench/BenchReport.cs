using System.Text.Json.Serialization;

namespace Veltrix.Cli.Bench;

/// <summary>Everything one <c>veltrix-cli bench</c> run measured; written as JSON to <c>artifacts/bench/</c>.</summary>
public sealed record BenchReport
{
    public required string StartedUtc { get; init; }
    public required string Command { get; init; }
    public required MachineInfo Machine { get; init; }
    public required BenchRunSettings Settings { get; init; }
    public required double[] LoadAverageBefore { get; init; }
    public double[] LoadAverageAfter { get; set; } = [];

    /// <summary>The bare gRPC sink driven by the same load generator: the transport ceiling.</summary>
    public LoadResult? Sink { get; set; }

    /// <summary>The mesh: gateway → ingest → resolver, durable acks.</summary>
    public LoadResult? Mesh { get; set; }

    /// <summary>Mesh events/s over sink events/s.</summary>
    public double? MeshToSinkRatio { get; set; }

    /// <summary>Each Veltrix process over the mesh's measured window.</summary>
    public IReadOnlyList<ServiceFigures> Services { get; set; } = [];

    /// <summary>The processes beside the mesh over the same window (this program, the load generator; redis-server); not in the totals.</summary>
    public IReadOnlyList<ServiceFigures> Companions { get; set; } = [];

    public MeshTotals? Totals { get; set; }
    public IReadOnlyList<RedisBenchmarkResult> RedisBenchmark { get; set; } = [];
    public IReadOnlyList<BudgetRow> Budget { get; set; } = [];

    /// <summary>Every phase ran to its end and was stopped in order.</summary>
    public bool Completed { get; set; }

    /// <summary>In every phase, every event sent got an ack, with no error.</summary>
    public bool AllAcked { get; set; }

    public string? Failure { get; set; }
}

public sealed record MachineInfo(string Cpu, int Cores, double MemoryGiB, string Kernel, string Runtime);

public sealed record BenchRunSettings(
    string Store, int Streams, int Batch, int InFlight, double? Rate, int Players, int Worlds, int DigEvery,
    double WarmupSeconds, double DurationSeconds, bool Native, bool Smoke);

/// <summary>One load phase: the counts and latency over the measured window, and the totals of the whole phase.</summary>
public sealed record LoadResult
{
    public required string Target { get; init; }
    public required double WindowSeconds { get; init; }
    public required double EventsPerSecond { get; init; }

    /// <summary>In the window: events sent, and answered by outcome.</summary>
    public required long Sent { get; init; }
    public required long Acked { get; init; }
    public required long Accepted { get; init; }
    public required long Rejected { get; init; }
    public required long Duplicate { get; init; }
    public required long Malformed { get; init; }
    public required long Unspecified { get; init; }

    /// <summary>Batch latency in the window, µs, from send (or intended send at a fixed rate) to ack.</summary>
    public required LatencySummary LatencyUs { get; init; }

    /// <summary>The whole phase (warm-up, window and drain): what the smoke check compares.</summary>
    public required long TotalSent { get; init; }
    public required long TotalAcked { get; init; }

    /// <summary>Results with no outcome: the service broke the contract.</summary>
    public required long TotalUnspecified { get; init; }
    public required long Lost { get; init; }
    public required long Errors { get; init; }
    public required long StreamsOpened { get; init; }
    public string? LastError { get; init; }

    public bool AllAcked => TotalSent > 0 && TotalAcked == TotalSent && Errors == 0 && Lost == 0 && TotalUnspecified == 0;
}

public sealed record LatencySummary(long Count, double Mean, long P50, long P99, long P999, long Max);

/// <summary>One process over the measured window.</summary>
public sealed record ServiceFigures
{
    public required string Name { get; init; }
    public required int Pid { get; init; }
    public required double WindowSeconds { get; init; }
    public required double RssStartMiB { get; init; }
    public required double RssEndMiB { get; init; }

    /// <summary>The largest VmRSS seen, sampling once a second through the window.</summary>
    public required double RssMaxMiB { get; init; }
    public required double CpuSeconds { get; init; }

    /// <summary>Of one core: 100 is one core busy all the window.</summary>
    public required double CpuPercent { get; init; }
    public required long VoluntarySwitches { get; init; }
    public required long InvoluntarySwitches { get; init; }
    public required int Threads { get; init; }

    /// <summary>Threads that exited in the window: their last switches are not counted (see <see cref="SwitchDelta"/>).</summary>
    public required int ThreadsExited { get; init; }
    public GcFigures? Gc { get; init; }
    public double? AllocatedBytesPerEvent { get; init; }
}

public sealed record GcFigures(long Gen0, long Gen1, long Gen2, double PauseSeconds, double PausePercent, long AllocatedBytes);

/// <summary>All Veltrix processes together over the mesh's window.</summary>
public sealed record MeshTotals(
    double CpuSeconds, double CpuPercent, long ContextSwitches, double ContextSwitchesPerMillionEvents,
    long? AllocatedBytes, double? AllocatedBytesPerEvent, double? AllocatedBytesPerSecond,
    long? Gen2, double? GcPauseSeconds, double? GcPausePercent, double RssMaxMiB, string RssMaxService);

/// <summary>One row of the performance budget (DESIGN.md section 7).</summary>
public sealed record BudgetRow(string What, string Target, string Measured, string Verdict);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
