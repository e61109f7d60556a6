using Veltrix.Contracts.Internal;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>What a caller asks for; an empty <see cref="TreasureId"/> lets the scheduler name the treasure.</summary>
internal readonly record struct SpawnRequest(string WorldId, string? TreasureId, int X, int Y, long Value, long AtMs);

/// <summary>
/// One pending spawn. It keeps the <see cref="Spawn"/> message it will be sent as, so firing and re-sending
/// allocate nothing per spawn; only <see cref="Spawn.StampMs"/> changes, and only while no send of it is in flight.
/// </summary>
internal sealed class ScheduledSpawn
{
    public ScheduledSpawn(Spawn message, DueKey key, int partition)
    {
        Message = message;
        Key = key;
        Partition = partition;
    }

    public Spawn Message { get; }

    public DueKey Key { get; }

    /// <summary>Unix ms before which the spawn must not reach its world.</summary>
    public long DueMs => Key.DueMs;

    public int Partition { get; }
}

/// <summary>
/// Due time first, then schedule order (a sequence number), so the order is total and stable among equal due times.
/// </summary>
internal readonly record struct DueKey(long DueMs, long Sequence) : IComparable<DueKey>
{
    public int CompareTo(DueKey other)
    {
        var byDue = DueMs.CompareTo(other.DueMs);
        return byDue != 0 ? byDue : Sequence.CompareTo(other.Sequence);
    }
}

/// <summary>Orders spawns by their <see cref="DueKey"/>.</summary>
internal sealed class DueOrder : IComparer<ScheduledSpawn>
{
    public static readonly DueOrder Instance = new();

    public int Compare(ScheduledSpawn? x, ScheduledSpawn? y) =>
        x is null || y is null ? Comparer<object>.Default.Compare(x, y) : x.Key.CompareTo(y.Key);
}
