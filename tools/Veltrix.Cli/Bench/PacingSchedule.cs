namespace Veltrix.Cli.Bench;

/// <summary>
/// When each batch of one stream is meant to leave, at a fixed rate: batch k of stream s at
/// start + (s / streams + k) × interval, where interval = batch / (rate / streams). The streams are
/// staggered over one interval so they do not all send at the same instant. Latency is measured from
/// these intended times, not from when a batch actually left: a generator held back by a slow server
/// (in-flight limit reached) still charges the server for the wait, which corrects for coordinated omission.
/// </summary>
public readonly record struct PacingSchedule
{
    private PacingSchedule(long start, double ticksPerBatch)
    {
        Start = start;
        TicksPerBatch = ticksPerBatch;
    }

    /// <summary>Timestamp (in <see cref="System.Diagnostics.Stopwatch"/> ticks) of this stream's batch 0.</summary>
    public long Start { get; }

    /// <summary>Timestamp ticks between two batches of this stream.</summary>
    public double TicksPerBatch { get; }

    /// <param name="eventsPerSecond">The total rate over every stream.</param>
    /// <param name="streams">How many streams share it.</param>
    /// <param name="stream">This stream's index, 0 .. streams − 1.</param>
    /// <param name="batch">Events per batch.</param>
    /// <param name="start">Timestamp the run starts at.</param>
    /// <param name="frequency">Timestamp ticks per second.</param>
    public static PacingSchedule For(double eventsPerSecond, int streams, int stream, int batch, long start, long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eventsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streams);
        ArgumentOutOfRangeException.ThrowIfNegative(stream);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stream, streams);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequency);
        var batchesPerSecond = eventsPerSecond / streams / batch;
        var ticksPerBatch = frequency / batchesPerSecond;
        return new PacingSchedule(start + (long)(ticksPerBatch * stream / streams), ticksPerBatch);
    }

    /// <summary>When batch <paramref name="k"/> is meant to be sent.</summary>
    public long IntendedAt(long k) => Start + (long)Math.Round(k * TicksPerBatch);
}
