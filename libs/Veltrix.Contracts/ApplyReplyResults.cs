using System.Collections.Concurrent;
using Google.Protobuf;
using Veltrix.Contracts.V1;

namespace Veltrix.Contracts.Internal;

public sealed partial class ApplyReply
{
    /// <summary>Events answered.</summary>
    public int Count => Verdicts.Length;

    /// <summary>The result of event <paramref name="index"/>.</summary>
    public EventResult ResultAt(int index) => Distinct[Verdicts.Span[index]];

    /// <summary>Every event's result, expanded; for tests and tools (the event path reads <see cref="ResultAt"/>).</summary>
    public IReadOnlyList<EventResult> Results
    {
        get
        {
            var results = new EventResult[Count];
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = ResultAt(i);
            }
            return results;
        }
    }
}

/// <summary>
/// Builds an <see cref="ApplyReply"/>: results are added one per event and stored as a byte each, an index
/// into the reply's few distinct results. Results are compared by reference: they are the shared
/// instances <see cref="EventMapping.ToResult"/> hands out.
/// </summary>
public sealed class ApplyReplyBuilder(int capacity)
{
    private readonly byte[] _verdicts = new byte[capacity];
    private readonly List<EventResult> _distinct = new(8);
    private int _count;

    public int Count => _count;

    public void Add(EventResult result)
    {
        var index = _distinct.Count - 1;
        while (index >= 0 && !ReferenceEquals(_distinct[index], result))
        {
            index--;
        }
        if (index < 0)
        {
            if (_distinct.Count == 256)
            {
                throw new InvalidOperationException("a reply holds at most 256 distinct results");
            }
            _distinct.Add(result);
            index = _distinct.Count - 1;
        }
        _verdicts[_count++] = (byte)index;
    }

    /// <summary>Writes the results into <paramref name="reply"/>; the builder is not used again.</summary>
    public void CopyTo(ApplyReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        reply.Verdicts = UnsafeByteOperations.UnsafeWrap(_verdicts.AsMemory(0, _count));
        reply.Distinct.AddRange(_distinct);
    }
}

/// <summary>Shared result instances for results read off the wire, so copying them into a client's ack allocates nothing per event.</summary>
public static class SharedResults
{
    private const int MaxShared = 1_024;
    private static readonly ConcurrentDictionary<(Outcome, string), EventResult> Shared = new();

    /// <summary>The shared instance equal to <paramref name="result"/>; never mutate it.</summary>
    public static EventResult Of(EventResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (Shared.TryGetValue((result.Outcome, result.Reason), out var shared))
        {
            return shared;
        }
        // Bounded: results come from resolvers' fixed sets, but a cache must not grow with whatever it is handed.
        return Shared.Count < MaxShared ? Shared.GetOrAdd((result.Outcome, result.Reason), result) : result;
    }
}

/// <summary>The serialized bytes of shared results, so writing an ack copies a few cached bytes per event.</summary>
public static class ResultBytes
{
    private const int MaxCached = 1_024;
    private static readonly ConcurrentDictionary<EventResult, byte[]> Cached = new(ReferenceEqualityComparer.Instance);

    /// <summary>The bytes of <paramref name="result"/>, a shared instance that is never mutated.</summary>
    public static ReadOnlySpan<byte> Of(EventResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (Cached.TryGetValue(result, out var bytes))
        {
            return bytes;
        }
        bytes = result.ToByteArray();
        // Bounded: shared results are a small fixed set, but a cache must not grow with whatever it is handed.
        return Cached.Count < MaxCached ? Cached.GetOrAdd(result, bytes) : bytes;
    }
}
