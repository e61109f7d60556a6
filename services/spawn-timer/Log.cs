using Grpc.Core;

namespace Veltrix.SpawnTimer;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning,
        "Partition {Partition} did not take {Count} spawns (attempt {Attempt}): {StatusCode} {Detail}; retrying in {RetryMs} ms")]
    public static partial void SendFailed(ILogger logger, int partition, int count, int attempt, long retryMs, StatusCode statusCode, string detail);

    [LoggerMessage(2, LogLevel.Warning,
        "Partition {Partition} did not take {Count} spawns (attempt {Attempt}); retrying in {RetryMs} ms")]
    public static partial void SendFaulted(ILogger logger, Exception exception, int partition, int count, int attempt, long retryMs);

    [LoggerMessage(3, LogLevel.Information, "Partition {Partition} takes spawns again after {Attempts} failed attempts")]
    public static partial void PartitionRecovered(ILogger logger, int partition, int attempts);

    [LoggerMessage(4, LogLevel.Information, "Spawning automatically in {Worlds} worlds every {IntervalMs} ms")]
    public static partial void AutoSpawnStarted(ILogger logger, int worlds, int intervalMs);

    [LoggerMessage(5, LogLevel.Warning, "Automatic spawns paused: {MaxPending} spawns are pending")]
    public static partial void AutoSpawnPaused(ILogger logger, int maxPending);

    [LoggerMessage(6, LogLevel.Information, "Automatic spawns resumed")]
    public static partial void AutoSpawnResumed(ILogger logger);
}
