using System.Text;
using StackExchange.Redis;
using Veltrix.Testing;
using static Veltrix.Storage.Tests.TestLog;

namespace Veltrix.Storage.Tests;

/// <summary>Kills and freezes Redis under a writer, so the class gets a server of its own.</summary>
public sealed class RedisFaultTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private readonly string _prefix = $"t{Guid.NewGuid():N}";

    private RedisPartitionStore NewStore(TimeSpan? commandTimeout = null) => new(
        redis.ConnectionString,
        new RedisPartitionStoreOptions { KeyPrefix = _prefix, CommandTimeout = commandTimeout ?? TimeSpan.FromSeconds(5) });

    [Fact]
    public async Task Append_RedisKilledMidStreamAndRestarted_KeepsEveryAcknowledgedEntry()
    {
        const int KillAfter = 300;
        var acknowledged = 0L;
        Exception? failure = null;
        await using (var store = NewStore())
        {
            var log = await store.OpenAsync(0, 1, Ct);
            var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var writer = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var first = log.NextPosition;
                        await log.AppendAsync([Entry(first), Entry(first + 1)], Ct);
                        acknowledged = log.NextPosition - 1;
                        if (acknowledged >= KillAfter)
                        {
                            killNow.TrySetResult();
                        }
                    }
                }
                catch (Exception e) when (e is RedisConnectionException or TimeoutException)
                {
                    failure = e;
                    killNow.TrySetResult();
                }
            });

            await killNow.Task;
            redis.Kill();
            await writer;
        }

        await redis.RestartAsync();

        Assert.NotNull(failure);
        await using var recovered = NewStore();
        var reopened = await recovered.OpenAsync(0, 2, Ct);
        var entries = await ReadAllAsync(reopened, 1);
        Assert.True(entries.Count >= acknowledged, $"{entries.Count} entries survived, {acknowledged} were acknowledged");
        for (var i = 0; i < entries.Count; i++)
        {
            Assert.Equal(i + 1, entries[i].Position);
            Assert.True(entries[i].Data.Span.SequenceEqual(Entry(i + 1).Span), $"entry {i + 1} differs");
        }
    }

    [Fact]
    public async Task Snapshot_RedisKilledAndRestarted_StillNewest()
    {
        await using (var store = NewStore())
        {
            var log = await store.OpenAsync(1, 1, Ct);
            await log.AppendAsync([Entry(1), Entry(2)], Ct);
            await log.WriteSnapshotAsync(3, State("state-3"), Ct);
        }

        await redis.RestartAsync();

        await using var recovered = NewStore();
        var reopened = await recovered.OpenAsync(1, 2, Ct);
        AssertSnapshot(await reopened.ReadLatestSnapshotAsync(Ct), 3, "state-3");
        Assert.Equal(3, reopened.NextPosition);
    }

    /// <summary>
    /// A frozen Redis makes the append time out, but the command is already in its socket and runs once Redis
    /// wakes: the outcome was unknown to the writer. The next append must be refused rather than write a duplicate
    /// at the same positions, and a reopened log must show the entry that did land.
    /// </summary>
    [Fact]
    public async Task Append_TimedOutWhileRedisFrozenButLandedLater_NextAppendRefusedAndReopenSeesIt()
    {
        // The first entry goes in with the usual timeout: on a busy machine a first connection and script load
        // took longer than the short one the frozen append is given (CI, once).
        await using (var warm = NewStore())
        {
            var first = await warm.OpenAsync(2, 1, Ct);
            await first.AppendAsync([Entry(1)], Ct);
        }
        await using var store = NewStore(TimeSpan.FromSeconds(2));
        var log = await store.OpenAsync(2, 1, Ct);
        Assert.Equal(2, log.NextPosition);

        redis.Pause();
        try
        {
            await Assert.ThrowsAnyAsync<TimeoutException>(() => log.AppendAsync([Entry(2)], Ct).AsTask());
        }
        finally
        {
            redis.Resume();
        }

        Assert.Equal(2, log.NextPosition);
        await Assert.ThrowsAsync<InvalidOperationException>(() => log.AppendAsync([Entry(99)], Ct).AsTask());

        var reopened = await store.OpenAsync(2, 1, Ct);
        Assert.Equal(3, reopened.NextPosition);
        var entries = await ReadAllAsync(reopened, 1);
        Assert.Equal(2, entries.Count);
        Assert.True(entries[1].Data.Span.SequenceEqual(Entry(2).Span));
    }

    private static ReadOnlyMemory<byte> Entry(long position) => Encoding.UTF8.GetBytes($"entry-{position}");
}
