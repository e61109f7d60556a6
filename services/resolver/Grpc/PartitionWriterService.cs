using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Wire;
using Veltrix.Domain;

namespace Veltrix.Resolver.Grpc;

/// <summary>
/// The ordered stream into a partition, for ingest and the spawn timer. A batch arrives as its bytes
/// (<see cref="PartitionWriterWire.Apply"/>): it is checked here, read in place on the partition loop and
/// logged as it came, never parsed into messages.
/// </summary>
public sealed class PartitionWriterService(PartitionSet partitions)
{
    // Checking a batch reads its layout; each request thread keeps one to reuse.
    [ThreadStatic]
    private static BatchLayout? t_layout;

    public async Task<ApplyReply> Apply(SerializedBatch batch, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        Partition partition;
        try
        {
            partition = Check(batch.Span);
        }
        catch
        {
            batch.Dispose();
            throw;
        }
        // The work returns the batch's buffer once it is answered.
        return await partition.RunAsync(new ApplyWork(batch), context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Batches one after another on one stream, each answered once its turn is durable. The first that fails
    /// ends the stream with its error; the ones after it are never applied.
    /// </summary>
    public async Task ApplyStream(IAsyncStreamReader<SerializedBatch> batches, IServerStreamWriter<ApplyReply> replies, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(replies);
        ArgumentNullException.ThrowIfNull(context);
        while (await batches.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            var reply = await Apply(batches.Current, context).ConfigureAwait(false);
            await replies.WriteAsync(reply, context.CancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The partition the batch is for, after checking it is well-formed and belongs there.</summary>
    private Partition Check(ReadOnlySpan<byte> batch)
    {
        var layout = t_layout ??= new BatchLayout();
        try
        {
            layout.Read(batch);
        }
        catch (InvalidDataException ex)
        {
            Errors.InvalidArgument($"batch cannot be read: {ex.Message}");
        }
        if (layout.Partition >= partitions.Total)
        {
            Errors.FailedPrecondition($"partition {layout.Partition} does not exist (the mesh has partitions 0..{partitions.Total - 1})");
        }
        var id = (int)layout.Partition;
        if (!partitions.TryGet(id, out var partition))
        {
            // Never applied here, never forwarded: the sender routes by a map that disagrees with ours, and
            // only it can send the batch to the right instance without breaking the partition's order.
            Errors.FailedPrecondition(
                $"partition {id} is owned by resolver {partitions.OwnerOf(id)}, not by this resolver ({partitions.Ordinal} of {partitions.Map.InstanceCount})");
        }
        if (!layout.StampsMatchEvents)
        {
            Errors.InvalidArgument($"batch has {layout.Count} events but {layout.StampCount} stamps");
        }
        CheckOwnership(layout, batch, partitions.Total);
        return partition;
    }

    // A caller that routes with a different partition count would split a world across loops.
    private static void CheckOwnership(BatchLayout layout, ReadOnlySpan<byte> batch, int count)
    {
        for (var i = 0; i < layout.Count; i++)
        {
            WireEvent e;
            try
            {
                e = WireEvent.Read(layout.EventAt(batch, i));
            }
            catch (InvalidDataException ex)
            {
                Errors.InvalidArgument($"event {i} cannot be read: {ex.Message}");
                throw;
            }
            if (EventValidator.IsValidId(e.WorldId) && Partitioning.PartitionOf(e.WorldId, count) != layout.Partition)
            {
                var world = System.Text.Encoding.ASCII.GetString(e.WorldId);
                Errors.FailedPrecondition($"world '{world}' belongs to partition {Partitioning.PartitionOf(e.WorldId, count)}, not {layout.Partition}");
            }
        }
        foreach (var s in layout.Spawns)
        {
            if (!EventValidator.IsValidId(s.WorldId) || !EventValidator.IsValidId(s.TreasureId))
            {
                Errors.InvalidArgument("spawn has an invalid world_id or treasure_id");
            }
            if (Partitioning.PartitionOf(s.WorldId, count) != layout.Partition)
            {
                Errors.FailedPrecondition($"world '{s.WorldId}' belongs to partition {Partitioning.PartitionOf(s.WorldId, count)}, not {layout.Partition}");
            }
        }
    }
}

/// <summary>Binds <c>PartitionWriter/Apply</c> and <c>PartitionWriter/ApplyStream</c> with the bytes-in marshaller.</summary>
internal sealed class PartitionWriterMethods : IServiceMethodProvider<PartitionWriterService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<PartitionWriterService> context)
    {
        context.AddUnaryMethod(PartitionWriterWire.Apply, [], static (service, batch, call) => service.Apply(batch, call));
        context.AddDuplexStreamingMethod(PartitionWriterWire.ApplyStream, [], static (service, batches, replies, call) => service.ApplyStream(batches, replies, call));
    }
}
