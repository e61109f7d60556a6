using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Testing;

namespace Veltrix.Ingest.Tests;

/// <summary>
/// A real gRPC server on loopback answering PartitionWriter.Apply in the resolver's place: it records
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
        public override Task<ApplyReply> Apply(ApplyBatch request, ServerCallContext context)
        {
            if (standIn.FailWith is { } status)
            {
                throw new RpcException(new Status(status, "stand-in failure"));
            }
            standIn.Received.Enqueue(request);
            var reply = new ApplyReply();
            foreach (var _ in request.Events)
            {
                reply.Results.Add(new EventResult { Outcome = Outcome.Accepted });
            }
            return Task.FromResult(reply);
        }
    }
}
