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
    private readonly long[] _dueMs;
    private readonly byte[] _arrivals;
    private readonly bool[] _confirmed;
    private readonly byte[] _warmupArrivals;
    private readonly LongHistogram _lateness = new(1, HighestLatenessUs, 3);
    private readonly LongHistogram _fireLateness = new(1, HighestLatenessUs, 3);
    private readonly LongHistogram _second = new(1, HighestLatenessUs, 3);
    private long _arrived;
    private long _duplicates;
    private long _warmupArrived;
    private long _spawns;
    private long _batches;
    private long _early;
    private long _foreign;
    private long _firstArrivalUs = long.MaxValue;
    private long _lastArrivalUs;

    public TimerLedger(int timers, int warmupTimers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupTimers);
        _dueMs = new long[timers];
        _arrivals = new byte[timers];
        _confirmed = new bool[timers];
        _warmupArrivals = new byte[warmupTimers];
    }

    public int Timers => _dueMs.Length;

    public int WarmupTimers => _warmupArrivals.Length;

    /// <summary>Timer <paramref name="index"/> will be asked for <paramref name="dueMs"/> (Unix ms): set before any is sent, so a spawn never arrives ahead of its entry.</summary>
    public void Plan(int index, long dueMs) => _dueMs[index] = dueMs;

    /// <summary>The spawn timer accepted timer <paramref name="index"/>, due at <paramref name="dueMs"/> (later than planned when the plan had passed).</summary>
    public void Confirm(int index, long dueMs)
    {
        lock (_gate)
        {
            _dueMs[index] = dueMs;
            _confirmed[index] = true;
        }
    }

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
            if (receivedUs < _firstArrivalUs)
            {
                _firstArrivalUs = receivedUs;
            }
            _lastArrivalUs = Math.Max(_lastArrivalUs, receivedUs);
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
                _arrived, _duplicates, _warmupArrived, _spawns, _batches, _early, _foreign,
                _second.TotalCount == 0 ? 0 : _second.GetValueAtPercentile(99),
                _second.TotalCount == 0 ? 0 : _second.GetMaxValue());
            _second.Reset();
            return reading;
        }
    }

    /// <summary>The whole run: lateness at the stand-in (receipt − due, µs) and at the timer (stamp − due, ms resolution, in µs).</summary>
    public (LatencySummary Arrival, LatencySummary Fire, long FirstArrivalUs, long LastArrivalUs) Summaries()
    {
        lock (_gate)
        {
            return (BenchRunner.Summarize(_lateness), BenchRunner.Summarize(_fireLateness), _firstArrivalUs, _lastArrivalUs);
        }
    }

    /// <summary>Scheduled timers (confirmed) whose spawn never arrived, and the first of them.</summary>
    public (long Lost, int FirstLost) CountLost()
    {
        long lost = 0;
        var first = -1;
        lock (_gate)
        {
            for (var i = 0; i < _dueMs.Length; i++)
            {
                if (_confirmed[i] && _arrivals[i] == 0)
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

    /// <summary>Warm-up timers that did not arrive (all of them were scheduled).</summary>
    public long CountWarmupLost(int scheduled)
    {
        long lost = 0;
        lock (_gate)
        {
            for (var i = 0; i < Math.Min(scheduled, _warmupArrivals.Length); i++)
            {
                if (_warmupArrivals[i] == 0)
                {
                    lost++;
                }
            }
        }
        return lost;
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

        if (id.Length < 2 || !TryParseIndex(id[1..], out var index))
        {
            _foreign++;
            return true;
        }
        if (id[0] == WarmupPrefix && index < _warmupArrivals.Length)
        {
            return CountArrival(ref _warmupArrivals[index], ref _warmupArrived);
        }
        if (id[0] != TimerPrefix || index >= _dueMs.Length || _dueMs[index] == 0)
        {
            _foreign++;
            return true;
        }

        var fresh = CountArrival(ref _arrivals[index], ref _arrived);
        var dueUs = _dueMs[index] * 1000;
        if (receivedUs < dueUs || stampMs < _dueMs[index])
        {
            // The timer promises never to fire before the due time: an early spawn is a finding, not noise.
            _early++;
        }
        var lateUs = Math.Max(0, receivedUs - dueUs);
        _lateness.RecordValue(Math.Min(lateUs, HighestLatenessUs));
        _second.RecordValue(Math.Min(lateUs, HighestLatenessUs));
        _fireLateness.RecordValue(Math.Clamp((stampMs - _dueMs[index]) * 1000, 0, HighestLatenessUs));
        return fresh;
    }

    private bool CountArrival(ref byte arrivals, ref long firsts)
    {
        if (arrivals == 0)
        {
            firsts++;
        }
        else
        {
            _duplicates++;
        }
        if (arrivals < byte.MaxValue)
        {
            arrivals++;
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
}

/// <summary>A look at <see cref="TimerLedger"/>: cumulative counts, and the lateness of the interval since the previous look (µs).</summary>
public readonly record struct LedgerReading(
    long Arrived, long Duplicates, long WarmupArrived, long Spawns, long Batches, long Early, long Foreign, long IntervalP99Us, long IntervalMaxUs);
