namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>What a caller asks for; an empty <see cref="TreasureId"/> lets the scheduler name the treasure.</summary>
internal readonly record struct SpawnRequest(string WorldId, string? TreasureId, int X, int Y, long Value, long AtMs);

/// <summary>A copy of one pending spawn, as <see cref="PendingSpawns"/> lists and finds it.</summary>
internal readonly record struct ScheduledSpawn(string WorldId, string TreasureId, int X, int Y, long Value, long DueMs);

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
