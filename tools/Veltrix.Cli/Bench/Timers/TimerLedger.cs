using HdrHistogram;
using Veltrix.Contracts.Wire;

namespace Veltrix.Cli.Bench.Timers;

/// <summary>
/// What the timers bench knows about every timer: when it is due (recorded as it is scheduled) and how often
/// its spawn arrived at the stand-in resolver, with the lateness of each arrival. Timers are numbered; a
/// timer's treasure id is <c>t{n}</c> (<c>w{n}</c> for the warm-up ones), so an arriving spawn names its own
/// entry and nothing is looked up by string. Arrivals are recorded under one lock per Apply batch, which
/// allocates nothing per spawn.
/// </summary>
public sealed class TimerLedger
{
    public const char TimerPrefix = 't';
    public const char WarmupPrefix = 'w';

    /// <summary>Lateness is recorded in µs up to 10 minutes, to 3 significant digits.</summary>
    public const long HighestLatenessUs = 600_000_000;

    private const uint SpawnTag = (3 << 3) | WireReader.LengthDelimited;
    private const uint TreasureIdTag = (2 << 3) | WireReader.LengthDelimited;
    private const uint StampTag = (6 << 3) | WireReader.Varint;

    private readonly Lock _gate = new();
    private readonly Population _timers;
    private readonly Population _warmup;
    private readonly LongHistogram _second = new(1, HighestLatenessUs, 3);
    private long _duplicates;
    private long _spawns;
    private long _batches;
    private long _early;
    private long _foreign;

