using System.Text.Json.Serialization;

namespace Veltrix.Cli.Bench.Leaderboard;

/// <summary>How a leaderboard bench run is set up.</summary>
public sealed record LeaderboardBenchOptions
{
    public int Players { get; init; } = 1_000_000;
    public int Worlds { get; init; } = 1_024;

    /// <summary>Each measured window (updates, then watch).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);
    public int Subscribers { get; init; } = 10_000;
    public int TopN { get; init; } = 100;
    public int MaxHz { get; init; } = 10;

    /// <summary>
    /// Score changes per second fed while the subscribers watch; 0 is flat out. The default is about what the mesh
    /// makes at its measured throughput (a dig every 64th event at 560k events/s, and only claims change scores).
    /// </summary>
    public long WatchRate { get; init; } = 10_000;

    /// <summary>Changes per feed message.</summary>
    public int FeedBatch { get; init; } = 512;

    /// <summary>Run <c>redis-benchmark</c> ZADD as the baseline.</summary>
    public bool Redis { get; init; } = true;

    public required string RepoRoot { get; init; }
    public string? BinDir { get; init; }
    public string Configuration { get; init; } = "Release";
    public int? BasePort { get; init; }
    public required string OutputDir { get; init; }
    public string Command { get; init; } = "veltrix-cli bench-leaderboard";
}

public sealed record LeaderboardBenchReport
{
    public required string StartedUtc { get; init; }
    public required string Command { get; init; }
    public required MachineInfo Machine { get; init; }
    public required LeaderboardRunSettings Settings { get; init; }
    public required double[] LoadAverageBefore { get; init; }
    public double[] LoadAverageAfter { get; set; } = [];

    /// <summary>From the leaderboard's subscription to the end of its first snapshot being applied.</summary>
    public double? SnapshotSeconds { get; set; }
    public UpdatesPhase? Updates { get; set; }
    public WatchPhase? Watch { get; set; }
    public RedisBenchmarkResult? RedisZadd { get; set; }

    /// <summary>Updates applied per second over redis-benchmark's ZADD per second.</summary>
    public double? UpdatesToZadd { get; set; }
    public IReadOnlyList<BudgetRow> Budget { get; set; } = [];
    public bool Completed { get; set; }
    public string? Failure { get; set; }
}

public sealed record LeaderboardRunSettings(
    int Players, int Worlds, double WarmupSeconds, double DurationSeconds, int Subscribers, int TopN, int MaxHz,
    long WatchRate, int FeedBatch, bool Native);

/// <summary>The leaderboard fed flat out while the probe reads it.</summary>
public sealed record UpdatesPhase
{
    public required double WindowSeconds { get; init; }

    /// <summary>Score changes the leaderboard applied per second (its own counter).</summary>
    public required double UpdatesPerSecond { get; init; }

    /// <summary>Changes the stand-in feed wrote per second.</summary>
    public required double FedPerSecond { get; init; }
    public required LatencySummary TopUs { get; init; }
    public required LatencySummary AroundUs { get; init; }
    public required long QueryErrors { get; init; }
    public string? LastQueryError { get; init; }
    public required IReadOnlyList<ServiceFigures> Processes { get; init; }

    /// <summary>The leaderboard's allocation per update applied.</summary>
    public double? AllocatedBytesPerUpdate { get; init; }
}

/// <summary>The subscribers watching while the feed runs at <see cref="LeaderboardRunSettings.WatchRate"/>.</summary>
public sealed record WatchPhase
{
    public required int Subscribers { get; init; }

    /// <summary>Subscribers that had their first frame when the window began.</summary>
    public required int ReceivingAtStart { get; init; }
    public required int ReceivingAtEnd { get; init; }
    public required int Failed { get; init; }
    public required int Ended { get; init; }
    public string? LastError { get; init; }
    public required double WindowSeconds { get; init; }
    public required double FramesPerSecond { get; init; }

    /// <summary>Frames per second per subscriber receiving: the watch rate they were served at.</summary>
    public required double FramesPerSubscriberPerSecond { get; init; }
    public required long Heartbeats { get; init; }

    /// <summary>From the change of the beacon a frame shows to its arrival, µs, over the frames it topped.</summary>
    public required LatencySummary DelayUs { get; init; }
    public required double UpdatesPerSecond { get; init; }
    public required IReadOnlyList<ServiceFigures> Processes { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LeaderboardBenchReport))]
internal sealed partial class LeaderboardJsonContext : JsonSerializerContext;
