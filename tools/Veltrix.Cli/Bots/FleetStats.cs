using System.Collections.Concurrent;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bots;

/// <summary>Counts of the bots' traffic; written by the lanes, read by the display at any time.</summary>
public sealed class FleetStats
{
    private long _sent;
    private long _accepted;
    private long _duplicate;
    private long _rejected;
    private long _malformed;
    private long _unspecified;
    private long _lost;
    private long _inFlight;
    private long _streamFailures;
    private long _streamsOpened;
    private long _syncs;
    private string? _lastStreamError;

    // Reasons are free text from the services: bounded, the rest are lumped together.
    private const int MaxReasons = 32;
    private readonly ConcurrentDictionary<string, long> _reasons = new(StringComparer.Ordinal);

    /// <summary>Events written to a Publish stream.</summary>
    public long Sent => Interlocked.Read(ref _sent);
    public long Accepted => Interlocked.Read(ref _accepted);
    public long Duplicate => Interlocked.Read(ref _duplicate);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>Results with no outcome set: the service broke the contract.</summary>
    public long Unspecified => Interlocked.Read(ref _unspecified);

    /// <summary>Events whose stream broke before their ack came: outcome unknown.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Events sent and neither acknowledged nor lost yet.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    public long StreamFailures => Interlocked.Read(ref _streamFailures);

    /// <summary>Publish streams opened: the first of each lane, reconnects and planned swaps.</summary>
    public long StreamsOpened => Interlocked.Read(ref _streamsOpened);
    public long Syncs => Interlocked.Read(ref _syncs);
    public long Acked => Accepted + Duplicate + Rejected + Malformed + Unspecified;
    public string? LastStreamError => Volatile.Read(ref _lastStreamError);

    internal void OnSent(int events)
    {
        Interlocked.Add(ref _sent, events);
        Interlocked.Add(ref _inFlight, events);
    }

    /// <summary>Why events were rejected or malformed, most frequent first.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Reasons(int count) =>
        [.. _reasons.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Take(count)];

    internal void OnOutcome(Outcome outcome, string reason)
    {
        Interlocked.Decrement(ref _inFlight);
        if (outcome is Outcome.Rejected or Outcome.Malformed)
        {
            var key = outcome.ToString().ToUpperInvariant() + ": " + (reason.Length == 0 ? "(no reason)" : reason);
            if (_reasons.Count >= MaxReasons && !_reasons.ContainsKey(key))
            {
                key = "(other reasons)";
            }
            _reasons.AddOrUpdate(key, 1, static (_, n) => n + 1);
        }
        switch (outcome)
        {
            case Outcome.Accepted:
                Interlocked.Increment(ref _accepted);
                break;
            case Outcome.Duplicate:
                Interlocked.Increment(ref _duplicate);
                break;
            case Outcome.Rejected:
                Interlocked.Increment(ref _rejected);
                break;
            case Outcome.Malformed:
                Interlocked.Increment(ref _malformed);
                break;
            default:
                Interlocked.Increment(ref _unspecified);
                break;
        }
    }

    internal void OnLost(int events)
    {
        Interlocked.Add(ref _inFlight, -events);
        Interlocked.Add(ref _lost, events);
    }

    internal void OnStreamFailure(string reason)
    {
        Interlocked.Increment(ref _streamFailures);
        Volatile.Write(ref _lastStreamError, reason);
    }

    internal void OnStreamOpened() => Interlocked.Increment(ref _streamsOpened);

    internal void OnSync() => Interlocked.Increment(ref _syncs);
}
