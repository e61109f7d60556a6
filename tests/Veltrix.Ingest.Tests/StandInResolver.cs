using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Testing;

namespace Veltrix.Ingest.Tests;

/// <summary>
/// A real gRPC server on loopback answering PartitionWriter (Apply and ApplyStream) in the resolver's place: it records
/// what ingest sent and accepts everything, or fails with a chosen status. The subject here is ingest's
/// routing; the real resolver is exercised by the end-to-end tests.
/// </summary>
public sealed class StandInResolver : IAsyncDisposable
{
    private LoopbackGrpcServer _server = null!;

    private StandInResolver()
    {
    }

    public ConcurrentQueue<ApplyBatch> Received { get; } = new();

    public StatusCode? FailWith { get; set; }

    /// <summary>Calls wait here until it is opened (it starts open).</summary>
    public TaskCompletionSource Gate { get; set; } = OpenGate();

    /// <summary>This many calls (after the gate) fail with UNAVAILABLE before calls succeed again.</summary>
    public int FailingCalls
    {
        get => Volatile.Read(ref _failingCalls);
        set => Volatile.Write(ref _failingCalls, value);
    }

    public int Calls => Volatile.Read(ref _calls);

    private int _failingCalls;
    private int _calls;

    public static TaskCompletionSource OpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    public string Address => _server.Address;

    public static async Task<StandInResolver> StartAsync()
    {
        var standIn = new StandInResolver();
        standIn._server = await LoopbackGrpcServer.StartAsync(
            services => services.AddSingleton(standIn),
            app => app.MapGrpcService<Writer>());
        return standIn;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private sealed class Writer(StandInResolver standIn) : PartitionWriter.PartitionWriterBase
    {
        public override async Task ApplyStream(IAsyncStreamReader<ApplyBatch> requestStream, IServerStreamWriter<ApplyReply> responseStream, ServerCallContext context)
        {
            // As the resolver does: each batch answered in order; the first failure ends the stream.
            await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(await Apply(batch, context));
            }
        }

        public override async Task<ApplyReply> Apply(ApplyBatch request, ServerCallContext context)
        {
            Interlocked.Increment(ref standIn._calls);
            await standIn.Gate.Task.WaitAsync(context.CancellationToken);
            if (Interlocked.Decrement(ref standIn._failingCalls) >= 0)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "stand-in failure"));
            }
            if (standIn.FailWith is { } status)
            {
                throw new RpcException(new Status(status, "stand-in failure"));
            }
            standIn.Received.Enqueue(request);
            var reply = new ApplyReply();
            var results = new ApplyReplyBuilder(request.Events.Count);
            var accepted = new EventResult { Outcome = Outcome.Accepted };
            foreach (var _ in request.Events)
            {
                results.Add(accepted);
            }
            results.CopyTo(reply);
            return reply;
        }
    }
}
