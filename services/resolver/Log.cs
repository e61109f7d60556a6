namespace Veltrix.Resolver;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Partition {Partition}: a work item failed")]
    public static partial void WorkFailed(ILogger logger, int partition, Exception exception);

    [LoggerMessage(2, LogLevel.Information, "Score feed subscriber connected")]
    public static partial void FeedSubscribed(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "Score feed subscriber cut off: {Reason}")]
    public static partial void FeedSubscriberCut(ILogger logger, string reason);

    [LoggerMessage(4, LogLevel.Information, "Resolver owns {Partitions} partitions")]
    public static partial void Owning(ILogger logger, int partitions);
}
