using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.Internal;
using Veltrix.ServiceDefaults;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer;

/// <summary>Sends fired spawns to the resolver's <c>PartitionWriter</c>, each call under the mesh deadline.</summary>
internal sealed class ResolverSpawnSink : ISpawnSink, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly PartitionWriter.PartitionWriterClient _client;
    private readonly int _callTimeoutMs;

    public ResolverSpawnSink(IOptions<MeshOptions> mesh)
    {
        _channel = MeshChannel.Create(mesh.Value.Resolver);
        _client = new PartitionWriter.PartitionWriterClient(_channel);
        _callTimeoutMs = mesh.Value.CallTimeoutMs;
    }

    public async Task SendAsync(ApplyBatch batch, CancellationToken cancellationToken)
    {
        // gRPC measures deadlines on the wall clock, whatever TimeProvider the scheduler runs on.
        var deadline = DateTime.UtcNow.AddMilliseconds(_callTimeoutMs);
        await _client.ApplyAsync(batch, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _channel.Dispose();
}
