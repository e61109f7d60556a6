using System.Globalization;

namespace Veltrix.Cli.Bots;

/// <summary>How many bots, where they play, and how they talk to the gateway.</summary>
public sealed record BotSettings
{
    public int Bots { get; init; } = 1_000;
    public int Worlds { get; init; } = 4;

    /// <summary>Publish streams; the bots are spread over them.</summary>
    public int Streams { get; init; } = 4;

    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Most events in one EventBatch: one tick of a stream's bots, split at this size.</summary>
    public int MaxBatch { get; init; } = 512;

    public TimeSpan WorldRefresh { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Age at which a Publish stream is replaced by a fresh one (its deadline is 10 minutes).</summary>
    public TimeSpan StreamRotation { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>world-0 .. world-{n-1}.</summary>
    public static IReadOnlyList<string> WorldNames(int worlds) =>
        [.. Enumerable.Range(0, Math.Max(0, worlds)).Select(i => string.Create(CultureInfo.InvariantCulture, $"world-{i}"))];
}

/// <summary>
/// Simulated players over the gateway's Ingest.Publish: each bot joins, walks within the speed limit,
/// teleports to the nearest open treasure when its cooldown allows, and digs there.
/// </summary>
public sealed class BotFleet : IAsyncDisposable
{
    private readonly BotSettings _settings;
    private readonly BotLane[] _lanes;
    private readonly WorldView _worlds;
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _refreshStop = new();
    private readonly List<Task> _running = [];
    private readonly TimeProvider _time;
    private long _batchIds;
    private Task? _stopping;

    public BotFleet(GatewayClients gateway, BotSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Worlds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Streams, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.Bots);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(settings.StreamRotation, TimeSpan.FromMinutes(9));
        time ??= TimeProvider.System;
        _time = time;
        _settings = settings;
        Worlds = BotSettings.WorldNames(settings.Worlds);
        _worlds = new WorldView(gateway, Worlds, settings.CallTimeout, time);

        var laneCount = Math.Clamp(settings.Bots, 1, settings.Streams);
        var perLane = Enumerable.Range(0, laneCount).Select(_ => new List<Bot>()).ToArray();
        for (var i = 0; i < settings.Bots; i++)
        {
            var world = i % settings.Worlds;
            var bot = new Bot(Worlds[world], string.Create(CultureInfo.InvariantCulture, $"bot-{i}"), world, new Random(i));
            perLane[i / settings.Worlds % laneCount].Add(bot);
        }
        _lanes = [.. perLane.Select(bots => new BotLane([.. bots], gateway, settings, _worlds, Stats, time, NextBatchId))];
    }

    public FleetStats Stats { get; } = new();
    public IReadOnlyList<string> Worlds { get; }

    public void Start()
    {
        if (_settings.Bots == 0 || _running.Count > 0)
        {
            return;
        }
        _running.Add(Task.Run(() => _worlds.RunAsync(_settings.WorldRefresh, _refreshStop.Token)));
        foreach (var lane in _lanes)
        {
            _running.Add(Task.Run(() => lane.RunAsync(_abort.Token)));
        }
    }

    /// <summary>Stops sending, waits briefly for the acks of events in flight, closes the streams.</summary>
    public Task StopAsync() => _stopping ??= StopCoreAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }
        _abort.Dispose();
        _refreshStop.Dispose();
    }

    private async Task StopCoreAsync()
    {
        foreach (var lane in _lanes)
        {
            lane.Drain();
        }
        await _refreshStop.CancelAsync();
        var all = Task.WhenAll(_running);
        try
        {
            await all.WaitAsync(TimeSpan.FromSeconds(10), _time);
        }
        catch (TimeoutException)
        {
            await _abort.CancelAsync();
            await all;
        }
    }

    private ulong NextBatchId() => (ulong)Interlocked.Increment(ref _batchIds);
}
