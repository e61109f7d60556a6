using StackExchange.Redis;

namespace Veltrix.Storage;

/// <summary>What every owner of a Redis connection does the same way.</summary>
public static class RedisConnections
{
    /// <summary>
    /// Closes and disposes a connection at shutdown. StackExchange.Redis's close can throw a
    /// NullReferenceException from inside itself when a command is still completing as it closes (its
    /// issue 2754); the connection is closed all the same, and shutting down must not fail over it.
    /// Returns that exception, for the caller to log, or null when the close was clean.
    /// </summary>
    public static async ValueTask<Exception?> DisposeAsync(IConnectionMultiplexer connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        catch (NullReferenceException ex)
        {
            return ex;
        }
    }
}
