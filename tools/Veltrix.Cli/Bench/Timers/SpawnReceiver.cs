using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Wire;

namespace Veltrix.Cli.Bench.Timers;

/// <summary>
/// The resolver's place in the timers bench: <c>PartitionWriter.Apply</c> on 127.0.0.1 (HTTP/2 cleartext,
/// like every Veltrix gRPC port), answering every batch at once. It is bound by hand with the wire-level
/// marshaller the resolver uses (<see cref="PartitionWriterWire"/>), so a batch arrives as its bytes and is
/// read in place by <see cref="TimerLedger"/>: the instrument builds no message per spawn, and costs the
/// machine the spawn timer shares as little as it can.
/// </summary>
public sealed class SpawnReceiver : IAsyncDisposable
{
    private readonly LoopbackGrpcHost _host;

    private SpawnReceiver(LoopbackGrpcHost host)
    {
        _host = host;
    }

    public static async Task<SpawnReceiver> StartAsync(int port, TimerLedger ledger, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(time);
        return new SpawnReceiver(await LoopbackGrpcHost.StartAsync<Writer>(port, services =>
        {
            services.AddSingleton(new Writer(ledger, time));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<Writer>, WriterMethods>());
        }, cancellationToken));
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    /// <summary>Only what <see cref="WriterMethods"/> binds; no generated base class, so no other method is offered.</summary>
    internal sealed class Writer(TimerLedger ledger, TimeProvider time)
    {
        public Task<ApplyReply> Apply(SerializedBatch batch, ServerCallContext call)
        {
            // One clock read per batch: every spawn in it arrived together.
            var receivedUs = (time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
            int fresh;
            using (batch)
            {
                try
                {
                    fresh = ledger.Receive(batch.Span, receivedUs);
                }
                catch (InvalidDataException e)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
                }
            }
            return Task.FromResult(new ApplyReply { SpawnsApplied = (uint)fresh });
        }
    }

    internal sealed class WriterMethods : IServiceMethodProvider<Writer>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<Writer> context) =>
            context.AddUnaryMethod(PartitionWriterWire.Apply, [], static (writer, batch, call) => writer.Apply(batch, call));
    }
}
