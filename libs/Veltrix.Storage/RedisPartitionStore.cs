using System.Globalization;
using StackExchange.Redis;

namespace Veltrix.Storage;

/// <summary>
/// Partitions kept in Redis: per partition a stream <c>{prefix:p:N}:log</c> whose ids are the log positions
/// (<c>{position}-1</c>), an epoch key <c>{prefix:p:N}:epoch</c>, one hash per snapshot
/// <c>{prefix:p:N}:snap:{position}</c> (fields <c>p</c> position, <c>s</c> state, <c>c</c> CRC) and the sorted set
/// <c>{prefix:p:N}:snaps</c> of the positions held (score and member both the position). The hash tag keeps one
/// partition in one cluster slot, which its scripts need: they reach snapshot hashes by name from that set.
/// Durability is Redis' own: an append is durable once acknowledged only by a Redis with <c>appendonly yes</c>
/// (and <c>appendfsync always</c> where a crash of Redis itself must lose nothing). Connection failures and
/// timeouts surface as exceptions (<see cref="RedisConnectionException"/>, <see cref="TimeoutException"/>).
/// </summary>
public sealed class RedisPartitionStore : IPartitionStore
{
    /// <summary>Lua numbers are doubles: epochs and positions above this would silently lose precision.</summary>
    internal const long MaxExactNumber = 1L << 53;

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;

    /// <summary>Connects to <paramref name="connectionString"/> (blocking up to the command timeout) and owns the connection.</summary>
    /// <remarks><inheritdoc cref="ConnectAsync" path="/remarks"/></remarks>
    public RedisPartitionStore(string connectionString, RedisPartitionStoreOptions? options = null, TimeProvider? timeProvider = null)
        : this(Connect(connectionString, options), ownsConnection: true, options, timeProvider)
    {
    }

    /// <summary>Uses <paramref name="connection"/>, which stays the caller's to dispose.</summary>
    public RedisPartitionStore(IConnectionMultiplexer connection, RedisPartitionStoreOptions? options = null, TimeProvider? timeProvider = null)
        : this(connection, ownsConnection: false, options, timeProvider)
    {
    }

    private RedisPartitionStore(IConnectionMultiplexer connection, bool ownsConnection, RedisPartitionStoreOptions? options, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connection);