    public TimerLedger(int timers, int warmupTimers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupTimers);
        _timers = new Population(timers);
        _warmup = new Population(warmupTimers);
    }

    /// <summary>
    /// Timer <paramref name="index"/> (of the warm-up when <paramref name="warmup"/>) will be asked for
    /// <paramref name="dueMs"/> (Unix ms): planned before it is sent, so a spawn never arrives ahead of its entry.
    /// </summary>
    public void Plan(int index, long dueMs, bool warmup = false)
    {
        lock (_gate)
        {
            (warmup ? _warmup : _timers).DueMs[index] = dueMs;
        }
    }

    /// <summary>The spawn timer accepted timer <paramref name="index"/>, due at <paramref name="dueMs"/> (later than planned when the plan had passed).</summary>
    public void Confirm(int index, long dueMs) => Confirm(index, dueMs, warmup: false);

    public void ConfirmWarmup(int index, long dueMs) => Confirm(index, dueMs, warmup: true);

    /// <summary>
    /// Records one Apply batch that arrived at <paramref name="receivedUs"/> (Unix µs) and returns how many of
    /// its spawns were new (the resolver's <c>spawns_applied</c>). Throws <see cref="InvalidDataException"/> on
    /// a batch that is not well-formed.
    /// </summary>
    public int Receive(ReadOnlySpan<byte> batch, long receivedUs)
    {
        var fresh = 0;
        lock (_gate)
        {
            _batches++;
            var reader = new WireReader(batch);
            while (!reader.AtEnd)
            {
                var tag = reader.ReadTag();
                if (tag != SpawnTag)
                {
                    reader.Skip(tag);
                    continue;
                }
                if (ReceiveSpawnLocked(reader.ReadLengthDelimited(), receivedUs))
                {
                    fresh++;
                }
            }
        }
        return fresh;
    }

    /// <summary>The counts so far; the lateness percentiles of the interval since the last call, which starts a new interval.</summary>
    public LedgerReading TakeReading()
    {
        lock (_gate)
        {
            var reading = new LedgerReading(
                _timers.Arrived, _duplicates, _warmup.Arrived, _spawns, _batches, _early, _foreign,
                _second.TotalCount == 0 ? 0 : _second.GetValueAtPercentile(99),
                _second.TotalCount == 0 ? 0 : _second.GetMaxValue());
            _second.Reset();
            return reading;
        }
    }

    /// <summary>
    /// Lateness of the measured timers (or of the warm-up's) at the stand-in (receipt − due, µs) and at the timer
    /// (stamp − due, ms resolution, in µs), and the last arrival (Unix µs).
    /// </summary>
    public (LatencySummary Arrival, LatencySummary Fire, long LastArrivalUs) Summaries(bool warmup = false)
    {
        lock (_gate)
        {
            var population = warmup ? _warmup : _timers;
            return (BenchRunner.Summarize(population.Lateness), BenchRunner.Summarize(population.FireLateness), population.LastArrivalUs);
        }
    }

    /// <summary>Accepted timers whose spawn never arrived, and the first of them (−1 when none).</summary>
    public (long Lost, int FirstLost) CountLost(bool warmup = false)
    {
        long lost = 0;
        var first = -1;
        lock (_gate)
        {
            var population = warmup ? _warmup : _timers;
            for (var i = 0; i < population.Arrivals.Length; i++)
            {
                if (population.Confirmed[i] && population.Arrivals[i] == 0)
                {
                    lost++;
                    if (first < 0)
                    {
                        first = i;
                    }
                }
            }
        }
        return (lost, first);
    }

    private void Confirm(int index, long dueMs, bool warmup)
    {
        lock (_gate)
        {
            var population = warmup ? _warmup : _timers;
            population.DueMs[index] = dueMs;
            population.Confirmed[index] = true;
        }
    }

    private bool ReceiveSpawnLocked(ReadOnlySpan<byte> spawn, long receivedUs)
    {
        _spawns++;
        ReadOnlySpan<byte> id = default;
        long stampMs = 0;
        var reader = new WireReader(spawn);
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            switch (tag)
            {
                case TreasureIdTag:
                    id = reader.ReadLengthDelimited();
                    break;
                case StampTag:
                    stampMs = (long)reader.ReadVarint64();
                    break;
                default:
                    reader.Skip(tag);
                    break;
            }
        }

        var population = id.Length < 2 ? null : id[0] switch
        {
            (byte)TimerPrefix => _timers,
            (byte)WarmupPrefix => _warmup,
            _ => null,
        };
        if (population is null || !TryParseIndex(id[1..], out var index) || index >= population.DueMs.Length || population.DueMs[index] == 0)
        {
            _foreign++;
            return true;
        }

        var dueMs = population.DueMs[index];
        ref var arrivals = ref population.Arrivals[index];
        if (arrivals == 0)
        {
            population.Arrived++;
        }
        else
        {
            _duplicates++;
        }
        if (arrivals < byte.MaxValue)
        {
            arrivals++;
        }
        population.LastArrivalUs = Math.Max(population.LastArrivalUs, receivedUs);

        var dueUs = dueMs * 1000;
        if (receivedUs < dueUs || stampMs < dueMs)
        {
            // The timer promises never to fire before the due time: an early spawn is a finding, not noise.
            _early++;
        }
        var lateUs = Math.Clamp(receivedUs - dueUs, 0, HighestLatenessUs);
        population.Lateness.RecordValue(lateUs);
        population.FireLateness.RecordValue(Math.Clamp((stampMs - dueMs) * 1000, 0, HighestLatenessUs));
        if (population == _timers)
        {
            _second.RecordValue(lateUs);
        }
        return arrivals == 1;
    }

    private static bool TryParseIndex(ReadOnlySpan<byte> digits, out int index)
    {
        index = 0;
        if (digits.Length is 0 or > 9)
        {
            return false;
        }
        foreach (var d in digits)
        {
            if (d is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            index = index * 10 + (d - '0');
        }
        return true;
    }

    /// <summary>
    /// The measured timers, or the warm-up's: the same code records both, so the warm-up also compiles the
    /// recording path before the measured spawns arrive.
    /// </summary>
    private sealed class Population(int count)
    {
        public long[] DueMs { get; } = new long[count];
        public bool[] Confirmed { get; } = new bool[count];

        /// <summary>Times each timer's spawn arrived, saturating at 255.</summary>
        public byte[] Arrivals { get; } = new byte[count];
        public LongHistogram Lateness { get; } = new(1, HighestLatenessUs, 3);
        public LongHistogram FireLateness { get; } = new(1, HighestLatenessUs, 3);
        public long Arrived { get; set; }
        public long LastArrivalUs { get; set; }
    }
}

/// <summary>A look at <see cref="TimerLedger"/>: cumulative counts, and the lateness of the interval since the previous look (µs).</summary>
public readonly record struct LedgerReading(
    long Arrived, long Duplicates, long WarmupArrived, long Spawns, long Batches, long Early, long Foreign, long IntervalP99Us, long IntervalMaxUs);
