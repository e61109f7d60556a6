using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Veltrix.Domain;
using Veltrix.Storage;

namespace Veltrix.Resolver.Flags;

/// <summary>Bound from <c>Veltrix:Flags</c>.</summary>
public sealed record FlagOptions
{
    public const string Section = "Veltrix:Flags";

    /// <summary>The flags file (embedded); empty means no file.</summary>
    public string File { get; set; } = "";

    /// <summary>
    /// A StackExchange.Redis configuration string (cluster): the flags are the JSON document at
    /// <see cref="RedisKey"/>, the same format as the file. Empty means no Redis; when set, the file is not read.
    /// </summary>
    public string Redis { get; set; } = "";

    public string RedisKey { get; set; } = "veltrix:flags";

    /// <summary>How often the source is checked for a new version.</summary>
    [System.ComponentModel.DataAnnotations.Range(50, 3_600_000)]
    public int ReloadMs { get; set; } = 1_000;
}

[OptionsValidator]
public sealed partial class FlagOptionsValidator : IValidateOptions<FlagOptions>;

/// <summary>
/// The flag version partitions apply new batches under, from the file or from Redis, checked every
/// <see cref="FlagOptions.ReloadMs"/>. A document that does not parse, or holds an older version than the
/// one in force, is reported and the version in force stays. Only the current version lives here: older
/// ones live in the log entries that used them, so flag churn never grows memory.
/// </summary>
public sealed class FlagSource(IOptions<FlagOptions> options, TimeProvider time, ILogger<FlagSource> logger) : BackgroundService
{
    private volatile FlagSet _current = FlagSet.Defaults();
    private DateTime _loadedWrite = DateTime.MinValue;
    private byte[] _loadedDocument = [];
    private ConnectionMultiplexer? _redis;

    public FlagSet Current => _current;

    private string Origin => options.Value.Redis.Length > 0 ? $"redis key {options.Value.RedisKey}" : options.Value.File;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync().ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.File.Length == 0 && options.Value.Redis.Length == 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ReloadMs), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await ReloadAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_redis is not null)
        {
            if (await RedisConnections.DisposeAsync(_redis).ConfigureAwait(false) is { } error)
            {
                Log.RedisCloseFailed(logger, error, Origin);
            }
        }
    }

    /// <summary>Loads the flags if their document changed since the last load. Returns the version in force.</summary>
    public async Task<long> ReloadAsync()
    {
        try
        {
            var document = options.Value.Redis.Length > 0 ? await ReadRedisAsync().ConfigureAwait(false) : ReadFile();
            if (document is not null)
            {
                Offer(document);
            }
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException or RedisException or TimeoutException)
        {
            Log.FlagsRefused(logger, Origin, ex.Message);
        }
        return _current.Version;
    }

    private byte[]? ReadFile()
    {
        var path = options.Value.File;
        if (path.Length == 0 || !System.IO.File.Exists(path))
        {
            return null;
        }
        var written = System.IO.File.GetLastWriteTimeUtc(path);
        if (written == _loadedWrite)
        {
            return null;
        }
        var document = System.IO.File.ReadAllBytes(path);
        _loadedWrite = written;
        return document;
    }

    // A Redis that is away keeps the version in force; the next tick tries again.
    private async Task<byte[]?> ReadRedisAsync()
    {
        if (_redis is null)
        {
            var config = ConfigurationOptions.Parse(options.Value.Redis);
            config.AbortOnConnectFail = false;
            config.ConnectTimeout = Math.Max(config.ConnectTimeout, 5_000);
            _redis = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        }
        byte[]? document = await _redis.GetDatabase().StringGetAsync(options.Value.RedisKey).ConfigureAwait(false);
        if (document is null || document.AsSpan().SequenceEqual(_loadedDocument))
        {
            return null;
        }
        _loadedDocument = document;
        return document;
    }

    private void Offer(byte[] document)
    {
        var next = FlagFile.Parse(document, WorldRules.Default);
        if (next.Version < _current.Version)
        {
            Log.FlagsRefused(logger, Origin, $"version {next.Version} is older than the version in force, {_current.Version}");
        }
        else if (next.Version > _current.Version)
        {
            _current = next;
            Log.FlagsLoaded(logger, Origin, next.Version, next.Rules.Count);
        }
    }
}
