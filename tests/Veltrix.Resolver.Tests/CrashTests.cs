using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>kill -9 of a resolver mid-stream loses nothing it acknowledged and half-applies nothing.</summary>
public sealed class CrashTests : IDisposable
{
    private const int Players = 40;
    private const int Partitions = 4;
    private readonly string _dataDir = Directory.CreateTempSubdirectory("veltrix-crash-").FullName;

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);

    // Batch k moves every player one unit, with seq k + 1 (seq 1 is the join): after any crash, every
    // player's last_seq must be the same (batches are all or nothing) and at least the acknowledged ones.
    private static ApplyBatch MovesBatch(string world, int k)
    {
        var batch = new ApplyBatch { Partition = (uint)Domain.Partitioning.PartitionOf(world, Partitions) };
        var t = T0 + (k * 100L);
        for (var i = 0; i < Players; i++)
        {
            batch.Add(
                k switch
                {
                    0 => Join(world, $"p{i}", 1, t),
                    1 => Teleport(world, $"p{i}", 2, 1, 1, t),
                    _ => Move(world, $"p{i}", (ulong)k + 1, 1 + (k % 2), 1, t),
                },
                t);
        }
        return batch;
    }

    [Fact]
    public async Task Sigkill_MidStream_EveryAcknowledgedBatchBackExactlyOnce()
    {
        const string world = "crash-world";
        var acked = 0;
        var sent = 0;
        var enoughAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var first = await ResolverProcess.StartAsync(_dataDir, Partitions, TimeSpan.FromSeconds(30)))
        {
            var writer = new PartitionWriter.PartitionWriterClient(first.Channel);
            using var killAfter = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var stream = Task.Run(async () =>
            {
                for (var k = 0; k < 5_000 && !killAfter.IsCancellationRequested; k++)
                {
                    sent = k + 1;
                    try
                    {
                        var reply = await writer.ApplyAsync(MovesBatch(world, k), deadline: DateTime.UtcNow.AddSeconds(5));
                        Assert.All(reply.Results, r => Assert.Equal(Outcome.Accepted, r.Outcome));
                        acked = k + 1;
                        if (acked == 200)
                        {
                            enoughAcked.TrySetResult();
                        }
                    }
                    catch (RpcException)
                    {
                        return; // the process is gone: this batch was never acknowledged
                    }
                }
            });
            // Kill it mid-stream, once there is something acknowledged to lose.
            await Task.WhenAny(enoughAcked.Task, stream);
            first.Kill();
            await stream;
        }
        Assert.InRange(acked, 200, sent);

        using var second = await ResolverProcess.StartAsync(_dataDir, Partitions, TimeSpan.FromSeconds(30));
        var reads = new Contracts.V1.Resolver.ResolverClient(second.Channel);
        var seqs = new HashSet<ulong>();
        for (var i = 0; i < Players; i++)
        {
            var p = await reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = $"p{i}" });
            seqs.Add(p.LastSeq);
        }

        // One value: no batch was half applied. At least every acknowledged batch; at most what was sent.
        var lastSeq = Assert.Single(seqs);
        Assert.InRange((int)lastSeq, acked, sent);

        // Exactly once: every batch sent again is a duplicate now, however far the crash got.
        var writerAgain = new PartitionWriter.PartitionWriterClient(second.Channel);
        for (var k = 0; k < (int)lastSeq; k += 97)
        {
            var again = await writerAgain.ApplyAsync(MovesBatch(world, k));
            Assert.All(again.Results, r => Assert.Equal(Outcome.Duplicate, r.Outcome));
        }
    }
}
