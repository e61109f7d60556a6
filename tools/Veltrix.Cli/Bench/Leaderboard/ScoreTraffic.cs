using System.Buffers.Text;
using System.Diagnostics;
using Veltrix.Contracts.Wire;

namespace Veltrix.Cli.Bench.Leaderboard;

/// <summary>
/// The score changes a benchmark feeds a leaderboard, as a resolver's score feed would: players <c>p0000000</c>…
/// spread over worlds <c>w0</c>…, each change raising one random player's score in their world, and every
/// beacon interval a change of the beacon player, whose score is far above everyone's and says when
/// it was made (<see cref="BeaconBase"/> plus microseconds of <see cref="Clock"/>). A subscriber that sees the
/// beacon on top of a frame knows how old the newest news in that frame is.
/// Messages are written as ScoreChanges bytes straight into a buffer: nothing per change is allocated, so the
/// feed's cost stays small beside the leaderboard's.
/// </summary>
public sealed class ScoreTraffic
{
    public const string BeaconPlayer = "beacon";

    /// <summary>Beacon scores start here: above any player's score a run can reach.</summary>
    public const long BeaconBase = 1_000_000_000_000_000;

    /// <summary>The largest entry this traffic writes: a world id of up to 8 digits, a player id of 8 bytes, two 10-byte varints, tags and lengths.</summary>
    public const int MaxChangeBytes = 2 + 2 + 9 + 2 + 8 + 11 + 11;

    private const int PlayerDigits = 7;
    private const byte ChangesTag = (1 << 3) | WireReader.LengthDelimited;
    private const byte WorldTag = (1 << 3) | WireReader.LengthDelimited;
    private const byte PlayerTag = (2 << 3) | WireReader.LengthDelimited;
    private const byte ScoreTag = 3 << 3;
    private const byte ReachedAtTag = 4 << 3;
    private const byte SnapshotTag = 2 << 3;
    private const byte SnapshotDoneTag = 3 << 3;

    private static readonly long TicksPerMicrosecond = Math.Max(1, Stopwatch.Frequency / 1_000_000);
    private static readonly byte[] BeaconPlayerBytes = "beacon"u8.ToArray();
    private static readonly byte[] BeaconWorldBytes = "w0"u8.ToArray();

    private readonly long[] _scores;
    private readonly int _worlds;
    private readonly long _beaconEveryTicks;
    private ulong _random;
    private long _nextBeaconAt;
    private long _changesWritten;

