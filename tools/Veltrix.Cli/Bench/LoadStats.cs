using HdrHistogram;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bench;

/// <summary>Running counts of a load run, written by the streams and read by the controller at any time.</summary>
public sealed class LoadStats
{
    /// <summary>Latencies are recorded in microseconds from 1 µs up to 10 minutes, to 3 significant digits.</summary>
    public const long HighestLatencyUs = 600_000_000;

    private long _sent;
    private long _accepted;
    private long _rejected;
    private long _duplicate;
    private long _malformed;
    private long _unspecified;
    private long _lost;
    private long _errors;
    private long _streamsOpened;
    private string? _lastError;

    public LoadStats()
    {
        // Every stream's ack reader records into it at once: the concurrent histogram keeps each increment.
        Latency = new Recorder(1, HighestLatencyUs, 3, (id, low, high, digits) => new LongConcurrentHistogram(id, low, high, digits));
    }

    /// <summary>Batch latency, send (or intended send) to ack, in µs: thread-safe recording, interval reads.</summary>
    public Recorder Latency { get; }

    public LoadCounts Read() => new(
        Interlocked.Read(ref _sent),
        Interlocked.Read(ref _accepted),
        Interlocked.Read(ref _rejected),
        Interlocked.Read(ref _duplicate),
        Interlocked.Read(ref _malformed),
        Interlocked.Read(ref _unspecified),
        Interlocked.Read(ref _lost),
        Interlocked.Read(ref _errors),
        Interlocked.Read(ref _streamsOpened));

    public string? LastError => Volatile.Read(ref _lastError);

    internal void OnSent(int events) => Interlocked.Add(ref _sent, events);

    internal void OnStreamOpened() => Interlocked.Increment(ref _streamsOpened);

    /// <summary>Adds one ack's outcomes, counted by the caller.</summary>
    internal void OnAcked(in OutcomeCounts counts)
    {
        Interlocked.Add(ref _accepted, counts.Accepted);
        Interlocked.Add(ref _rejected, counts.Rejected);
        Interlocked.Add(ref _duplicate, counts.Duplicate);
        Interlocked.Add(ref _malformed, counts.Malformed);
        if (counts.Unspecified > 0)
        {
            Interlocked.Add(ref _unspecified, counts.Unspecified);
        }
    }

    /// <summary>Something went wrong: <paramref name="lostEvents"/> events will never be acked.</summary>
    internal void OnError(string error, long lostEvents)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.Add(ref _lost, lostEvents);
        Volatile.Write(ref _lastError, error);
    }

    /// <summary>Counts one ack's results.</summary>
    internal static OutcomeCounts Count(PublishAck ack)
    {
        var counts = new OutcomeCounts();
        var results = ack.Results;
        for (var i = 0; i < results.Count; i++)
        {
            switch (results[i].Outcome)
            {
                case Outcome.Accepted:
                    counts.Accepted++;
                    break;
                case Outcome.Rejected:
                    counts.Rejected++;
                    break;
                case Outcome.Duplicate:
                    counts.Duplicate++;
                    break;
                case Outcome.Malformed:
                    counts.Malformed++;
                    break;
                default:
                    counts.Unspecified++;
                    break;
            }
        }
        return counts;
    }

    internal struct OutcomeCounts
    {
        public long Accepted;
        public long Rejected;
        public long Duplicate;
        public long Malformed;
        public long Unspecified;
    }
}

/// <summary>A reading of <see cref="LoadStats"/>; differences of two readings are what happened between them.</summary>
public readonly record struct LoadCounts(
    long Sent, long Accepted, long Rejected, long Duplicate, long Malformed, long Unspecified, long Lost, long Errors, long StreamsOpened)
{
    /// <summary>Events answered with an outcome (OUTCOME_UNSPECIFIED included: an answer that breaks the contract is still an answer).</summary>
    public long Acked => Accepted + Rejected + Duplicate + Malformed + Unspecified;

    public static LoadCounts operator -(LoadCounts a, LoadCounts b) => new(
        a.Sent - b.Sent, a.Accepted - b.Accepted, a.Rejected - b.Rejected, a.Duplicate - b.Duplicate, a.Malformed - b.Malformed,
        a.Unspecified - b.Unspecified, a.Lost - b.Lost, a.Errors - b.Errors, a.StreamsOpened - b.StreamsOpened);

    public LoadCounts Subtract(LoadCounts other) => this - other;
}
