using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Veltrix.Contracts.Internal;
using Veltrix.Testing;

namespace Veltrix.SpawnTimer.Tests;

/// <summary>One Apply call the stand-in received: the batch, when (wall clock), and whether it refused it.</summary>
internal sealed record ReceivedApply(ApplyBatch Batch, long ReceivedAtMs, bool Refused);

/// <summary>
/// A real PartitionWriter gRPC server on 127.0.0.1 (a free port, HTTP/2 cleartext) in the resolver's place.
/// It answers like a resolver (an id a world has seen is not new), can refuse calls with a status, and hands
/// every call to the test through a bounded channel so the test waits on a signal, never on a sleep.
/// </summary>
internal sealed class StandInPartitionWriter : IAsyncDisposable
{
    private readonly Channel<ReceivedApply> _calls = Channel.CreateBounded<ReceivedApply>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Lock _gate = new();
    private readonly HashSet<(string World, string Treasure)> _seen = [];
    private int _refusals;
    private LoopbackGrpcServer _server = null!;

    private StandInPartitionWriter()
    {
    }

    public string Address => _server.Address;

    public static async Task<StandInPartitionWriter> StartAsync()
    {
        var standIn = new StandInPartitionWriter();
        standIn._server = await LoopbackGrpcServer.StartAsync(
            services => services.AddSingleton(standIn),
            app => app.MapGrpcService<Writer>());
        return standIn;
    }

    /// <summary>The next calls are answered UNAVAILABLE.</summary>
    public void RefuseNext(int calls) => Interlocked.Exchange(ref _refusals, calls);

    /// <summary>Waits for the next Apply call, at most <paramref name="timeout"/>.</summary>
    public async Task<ReceivedApply> NextCallAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _calls.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no Apply call reached the stand-in within {timeout}");
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task<ApplyReply> ApplyAsync(ApplyBatch batch, CancellationToken cancellationToken)
    {
        var received = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var refuse = Interlocked.Decrement(ref _refusals) >= 0;
        await _calls.Writer.WriteAsync(new ReceivedApply(batch, received, refuse), cancellationToken);
        if (refuse)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "stand-in resolver is unavailable"));
        }
        var reply = new ApplyReply();
        lock (_gate)
        {
            foreach (var spawn in batch.Spawns)
            {
                if (_seen.Add((spawn.WorldId, spawn.TreasureId)))
                {
                    reply.SpawnsApplied++;
                }
            }
        }
        return reply;
    }

    private sealed class Writer(StandInPartitionWriter standIn) : PartitionWriter.PartitionWriterBase
    {
        public override Task<ApplyReply> Apply(ApplyBatch request, ServerCallContext context) =>
            standIn.ApplyAsync(request, context.CancellationToken);
    }
}