    public ScoreTraffic(int players, int worlds, TimeSpan beaconInterval, ulong seed = 0x9E3779B97F4A7C15)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(players, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(players, 9_999_999);
        ArgumentOutOfRangeException.ThrowIfLessThan(worlds, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(worlds, players);
        _scores = new long[players];
        _worlds = worlds;
        _random = seed | 1;
        _beaconEveryTicks = (long)(beaconInterval.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < players; i++)
        {
            // A spread of starting scores, so the boards are ranked from the first snapshot on.
            _scores[i] = (long)(Next() % 1_000);
        }
    }

    public int Players => _scores.Length;

    /// <summary>Changes written into messages so far (snapshots included).</summary>
    public long ChangesWritten => Volatile.Read(ref _changesWritten);

    /// <summary>The benchmark's clock in microseconds: what beacon scores carry.</summary>
    public static long Clock() => Stopwatch.GetTimestamp() / TicksPerMicrosecond;

    /// <summary>How old a beacon score is now, in microseconds; null for a score that is not a beacon's.</summary>
    public static long? BeaconAge(long score, long nowUs) => score >= BeaconBase ? nowUs - (score - BeaconBase) : null;

    /// <summary>Bytes a message of <paramref name="changes"/> changes may take.</summary>
    public static int BufferSize(int changes) => (changes + 1) * MaxChangeBytes + 4;

    /// <summary>
    /// One message of the snapshot: players <paramref name="first"/> to <paramref name="first"/> + count with their
    /// current scores (and the beacon with the first chunk); the last chunk says the snapshot is done.
    /// Returns the message's length and the next player to write, <see cref="Players"/> after the last chunk.
    /// </summary>
    public (int Length, int Next) WriteSnapshotChunk(Span<byte> destination, int first, int count)
    {
        var end = Math.Min(Players, first + count);
        var at = 0;
        var nowMs = Environment.TickCount64;
        if (first == 0)
        {
            at += WriteChange(destination[at..], BeaconWorldBytes, BeaconPlayerBytes, BeaconBase + Clock(), nowMs);
        }
        Span<byte> world = stackalloc byte[12];
        Span<byte> player = stackalloc byte[1 + PlayerDigits];
        for (var i = first; i < end; i++)
        {
            at += WriteChange(destination[at..], WorldOf(i, world), PlayerOf(i, player), _scores[i], nowMs);
        }
        destination[at++] = SnapshotTag;
        destination[at++] = 1;
        if (end == Players)
        {
            destination[at++] = SnapshotDoneTag;
            destination[at++] = 1;
        }
        Interlocked.Add(ref _changesWritten, end - first + (first == 0 ? 1 : 0));
        return (at, end);
    }

    /// <summary>One message of <paramref name="count"/> live changes (one of them the beacon's when it is due); returns its length.</summary>
    public int WriteChanges(Span<byte> destination, int count)
    {
        var at = 0;
        var nowMs = Environment.TickCount64;
        var written = 0;
        var now = Stopwatch.GetTimestamp();
        if (now >= _nextBeaconAt)
        {
            _nextBeaconAt = now + _beaconEveryTicks;
            at += WriteChange(destination, BeaconWorldBytes, BeaconPlayerBytes, BeaconBase + Clock(), nowMs);
            written++;
        }
        Span<byte> world = stackalloc byte[12];
        Span<byte> player = stackalloc byte[1 + PlayerDigits];
        for (; written < count; written++)
        {
            var i = (int)(Next() % (ulong)_scores.Length);
            // A dig's worth: 1 to 64 points.
            var score = _scores[i] += 1 + (long)(Next() & 63);
            at += WriteChange(destination[at..], WorldOf(i, world), PlayerOf(i, player), score, nowMs);
        }
        Interlocked.Add(ref _changesWritten, written);
        return at;
    }

    /// <summary>Player <paramref name="index"/>'s id.</summary>
    public static string PlayerId(int index)
    {
        Span<byte> player = stackalloc byte[1 + PlayerDigits];
        return System.Text.Encoding.ASCII.GetString(PlayerOf(index, player));
    }

    private ReadOnlySpan<byte> WorldOf(int player, Span<byte> buffer)
    {
        buffer[0] = (byte)'w';
        Utf8Formatter.TryFormat(player % _worlds, buffer[1..], out var digits);
        return buffer[..(1 + digits)];
    }

    private static ReadOnlySpan<byte> PlayerOf(int index, Span<byte> buffer)
    {
        buffer[0] = (byte)'p';
        for (var d = PlayerDigits; d >= 1; d--)
        {
            buffer[d] = (byte)('0' + index % 10);
            index /= 10;
        }
        return buffer;
    }

    // One `changes` entry: a ScoreChange of world, player, score and stamp. This traffic's ids are short, so
    // every length fits one varint byte.
    private static int WriteChange(Span<byte> destination, ReadOnlySpan<byte> world, ReadOnlySpan<byte> player, long score, long reachedAtMs)
    {
        var inner = 2 + world.Length + 2 + player.Length
            + 1 + WireReader.VarintSize((ulong)score) + 1 + WireReader.VarintSize((ulong)reachedAtMs);
        var at = 0;
        destination[at++] = ChangesTag;
        destination[at++] = (byte)inner;
        destination[at++] = WorldTag;
        destination[at++] = (byte)world.Length;
        world.CopyTo(destination[at..]);
        at += world.Length;
        destination[at++] = PlayerTag;
        destination[at++] = (byte)player.Length;
        player.CopyTo(destination[at..]);
        at += player.Length;
        destination[at++] = ScoreTag;
        at += WireReader.WriteVarint(destination[at..], (ulong)score);
        destination[at++] = ReachedAtTag;
        at += WireReader.WriteVarint(destination[at..], (ulong)reachedAtMs);
        return at;
    }

    private ulong Next()
    {
        // xorshift64*: cheap, and the same seed gives the same traffic.
        var x = _random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _random = x;
        return x * 0x2545F4914F6CDD1D;
    }
}
