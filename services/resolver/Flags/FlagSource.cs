using Microsoft.Extensions.Options;
using Veltrix.Domain;

namespace Veltrix.Resolver.Flags;

/// <summary>Bound from <c>Veltrix:Flags</c>.</summary>
public sealed record FlagOptions
{
    public const string Section = "Veltrix:Flags";

    /// <summary>The flags file; empty means the world defaults only.</summary>
    public string File { get; set; } = "";

    /// <summary>How often the file is checked for a new version.</summary>
    [System.ComponentModel.DataAnnotations.Range(50, 3_600_000)]
    public int ReloadMs { get; set; } = 1_000;
}

[OptionsValidator]
public sealed partial class FlagOptionsValidator : IValidateOptions<FlagOptions>;

/// <summary>
/// The flag version partitions apply new batches under. Reloads the file when it changes; a file that
/// does not parse is reported and the version in force stays. Only the current version lives here:
/// older ones live in the log entries that used them, so flag churn never grows memory.
/// </summary>
public sealed class FlagSource(IOptions<FlagOptions> options, TimeProvider time, ILogger<FlagSource> logger) : BackgroundService
{
    private volatile FlagSet _current = FlagSet.Defaults();
    private DateTime _loadedWrite = DateTime.MinValue;

    public FlagSet Current => _current;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Reload();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.File.Length == 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ReloadMs), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Reload();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Loads the file if it changed since the last load. Returns the version in force.</summary>
    public long Reload()
    {
        var path = options.Value.File;
        if (path.Length == 0 || !System.IO.File.Exists(path))
        {
            return _current.Version;
        }
        try
        {
            var written = System.IO.File.GetLastWriteTimeUtc(path);
            if (written == _loadedWrite)
            {
                return _current.Version;
            }
            var next = FlagFile.Parse(System.IO.File.ReadAllBytes(path), WorldRules.Default);
            _loadedWrite = written;
            if (next.Version < _current.Version)
            {
                Log.FlagsRefused(logger, path, $"version {next.Version} is older than the version in force, {_current.Version}");
            }
            else if (next.Version > _current.Version)
            {
                _current = next;
                Log.FlagsLoaded(logger, path, next.Version, next.Rules.Count);
            }
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            Log.FlagsRefused(logger, path, ex.Message);
        }
        return _current.Version;
    }
}