        // A copy: the options record is mutable (configuration binding needs setters), the store's settings are not.
        Options = Validate((options ?? new RedisPartitionStoreOptions()) with { });
        Time = timeProvider ?? TimeProvider.System;
        _connection = connection;
        _ownsConnection = ownsConnection;
        Database = connection.GetDatabase();
    }

    /// <summary>Connects to <paramref name="connectionString"/>; the store owns the connection.</summary>
    /// <remarks>
    /// Connecting does not fail when Redis is down (the connection keeps retrying in the background), but every call
    /// made while it is down fails at once with <see cref="RedisConnectionException"/> instead of queueing, so callers
    /// answer UNAVAILABLE rather than stall. Connect, sync and async timeouts are all <see cref="RedisPartitionStoreOptions.CommandTimeout"/>.
    /// </remarks>
    public static async Task<RedisPartitionStore> ConnectAsync(
        string connectionString, RedisPartitionStoreOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var validated = Validate(options ?? new RedisPartitionStoreOptions());
        var connection = await ConnectionMultiplexer.ConnectAsync(connectionString, configuration => Configure(configuration, validated)).ConfigureAwait(false);
        return new RedisPartitionStore(connection, ownsConnection: true, validated, timeProvider);
    }

    private static ConnectionMultiplexer Connect(string connectionString, RedisPartitionStoreOptions? options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var validated = Validate(options ?? new RedisPartitionStoreOptions());
        return ConnectionMultiplexer.Connect(connectionString, configuration => Configure(configuration, validated));
    }

    internal RedisPartitionStoreOptions Options { get; }

    internal TimeProvider Time { get; }

    internal IDatabase Database { get; }

    public async ValueTask<IPartitionLog> OpenAsync(int partition, long epoch, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(epoch, MaxExactNumber);
        cancellationToken.ThrowIfCancellationRequested();

        var keys = new RedisPartitionKeys(Options.KeyPrefix, partition);
        var result = await CallAsync(
            Database.ScriptEvaluateAsync(RedisScripts.Open, keys.LogAndEpoch, [epoch]),
            cancellationToken).ConfigureAwait(false);

        if ((long)result[0] == RedisScripts.Fenced)
        {
            throw new FencedException(partition, epoch, (long)result[1]);
        }

        var last = (long)result[1];
        var first = (long)result[2];
        var length = (long)result[3];
        var next = last + 1;
        if (length == 0)
        {
            first = next;
        }
        else if (last - first + 1 != length)
        {
            // Entries are only ever removed from the head, so positions first..last must all be there.
            throw new LogCorruptedException(
                partition, first, RedisPartitionKeys.Describe(keys.Log),
                $"stream holds {length} entries between positions {first} and {last}: entries are missing");
        }

        return new RedisPartitionLog(this, keys, partition, epoch, first, next);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection)
        {
            // A store has no logger; a close that threw from inside the client has closed all the same.
            _ = await RedisConnections.DisposeAsync(_connection).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Bounds a call by <see cref="RedisPartitionStoreOptions.CommandTimeout"/> and the caller's token, whatever the
    /// multiplexer's own timeouts (a multiplexer passed in may have none that suit). StackExchange.Redis takes no
    /// token, so a call given up on may still run on the server; the log's position checks make that harmless.
    /// </summary>
    internal async Task<T> CallAsync<T>(Task<T> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(Options.CommandTimeout, Time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException && !call.IsCompleted)
        {
            // Observe the abandoned call's eventual failure so it is not reported as unobserved.
            _ = call.ContinueWith(
                static t => _ = t.Exception,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            throw;
        }
    }

    private static void Configure(ConfigurationOptions configuration, RedisPartitionStoreOptions options)
    {
        var timeoutMs = (int)options.CommandTimeout.TotalMilliseconds;
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        // Connecting may take longer than a command on a loaded machine; with fail-fast backlog a
        // connect cut short would fail the first commands at once.
        configuration.ConnectTimeout = Math.Max(timeoutMs, 5_000);
        configuration.SyncTimeout = timeoutMs;
        configuration.AsyncTimeout = timeoutMs;
    }

    private static RedisPartitionStoreOptions Validate(RedisPartitionStoreOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.KeyPrefix, nameof(options));
        if (options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            throw new ArgumentException("KeyPrefix must not contain '{' or '}': the store adds its own hash tag.", nameof(options));
        }

        if (options.CommandTimeout <= TimeSpan.Zero || options.CommandTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.CommandTimeout, "CommandTimeout must be positive and fit in int milliseconds.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReadPageSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SnapshotsKept, SnapshotHistory.MinimumKept, nameof(options));
        return options;
    }
}

/// <summary>The keys of one partition, all under one hash tag so they share a cluster slot.</summary>
internal sealed class RedisPartitionKeys
{
    public RedisPartitionKeys(string prefix, int partition)
    {
        var tag = $"{{{prefix}:p:{partition}}}";
        Log = $"{tag}:log";
        Epoch = $"{tag}:epoch";
        Snapshots = $"{tag}:snaps";
        SnapshotPrefix = $"{tag}:snap:";
        LogAndEpoch = [Log, Epoch];
        EpochSnapshotsLog = [Epoch, Snapshots, Log];
    }

    public RedisKey Log { get; }

    public RedisKey Epoch { get; }

    /// <summary>The sorted set of the positions of the snapshots held.</summary>
    public RedisKey Snapshots { get; }

    /// <summary>What a snapshot hash's name starts with; the position follows. Scripts build names from it.</summary>
    public string SnapshotPrefix { get; }

    // Key arrays are shared between calls: nothing writes to them after construction.
    public RedisKey[] LogAndEpoch { get; }

    public RedisKey[] EpochSnapshotsLog { get; }

    /// <summary>The hash that holds the snapshot taken at <paramref name="position"/>.</summary>
    public RedisKey Snapshot(long position) => string.Create(CultureInfo.InvariantCulture, $"{SnapshotPrefix}{position}");

    public static string Describe(RedisKey key) => $"redis key {key}";
}
