using System.Globalization;
using Veltrix.Cli.Bots;
using Veltrix.Contracts.V1;
using Veltrix.Domain;

namespace Veltrix.Cli.Bench;

/// <summary>
/// The simulated players of one load stream, taking turns round-robin. Each player's first event is a
/// Join; after it the player walks the four corners of a 2 × 2 square around the point the world placed
/// it at (<see cref="World.StartingPoint"/>), so every Move is at most √2 units from wherever the player
/// stands — inside the move slack whatever the clock says, and legal even if an earlier Move was not
/// applied. Every <c>digEvery</c>-th event after the Join is a Dig (with no treasures spawned it is
/// REJECTED, which still takes the durable path). Seq per player strictly increases. The batch and its
/// events are reused from call to call: a batch may be refilled once the stream's write of it has completed.
/// </summary>
public sealed class PlayerGroup
{
    private static readonly Join JoinKind = new();
    private static readonly Dig DigKind = new();

    private readonly Player[] _players;
    private readonly Event[] _events;
    private readonly Move[] _moves;
    private readonly int _digEvery;
    private int _cursor;
    private long _lastClientMs;

    /// <param name="firstPlayer">Global index of this group's first player (players are numbered over every stream).</param>
    /// <param name="count">Players in this group.</param>
    /// <param name="worlds">Worlds the players are spread over: player g plays in world g mod worlds.</param>
    /// <param name="batchSize">Events per batch.</param>
    /// <param name="digEvery">Every n-th event of a player after its Join is a Dig; 0 for none.</param>
    public PlayerGroup(int firstPlayer, int count, int worlds, int batchSize, int digEvery)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPlayer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(worlds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(digEvery);
        _digEvery = digEvery;
        _players = new Player[count];
        for (var i = 0; i < count; i++)
        {
            var global = firstPlayer + i;
            var world = WorldName(global % worlds);
            var id = PlayerName(global);
            var (x, y) = World.StartingPoint(world, id, GameRules.WorldSize);
            // The square's corner, kept inside the world so all four corners are in bounds.
            _players[i] = new Player(id, world, Math.Min(x, GameRules.WorldSize - 2), Math.Min(y, GameRules.WorldSize - 2));
        }
        _events = new Event[batchSize];
        _moves = new Move[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            _events[i] = new Event();
            _moves[i] = new Move();
        }
    }

    public int Count => _players.Length;

    public static string WorldName(int index) => string.Create(CultureInfo.InvariantCulture, $"bench-w{index}");

    public static string PlayerName(int index) => string.Create(CultureInfo.InvariantCulture, $"bench-p{index}");

    /// <summary>Fills <paramref name="batch"/> with the next events of the group's players, stamped with client time <paramref name="nowMs"/>.</summary>
    public void Fill(EventBatch batch, ulong batchId, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // The player's clock must never go backwards, even if the wall clock does.
        _lastClientMs = Math.Max(_lastClientMs, nowMs);
        batch.BatchId = batchId;
        batch.Events.Clear();
        for (var i = 0; i < _events.Length; i++)
        {
            ref var p = ref _players[_cursor];
            _cursor = _cursor + 1 == _players.Length ? 0 : _cursor + 1;
            var e = _events[i];
            e.PlayerId = p.Id;
            e.WorldId = p.World;
            e.Seq = p.NextSeq++;
            e.ClientTimeMs = _lastClientMs;
            if (!p.Joined)
            {
                e.Join = JoinKind;
                p.Joined = true;
            }
            else
            {
                p.Steps++;
                if (_digEvery > 0 && p.Steps % _digEvery == 0)
                {
                    e.Dig = DigKind;
                }
                else
                {
                    var move = _moves[i];
                    var corner = p.Steps & 3;
                    move.X = p.CornerX + (corner is 1 or 2 ? 1 : 0);
                    move.Y = p.CornerY + (corner >= 2 ? 1 : 0);
                    e.Move = move;
                }
            }
            batch.Events.Add(e);
        }
    }

    private struct Player(string id, string world, int cornerX, int cornerY)
    {
        public readonly string Id = id;
        public readonly string World = world;
        public readonly int CornerX = cornerX;
        public readonly int CornerY = cornerY;
        public ulong NextSeq = 1;
        public long Steps;
        public bool Joined;
    }
}
