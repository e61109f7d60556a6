using BenchmarkDotNet.Attributes;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Google.Protobuf;
using Veltrix.Contracts.Wire;
using Veltrix.Resolver;

namespace Veltrix.Benchmarks;

/// <summary>
/// The partition loop's apply step, in memory: one serialized batch of 256 moves by 256 players of one
/// world, through <see cref="ApplyWork.ApplyInputs(PartitionState, ReadOnlySpan{byte}, ApplyReply)"/> (reading
/// the bytes in place, validation, rules, results), and its parts alone. Events/s = 256 / mean.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Batches)]
public class ApplyBenchmarks
{
    private const int Players = 256;
    private const int Batches = 2_000;
    private const long T0 = 1_700_000_000_000;
    private readonly List<byte[]> _batches = [];
    private readonly BatchLayout _layout = new();
    private readonly ApplyBatch _join = new();
    private PartitionState _state = null!;
    private int _next;

    // Each iteration starts from freshly joined players, so every measured batch is accepted moves
    // (seq 2, 3, ...), never the cheaper duplicate path.
    [IterationSetup]
    public void FreshPartition()
    {
        _state = new PartitionState(0, new ResolverOptions());
        ApplyWork.ApplyInputs(_state, _join, results: null);
        _next = 0;
    }

    [GlobalSetup]
    public void Setup()
    {
        var join = _join;
        for (var i = 0; i < Players; i++)
        {
            join.Add(new Event { WorldId = "bench", PlayerId = $"player-{i}", Seq = 1, ClientTimeMs = T0, Join = new Join() }, T0);
        }
        FreshPartition();

        for (var k = 0; k < Batches; k++)
        {
            var batch = new ApplyBatch();
            var t = T0 + ((k + 1) * 100L);
            for (var i = 0; i < Players; i++)
            {
                var p = _state.FindWorld("bench")!.FindPlayer($"player-{i}")!;
                batch.Add(
                    new Event
                    {
                        WorldId = "bench",
                        PlayerId = p.Id,
                        Seq = (ulong)k + 2,
                        ClientTimeMs = t,
                        Move = new Move { X = p.X, Y = p.Y },
                    },
                    t);
            }
            _batches.Add(batch.ToByteArray());
        }
    }

    [Benchmark(OperationsPerInvoke = Players)]
    public int ApplyBatchOf256Moves()
    {
        var reply = new ApplyReply();
        ApplyWork.ApplyInputs(_state, _batches[_next++], reply);
        return reply.Count;
    }

    /// <summary>Reading the batch's layout and every event in place, nothing else.</summary>
    [Benchmark(OperationsPerInvoke = Players)]
    public long DecodeOnly()
    {
        var batch = _batches[_next++ % Batches];
        _layout.Read(batch);
        long sum = 0;
        for (var i = 0; i < _layout.Count; i++)
        {
            var e = WireEvent.Read(_layout.EventAt(batch, i));
            sum += e.X + (long)e.Seq + e.PlayerId.Length;
        }
        return sum;
    }

    /// <summary>Decoding and the well-formedness checks (ids, seq, time, kind), no rules.</summary>
    [Benchmark(OperationsPerInvoke = Players)]
    public int DecodeAndValidate()
    {
        var batch = _batches[_next++ % Batches];
        _layout.Read(batch);
        var ok = 0;
        for (var i = 0; i < _layout.Count; i++)
        {
            var e = WireEvent.Read(_layout.EventAt(batch, i));
            var verdict = e.Validate();
            ok += verdict.IsAccepted ? 1 : 0;
        }
        return ok;
    }
}
