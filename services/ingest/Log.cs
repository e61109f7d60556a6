namespace Veltrix.Ingest;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Partition {Partition}: an Apply call of {Events} events failed; its batches' streams are ended")]
    public static partial void ApplyFailed(ILogger logger, int partition, int events, Exception exception);
}
