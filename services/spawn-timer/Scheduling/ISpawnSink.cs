using Veltrix.Contracts.Internal;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>Where fired spawns go: the ordered stream of a partition.</summary>
internal interface ISpawnSink
{
    /// <summary>
    /// Completes when the partition has acknowledged the whole batch; throws when it did not (the batch is
    /// then sent again, which is safe because a world ignores treasure ids it has already seen).
    /// </summary>
    Task SendAsync(ApplyBatch batch, CancellationToken cancellationToken);
}
