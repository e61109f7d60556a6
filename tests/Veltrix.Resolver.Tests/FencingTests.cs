using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Storage;
using Veltrix.Contracts.V1;
using Veltrix.Storage;
using Veltrix.Testing;
using Xunit.Abstractions;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// One writer per partition (DESIGN.md sections 5 and 8.6), with real processes and a real Redis: an owner frozen by
/// SIGSTOP while a newer epoch takes its partitions over cannot write when it wakes, and its callers never hear ACCEPTED.
/// </summary>
public sealed class FencingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Partitions = ResolverFixture.Partitions;
    private const int PlayersPerWorld = 8;
    private const int StepsByA = 6;
    private const int StepsByB = 3;

    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromSeconds(1);

    // The deadline is the caller's own timer, so lateness past it is only scheduling on a loaded 2-core machine.
    private static readonly TimeSpan ProbeSlack = TimeSpan.FromSeconds(2);

    // Long enough to still be waiting when the stale owner wakes, so the owner really handles it after the takeover.
    private static readonly TimeSpan QueuedDeadline = TimeSpan.FromSeconds(120);

    private static readonly StatusCode[] RefusedInTime = [StatusCode.DeadlineExceeded, StatusCode.Unavailable];

    private readonly RedisServerFixture _redis = new();
    private readonly List<ResolverProcess> _started = [];
    private readonly string _dataDir = Directory.CreateTempSubdirectory("veltrix-fencing-").FullName;

    public Task InitializeAsync() => _redis.InitializeAsync();

    public async Task DisposeAsync()
    {
        try
        {
            for (var i = _started.Count - 1; i >= 0; i--)
            {
                _started[i].Dispose();
            }
        }
        finally
        {
            await _redis.DisposeAsync();
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task StaleOwner_WakesAfterTakeover_IsFencedAndOnlyAcknowledgedEventsAreDurable()
    {
        var worlds = OneWorldPerPartition();
        var acknowledged = new List<string>();
        var staleOnly = new List<(string World, string Player)>();

        // A owns every partition with epoch 1 and acknowledges some batches.
        var a = await StartOwnerAsync(epoch: 1);
        var writerA = new PartitionWriter.PartitionWriterClient(a.Channel);
        var readsA = new Contracts.V1.Resolver.ResolverClient(a.Channel);
        foreach (var world in worlds)
        {
            for (var k = 0; k < StepsByA; k++)
            {
                await ApplyAcceptedAsync(writerA, Step(world, "a", k), acknowledged);
            }
        }

        // A freezes. A batch sent now sits in A's socket until A wakes; the caller waits on its deadline.
        a.Pause();
        var queuedBatch = Step(worlds[0], "a", StepsByA);
        queuedBatch.Add(Join(worlds[0], "stale-queued", 1).Stamp());
        staleOnly.Add((worlds[0], "stale-queued"));
        var queued = writerA.ApplyAsync(queuedBatch, deadline: DateTime.UtcNow + QueuedDeadline).ResponseAsync;

        // Callers of a frozen resolver hear DEADLINE_EXCEEDED or UNAVAILABLE within their deadline, not never.
        var probeBatch = Batch(worlds[1], Join(worlds[1], "stale-probe", 1).Stamp());
        staleOnly.Add((worlds[1], "stale-probe"));
        var readProbe = TimedFailureAsync(() => readsA.GetPlayerAsync(
            new GetPlayerRequest { WorldId = worlds[1], PlayerId = "a0" }, deadline: DateTime.UtcNow + ProbeDeadline).ResponseAsync);
        var applyProbe = TimedFailureAsync(() => writerA.ApplyAsync(probeBatch, deadline: DateTime.UtcNow + ProbeDeadline).ResponseAsync);
        foreach (var (status, elapsed) in await Task.WhenAll(readProbe, applyProbe))
        {
            output.WriteLine($"call to paused A: {status} after {elapsed.TotalMilliseconds:F0} ms (deadline {ProbeDeadline.TotalMilliseconds:F0} ms)");
            Assert.Contains(status, RefusedInTime);
            Assert.True(elapsed < ProbeDeadline + ProbeSlack, $"a call to the paused resolver took {elapsed}, deadline {ProbeDeadline}");
        }
        Assert.False(queued.IsCompleted, "a paused resolver answered");

        // B takes every partition over with epoch 2: it has all A acknowledged, and it accepts new batches. It leaves
        // the queued batch's partition unwritten until A has woken, so there A's log still ends where B's does and only
        // the epoch check can refuse A's append (elsewhere the log's position check would refuse it as well).
        var b = await StartOwnerAsync(epoch: 2);
        var writerB = new PartitionWriter.PartitionWriterClient(b.Channel);
        var readsB = new Contracts.V1.Resolver.ResolverClient(b.Channel);
        await AssertLastSeqsAsync(readsB, worlds, "a", StepsByA);
        await WriteAsBAsync(writerB, worlds[1..], acknowledged);
        Assert.True(ProcessSignals.IsStopped(a.Pid), "A ran before the test resumed it");
        Assert.False(queued.IsCompleted, "a paused resolver answered");

        // A wakes and handles the batch it had been sent: its append is fenced, so the caller hears an error.
        a.Resume();
        var queuedError = await Assert.ThrowsAsync<RpcException>(() => queued);
        output.WriteLine($"batch queued at A, after A woke: {queuedError.StatusCode} \"{queuedError.Status.Detail}\"");
        Assert.Contains(queuedError.StatusCode, RefusedInTime);

        // A keeps refusing on every partition: its recovery re-opens with epoch 1, which is fenced for good.
        foreach (var world in worlds)
        {
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var player = $"stale-after-{attempt.ToString(CultureInfo.InvariantCulture)}";
                staleOnly.Add((world, player));
                var refused = await Assert.ThrowsAsync<RpcException>(() => writerA.ApplyAsync(
                    Batch(world, Join(world, player, 1).Stamp()), deadline: DateTime.UtcNow + CallDeadline).ResponseAsync);
                output.WriteLine($"apply to woken A, {world} attempt {attempt}: {refused.StatusCode} \"{refused.Status.Detail}\"");
                Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
                if (attempt > 0)
                {
                    Assert.Contains("fenced", refused.Status.Detail, StringComparison.Ordinal);
                }
            }
            var read = await Assert.ThrowsAsync<RpcException>(() => readsA.GetPlayerAsync(
                new GetPlayerRequest { WorldId = world, PlayerId = "a0" }, deadline: DateTime.UtcNow + CallDeadline).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, read.StatusCode);
        }
        await AssertFencedHealthAsync(a);

        // B is untouched by A waking: it still accepts, and it holds A's acknowledged events plus its own, nothing stale.
        await WriteAsBAsync(writerB, worlds[..1], acknowledged);
        foreach (var world in worlds)
        {
            await ApplyAcceptedAsync(writerB, Step(world, "a", StepsByA + StepsByB), acknowledged);
        }
        await AssertStateAsync(readsB, worlds, staleOnly);

        // A new owner recovers exactly that from Redis.
        b.Kill();
        var b2 = await StartOwnerAsync(epoch: 3);
        await AssertStateAsync(new Contracts.V1.Resolver.ResolverClient(b2.Channel), worlds, staleOnly);
        b2.Kill();

        // The durable log itself: every acknowledged event exactly once, and no other event at all.
        acknowledged.Sort(StringComparer.Ordinal);
        Assert.Equal(acknowledged, await ReadDurableEventsAsync(epoch: 4));

        // One failed recovery per partition, not a loop of re-opens.
        var lines = a.RecentOutput.Split('\n');
        foreach (var line in lines.Where(static line => line.Contains("fenced out", StringComparison.Ordinal)))
        {
            output.WriteLine("A: " + (line.Length > 400 ? line[..400] + "..." : line));
        }
        var notServed = lines.Count(static line => line.Contains("is not served", StringComparison.Ordinal));
        output.WriteLine($"A logged 'is not served' {notServed} times");
        Assert.InRange(notServed, 1, Partitions);
    }

    private async Task<ResolverProcess> StartOwnerAsync(long epoch)
    {
        var resolver = await ResolverProcess.StartAsync(_dataDir, Partitions, ReadyWithin, [
            new("Veltrix:Storage:Kind", "redis"),
            new("Veltrix:Storage:Redis", _redis.ConnectionString),
            new("Veltrix:Storage:Epoch", epoch.ToString(CultureInfo.InvariantCulture)),
        ]);
        _started.Add(resolver);
        return resolver;
    }

    private static string[] OneWorldPerPartition()
    {
        var worlds = new string[Partitions];
        var found = 0;
        for (var i = 0; found < Partitions; i++)
        {
            var world = $"fence-{i.ToString(CultureInfo.InvariantCulture)}";
            var partition = Domain.Partitioning.PartitionOf(world, Partitions);
            if (worlds[partition] is null)
            {
                worlds[partition] = world;
                found++;
            }
        }
        return worlds;
    }

    // Step k of players "{prefix}0..": a join, a teleport next to the origin, then moves of one unit; seq k + 1.
    private static ApplyBatch Step(string world, string prefix, int k)
    {
        var batch = new ApplyBatch { Partition = (uint)Domain.Partitioning.PartitionOf(world, Partitions) };
        var t = T0 + (k * 100L);
        for (var i = 0; i < PlayersPerWorld; i++)
        {
            var player = $"{prefix}{i.ToString(CultureInfo.InvariantCulture)}";
            var seq = (ulong)k + 1;
            batch.Add(
                k switch
                {
                    0 => Join(world, player, seq, t),
                    1 => Teleport(world, player, seq, 2, 1, t),
                    _ => Move(world, player, seq, 1 + (k % 2), 1, t),
                },
                t);
        }
        return batch;
    }

    private static async Task WriteAsBAsync(PartitionWriter.PartitionWriterClient writerB, string[] worlds, List<string> acknowledged)
    {
        foreach (var world in worlds)
        {
            for (var k = 0; k < StepsByB; k++)
            {
                await ApplyAcceptedAsync(writerB, Step(world, "a", StepsByA + k), acknowledged);
                await ApplyAcceptedAsync(writerB, Step(world, "b", k), acknowledged);
            }
        }
    }

    private static string Key(string world, string player, ulong seq) =>
        $"{world}/{player}/{seq.ToString(CultureInfo.InvariantCulture)}";

    private static async Task ApplyAcceptedAsync(PartitionWriter.PartitionWriterClient writer, ApplyBatch batch, List<string> acknowledged)
    {
        var reply = await writer.ApplyAsync(batch, deadline: DateTime.UtcNow + CallDeadline);
        Assert.Equal(batch.Events.Count, reply.Results.Count);
        Assert.All(reply.Results, static r => Assert.Equal(Outcome.Accepted, r.Outcome));
        foreach (var e in batch.Events)
        {
            acknowledged.Add(Key(e.WorldId, e.PlayerId, e.Seq));
        }
    }

    private static async Task<(StatusCode Status, TimeSpan Elapsed)> TimedFailureAsync<T>(Func<Task<T>> call)
    {
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(call);
        return (error.StatusCode, clock.Elapsed);
    }

    private static async Task AssertLastSeqsAsync(Contracts.V1.Resolver.ResolverClient reads, string[] worlds, string prefix, int lastSeq)
    {
        foreach (var world in worlds)
        {
            for (var i = 0; i < PlayersPerWorld; i++)
            {
                var player = await reads.GetPlayerAsync(
                    new GetPlayerRequest { WorldId = world, PlayerId = $"{prefix}{i.ToString(CultureInfo.InvariantCulture)}" },
                    deadline: DateTime.UtcNow + CallDeadline);
                Assert.Equal((ulong)lastSeq, player.LastSeq);
            }
        }
    }

    private static async Task AssertStateAsync(
        Contracts.V1.Resolver.ResolverClient reads, string[] worlds, List<(string World, string Player)> staleOnly)
    {
        await AssertLastSeqsAsync(reads, worlds, "a", StepsByA + StepsByB + 1);
        await AssertLastSeqsAsync(reads, worlds, "b", StepsByB);
        foreach (var (world, player) in staleOnly)
        {
            var missing = await Assert.ThrowsAsync<RpcException>(() => reads.GetPlayerAsync(
                new GetPlayerRequest { WorldId = world, PlayerId = player }, deadline: DateTime.UtcNow + CallDeadline).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        }
    }

    private static async Task AssertFencedHealthAsync(ResolverProcess resolver)
    {
        using var http = new HttpClient { Timeout = CallDeadline };
        using var reply = await http.GetAsync(new Uri($"http://127.0.0.1:{resolver.HttpPort.ToString(CultureInfo.InvariantCulture)}/healthz"));
        var body = await reply.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.StatusCode);
        Assert.Contains("fenced", body, StringComparison.Ordinal);
    }

    // Opens every partition with a newer epoch than any resolver used, so nothing can write while it reads.
    private async Task<List<string>> ReadDurableEventsAsync(long epoch)
    {
        var events = new List<string>();
        await using var store = await RedisPartitionStore.ConnectAsync(_redis.ConnectionString);
        for (var partition = 0; partition < Partitions; partition++)
        {
            await using var log = await store.OpenAsync(partition, epoch, CancellationToken.None);
            Assert.Equal(1, log.FirstPosition);
            await foreach (var entry in log.ReadAsync(log.FirstPosition, CancellationToken.None))
            {
                foreach (var batch in LogRecord.Parser.ParseFrom(entry.Data.Span).Batches)
                {
                    foreach (var e in batch.Events)
                    {
                        events.Add(Key(e.WorldId, e.PlayerId, e.Seq));
                    }
                }
            }
        }
        events.Sort(StringComparer.Ordinal);
        return events;
    }
}
