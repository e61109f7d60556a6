using StackExchange.Redis;
using Veltrix.Contracts.V1;
using Veltrix.Testing;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>Flags from Redis (cluster mode): a new version written to the key is in force within a reload.</summary>
public sealed class RedisFlagTests : IAsyncLifetime
{
    private const string World = "flagged-redis";
    private readonly RedisServerFixture _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task FlagsInRedis_NewVersionWritten_NewBatchesUseItOldOneRefused()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var db = redis.GetDatabase();
        await db.StringSetAsync("veltrix:flags", """{ "version": 3, "rules": [ { "flag": "teleport.enabled", "value": 0 } ] }""");
        using var resolver = new ResolverFixture(null, settings: [
            new("Veltrix:Flags:Redis", _redis.ConnectionString),
            new("Veltrix:Flags:ReloadMs", "100"),
        ]);

        var refused = await resolver.Writer.ApplyAsync(Batch(World, Join(World, "p", 1).Stamp(), Teleport(World, "p", 2, 10, 10).Stamp()));
        Assert.Equal([Outcome.Accepted, Outcome.Rejected], refused.Results.Select(r => r.Outcome));

        await db.StringSetAsync("veltrix:flags", """{ "version": 4, "rules": [] }""");
        var allowed = await UntilAsync(resolver, 3, Outcome.Accepted);
        Assert.Equal(Outcome.Accepted, allowed);

        // An older version is refused; version 4 stays in force.
        await db.StringSetAsync("veltrix:flags", """{ "version": 2, "rules": [ { "flag": "teleport.enabled", "value": 0 } ] }""");
        await Task.Delay(500);
        var still = await resolver.Writer.ApplyAsync(Batch(World, Teleport(World, "p", 100, 20, 20).Stamp(T0 + 40_000)));
        Assert.Equal(Outcome.Accepted, still.Results[0].Outcome);
    }

    // Teleports (each with a fresh seq and past the cooldown) until one meets the wanted outcome, for up to 5 s.
    private static async Task<Outcome> UntilAsync(ResolverFixture resolver, ulong seq, Outcome wanted)
    {
        var outcome = Outcome.Unspecified;
        for (var i = 0; i < 50 && outcome != wanted; i++, seq++)
        {
            var reply = await resolver.Writer.ApplyAsync(Batch(World, Teleport(World, "p", seq, 10, 10).Stamp()));
            outcome = reply.Results[0].Outcome;
            if (outcome != wanted)
            {
                await Task.Delay(100);
            }
        }
        return outcome;
    }
}
