using Microsoft.Extensions.Options;
using Veltrix.ServiceDefaults;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer;

/// <summary>
/// Keeps a running game supplied with treasure: every <see cref="SpawnTimerOptions.IntervalMs"/>, one spawn due
/// now in each configured world, at a position and value drawn from a seeded sequence. It schedules through
/// <see cref="SpawnScheduler.Schedule"/> like ScheduleOnce does.
/// </summary>
internal sealed class AutoSpawner(SpawnScheduler scheduler, TimeProvider time, IOptions<SpawnTimerOptions> options, ILogger<AutoSpawner> logger)
    : IHostedService, IDisposable
{
    private readonly Lock _gate = new();
    private readonly SpawnTimerOptions _options = options.Value;
    private string[] _worlds = [];
    private SplitMix64 _random = new((ulong)options.Value.Seed);
    private ITimer? _timer;
    private int _paused;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _worlds = _options.WorldIds();
        if (_worlds.Length == 0)
        {
            return Task.CompletedTask;
        }
        var interval = TimeSpan.FromMilliseconds(_options.IntervalMs);
        _timer = DetachedTimer.Create(time, static state => ((AutoSpawner)state!).Tick(), this, interval, interval);
        Log.AutoSpawnStarted(logger, _worlds.Length, _options.IntervalMs);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    private void Tick()
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var valueRange = (ulong)(_options.ValueMax - _options.ValueMin + 1);
        foreach (var world in _worlds)
        {
            int x, y;
            long value;
            // Ticks of a system timer may overlap when one runs long; the sequence must not tear.
            lock (_gate)
            {
                x = (int)_random.Next((ulong)_options.WorldSize);
                y = (int)_random.Next((ulong)_options.WorldSize);
                value = _options.ValueMin + (long)_random.Next(valueRange);
            }
            var outcome = scheduler.Schedule(new SpawnRequest(world, null, x, y, value, now));
            if (outcome.Status == ScheduleStatus.Full)
            {
                if (Interlocked.Exchange(ref _paused, 1) == 0)
                {
                    Log.AutoSpawnPaused(logger, scheduler.MaxPending);
                }
            }
            else if (Interlocked.Exchange(ref _paused, 0) == 1)
            {
                Log.AutoSpawnResumed(logger);
            }
        }
    }
}

/// <summary>SplitMix64: a tiny, fast generator whose sequence depends on the seed alone, on every runtime.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="bound"/>); the modulo bias is below 2^-40 for bounds up to a million.</summary>
    public ulong Next(ulong bound) => NextUInt64() % bound;
}
