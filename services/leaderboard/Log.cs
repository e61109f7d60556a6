using Grpc.Core;

namespace Veltrix.Leaderboard;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Subscribing to the score feed at {Address}")]
    public static partial void FeedSubscribing(ILogger logger, string address);

    [LoggerMessage(2, LogLevel.Information, "Score feed snapshot applied: {Changes} changes, {Removed} stale scores removed")]
    public static partial void FeedSnapshotApplied(ILogger logger, int changes, int removed);

    [LoggerMessage(3, LogLevel.Warning, "Score feed unavailable ({Status}: {Detail}); retrying in {RetryMs} ms")]
    public static partial void FeedUnavailable(ILogger logger, StatusCode status, string detail, int retryMs);

    [LoggerMessage(4, LogLevel.Warning, "Score feed ended by the resolver; retrying in {RetryMs} ms")]
    public static partial void FeedEnded(ILogger logger, int retryMs);

    [LoggerMessage(5, LogLevel.Error, "Score feed failed; retrying in {RetryMs} ms")]
    public static partial void FeedFailed(ILogger logger, Exception exception, int retryMs);

    [LoggerMessage(6, LogLevel.Warning, "Ignored {Count} score changes with malformed ids")]
    public static partial void ChangesIgnored(ILogger logger, int count);

    [LoggerMessage(7, LogLevel.Warning, "Watch of {Board} cut off: a frame was not taken within {TimeoutMs} ms")]
    public static partial void WatchCutOff(ILogger logger, string board, int timeoutMs);
}
