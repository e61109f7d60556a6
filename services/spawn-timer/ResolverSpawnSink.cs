using Microsoft.Extensions.Options;
using Veltrix.Contracts.Internal;
using Veltrix.ServiceDefaults;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer;

/// <summary>
/// Sends fired spawns to the <c>PartitionWriter</c> of the resolver instance that owns the batch's partition
/// (<see cref="PartitionMap"/>), each call under the mesh deadline.
/// </summary>
internal sealed class ResolverSpawnSink : ISpawnSink
{
    // Indexed by partition: the owner's client, one per owner, created once over the shared channels.
    private readonly PartitionWriter.PartitionWriterClient[] _writers;
    private readonly int _callTimeoutMs;

    public ResolverSpawnSink(ResolverChannels resolvers, IOptions<MeshOptions> mesh)
    {
        var map = resolvers.Map;
        var owners = new PartitionWriter.PartitionWriterClient[map.InstanceCount];
        for (var i = 0; i < owners.Length; i++)
        {
            owners[i] = new PartitionWriter.PartitionWriterClient(resolvers.ForOrdinal(i));
        }
        _writers = new PartitionWriter.PartitionWriterClient[map.Partitions];
        for (var p = 0; p < _writers.Length; p++)
        {
            _writers[p] = owners[map.OwnerOf(p)];
        }
        _callTimeoutMs = mesh.Value.CallTimeoutMs;
    }

    public async Task SendAsync(ApplyBatch batch, CancellationToken cancellationToken)
    {
        // gRPC measures deadlines on the wall clock, whatever TimeProvider the scheduler runs on.
        var deadline = DateTime.UtcNow.AddMilliseconds(_callTimeoutMs);
        await _writers[batch.Partition].ApplyAsync(batch, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
