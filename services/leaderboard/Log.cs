using Grpc.Core;

namespace Veltrix.Leaderboard;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Subscribing to the score feed of resolver {Resolver} at {Address}")]
    public static partial void FeedSubscribing(ILogger logger, int resolver, string address);

    [LoggerMessage(2, LogLevel.Information, "Score feed snapshot of resolver {Resolver} applied: {Changes} changes, {Removed} stale scores removed")]
    public static partial void FeedSnapshotApplied(ILogger logger, int resolver, int changes, int removed);

    [LoggerMessage(3, LogLevel.Warning, "Score feed of resolver {Resolver} unavailable ({Status}: {Detail}); retrying in {RetryMs} ms")]
    public static partial void FeedUnavailable(ILogger logger, int resolver, StatusCode status, string detail, int retryMs);

    [LoggerMessage(4, LogLevel.Warning, "Score feed ended by resolver {Resolver}; retrying in {RetryMs} ms")]
    public static partial void FeedEnded(ILogger logger, int resolver, int retryMs);

    [LoggerMessage(5, LogLevel.Error, "Score feed of resolver {Resolver} failed; retrying in {RetryMs} ms")]
    public static partial void FeedFailed(ILogger logger, Exception exception, int resolver, int retryMs);

    [LoggerMessage(6, LogLevel.Warning, "Ignored {Count} score changes with malformed ids")]
    public static partial void ChangesIgnored(ILogger logger, int count);

    [LoggerMessage(7, LogLevel.Warning, "Watch of {Board} cut off: a frame was not taken within {TimeoutMs} ms")]
    public static partial void WatchCutOff(ILogger logger, string board, int timeoutMs);

    [LoggerMessage(8, LogLevel.Error, "Score feed of resolver {Resolver}: a message could not be applied; resubscribing for a new snapshot")]
    public static partial void FeedApplyFailed(ILogger logger, Exception exception, int resolver);
}
