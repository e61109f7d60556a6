using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Veltrix.Contracts.Internal;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer.Tests;

public sealed class AutoSpawnerTests
{
    private const long T0 = 1_700_000_000_000;

    private static async Task<IReadOnlyList<Spawn>> RunAsync(SpawnTimerOptions options, int ticks)
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var sink = new RecordingSink(time);
        using var scheduler = new SpawnScheduler(sink, time, new SpawnSchedulerSettings { Partitions = 4 }, new TreasureIds("auto"), NullLogger.Instance);
        using var spawner = new AutoSpawner(scheduler, time, Options.Create(options), NullLogger<AutoSpawner>.Instance);
        await spawner.StartAsync(CancellationToken.None);
        for (var i = 0; i < ticks; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(options.IntervalMs));
        }
        await spawner.StopAsync(CancellationToken.None);
        return sink.Delivered;
    }

    [Fact]
    public async Task AutoSpawner_EachInterval_OneSpawnDueNowPerWorldWithinBounds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var sink = new RecordingSink(time);
        using var scheduler = new SpawnScheduler(sink, time, new SpawnSchedulerSettings { Partitions = 4 }, new TreasureIds("auto"), NullLogger.Instance);
        var options = new SpawnTimerOptions { Worlds = "alpha, beta,,gamma", IntervalMs = 250, ValueMin = 10, ValueMax = 12, WorldSize = 50 };
        using var spawner = new AutoSpawner(scheduler, time, Options.Create(options), NullLogger<AutoSpawner>.Instance);
        await spawner.StartAsync(CancellationToken.None);

        time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.Empty(sink.Sent);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var first = sink.Delivered;
        time.Advance(TimeSpan.FromMilliseconds(250));
        var spawns = sink.Delivered;

        Assert.Equal(["alpha", "beta", "gamma"], first.Select(s => s.WorldId).Order());
        Assert.All(first, s => Assert.Equal(T0 + 250, s.StampMs));
        Assert.Equal(6, spawns.Count);
        Assert.Equal(6, spawns.Select(s => s.TreasureId).Distinct().Count());
        Assert.All(spawns, s =>
        {
            Assert.InRange(s.X, 0, 49);
            Assert.InRange(s.Y, 0, 49);
            Assert.InRange(s.Value, 10, 12);
        });
        Assert.Equal(0, scheduler.PendingCount);
    }

    [Fact]
    public async Task AutoSpawner_SameSeed_SameSpawns()
    {
        var options = new SpawnTimerOptions { Worlds = "alpha,beta", IntervalMs = 100, Seed = 42 };

        var first = await RunAsync(options, 5);
        var second = await RunAsync(options, 5);
        var otherSeed = await RunAsync(options with { Seed = 43 }, 5);

        Assert.Equal(10, first.Count);
        Assert.Equal(first.Select(s => (s.WorldId, s.X, s.Y, s.Value)), second.Select(s => (s.WorldId, s.X, s.Y, s.Value)));
        Assert.NotEqual(first.Select(s => (s.X, s.Y)), otherSeed.Select(s => (s.X, s.Y)));
    }

    [Fact]
    public async Task AutoSpawner_NoWorlds_SchedulesNothing()
    {
        var spawns = await RunAsync(new SpawnTimerOptions { Worlds = " , ", IntervalMs = 100 }, 5);

        Assert.Empty(spawns);
    }

    [Fact]
    public void Options_Defaults_Valid()
    {
        var result = new SpawnTimerOptionsValidator().Validate(null, new SpawnTimerOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData("ValueMin", 101, 100, "a", "ValueMin (101) must not exceed ValueMax (100)")]
    [InlineData("Worlds", 10, 100, "good, bad world", "'bad world' is not 1..64 characters")]
    [InlineData("ValueMax", 10, 2_000_000, "a", "ValueMax")]
    public void Options_Invalid_FailWithTheReason(string field, long valueMin, long valueMax, string worlds, string reason)
    {
        var options = new SpawnTimerOptions { ValueMin = valueMin, ValueMax = valueMax, Worlds = worlds };

        var result = new SpawnTimerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed, field);
        Assert.Contains(reason, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_RetryMinAboveMax_Invalid()
    {
        var result = new SpawnTimerOptionsValidator().Validate(null, new SpawnTimerOptions { RetryMinMs = 500, RetryMaxMs = 100 });

        Assert.True(result.Failed);
        Assert.Contains("RetryMinMs (500) must not exceed RetryMaxMs (100)", result.FailureMessage, StringComparison.Ordinal);
    }
}
