namespace Veltrix.Resolver;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Partition {Partition}: a work item failed")]
    public static partial void WorkFailed(ILogger logger, int partition, Exception exception);

    [LoggerMessage(2, LogLevel.Information, "Score feed subscriber connected")]
    public static partial void FeedSubscribed(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "Score feed subscriber cut off: {Reason}")]
    public static partial void FeedSubscriberCut(ILogger logger, string reason);

    [LoggerMessage(4, LogLevel.Information, "Resolver {Ordinal} of {Instances} owns {Owned} of {Total} partitions: {Partitions}")]
    public static partial void Owning(ILogger logger, int ordinal, int instances, int owned, int total, string partitions);

    [LoggerMessage(5, LogLevel.Information, "Partition {Partition} recovered: snapshot at {SnapshotPosition}, {Replayed} log entries replayed in {ElapsedMs} ms")]
    public static partial void Recovered(ILogger logger, int partition, long snapshotPosition, long replayed, long elapsedMs);

    [LoggerMessage(6, LogLevel.Critical, "Partition {Partition} is not served: {Reason}")]
    public static partial void RecoveryFailed(ILogger logger, int partition, string reason, Exception exception);

    [LoggerMessage(7, LogLevel.Error, "Partition {Partition}: appending to the log failed; the turn was refused and the partition recovers from its store")]
    public static partial void AppendFailed(ILogger logger, int partition, Exception exception);

    [LoggerMessage(8, LogLevel.Information, "Partition {Partition}: snapshot at log position {Position} ({Events} events since the last) copied on the loop in {CopyMs} ms, encoded and written in the background in {ElapsedMs} ms")]
    public static partial void SnapshotWritten(ILogger logger, int partition, long position, long events, long copyMs, long elapsedMs);

    [LoggerMessage(9, LogLevel.Warning, "Partition {Partition}: snapshot failed; the log still holds everything")]
    public static partial void SnapshotFailed(ILogger logger, int partition, Exception exception);

    [LoggerMessage(10, LogLevel.Information, "Flags {Path}: version {Version} with {Rules} rules in force")]
    public static partial void FlagsLoaded(ILogger logger, string path, long version, int rules);

    [LoggerMessage(11, LogLevel.Warning, "Flags {Path} refused, the version in force stays: {Reason}")]
    public static partial void FlagsRefused(ILogger logger, string path, string reason);

    [LoggerMessage(12, LogLevel.Warning, "Partition {Partition}: world {World} rolled back (dry run: {DryRun}), audit {AuditId}, by {Actor} because {Reason}: {Voided} events voided, {Replayed} replayed, {Players} scores and {Treasures} treasures changed, in {ElapsedMs} ms")]
    public static partial void RolledBack(ILogger logger, int partition, string world, bool dryRun, string auditId, string actor, string reason,
        long voided, long replayed, int players, int treasures, long elapsedMs);

    [LoggerMessage(13, LogLevel.Information, "Partition {Partition}: log entries before {Position} trimmed (past the rollback horizon); the log now starts at {First}")]
    public static partial void Trimmed(ILogger logger, int partition, long position, long first);

    [LoggerMessage(14, LogLevel.Error, "Partition {Partition}: rollback {AuditId} is committed, but its audit trail entry could not be written (the log entry holds it until the horizon)")]
    public static partial void AuditFailed(ILogger logger, int partition, string auditId, Exception exception);

    [LoggerMessage(15, LogLevel.Warning, "{What}: the Redis connection threw as it closed (closed all the same)")]
    public static partial void RedisCloseFailed(ILogger logger, Exception exception, string what);
}
