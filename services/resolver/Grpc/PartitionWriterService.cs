using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Domain;

namespace Veltrix.Resolver.Grpc;

/// <summary>The ordered stream into a partition, for ingest and the spawn timer.</summary>
public sealed class PartitionWriterService(PartitionSet partitions) : PartitionWriter.PartitionWriterBase
{
    public override async Task<ApplyReply> Apply(ApplyBatch request, ServerCallContext context)
    {
        if (request.Partition >= partitions.Total)
        {
            Errors.FailedPrecondition($"partition {request.Partition} does not exist (the mesh has partitions 0..{partitions.Total - 1})");
        }
        var id = (int)request.Partition;
        if (!partitions.TryGet(id, out var partition))
        {
            // Never applied here, never forwarded: the sender routes by a map that disagrees with ours, and
            // only it can send the batch to the right instance without breaking the partition's order.
            Errors.FailedPrecondition(
                $"partition {id} is owned by resolver {partitions.OwnerOf(id)}, not by this resolver ({partitions.Ordinal} of {partitions.Map.InstanceCount})");
        }
        if (!request.StampsMatchEvents)
        {
            Errors.InvalidArgument($"batch has {request.Events.Count} events but {request.StampsMs.Count} stamps");
        }
        CheckOwnership(request, partitions.Total);

        return await partition.RunAsync(new ApplyWork(request), context.CancellationToken);
    }

    // A caller that routes with a different partition count would split a world across loops.
    private static void CheckOwnership(ApplyBatch request, int count)
    {
        foreach (var e in request.Events)
        {
            var world = e.WorldId;
            if (EventValidator.IsValidId(world) && Partitioning.PartitionOf(world!, count) != request.Partition)
            {
                Errors.FailedPrecondition($"world '{world}' belongs to partition {Partitioning.PartitionOf(world!, count)}, not {request.Partition}");
            }
        }
        foreach (var s in request.Spawns)
        {
            if (!EventValidator.IsValidId(s.WorldId) || !EventValidator.IsValidId(s.TreasureId))
            {
                Errors.InvalidArgument("spawn has an invalid world_id or treasure_id");
            }
            if (Partitioning.PartitionOf(s.WorldId, count) != request.Partition)
            {
                Errors.FailedPrecondition($"world '{s.WorldId}' belongs to partition {Partitioning.PartitionOf(s.WorldId, count)}, not {request.Partition}");
            }
        }
    }
}
