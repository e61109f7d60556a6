using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Veltrix.Leaderboard;

/// <summary>Every board by name. Boards are created by the writer only and are never dropped.</summary>
internal sealed class BoardStore
{
    public const string GlobalName = "global";
    public const string WorldPrefix = "world:";

    private readonly ConcurrentDictionary<string, Board> _boards = new(StringComparer.Ordinal);
    private long _version;

    public BoardStore()
    {
        Global = new Board(GlobalName, Ids, dense: true);
        _boards[GlobalName] = Global;
    }

    public Board Global { get; }

    /// <summary>The players of every board, by number.</summary>
    public PlayerIds Ids { get; } = new();

    public int Count => _boards.Count;

    /// <summary>Grows with every batch of score changes the writer applied.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Signalled after every batch the writer applied.</summary>
    public ChangeSignal Changed { get; } = new();

    /// <summary>Signalled when a board is created, for watchers of a board that does not exist yet.</summary>
    public ChangeSignal BoardAdded { get; } = new();

    public bool TryGet(string name, [NotNullWhen(true)] out Board? board) => _boards.TryGetValue(name, out board);

    /// <summary>Writer only.</summary>
    public Board GetOrAdd(string name)
    {
        if (_boards.TryGetValue(name, out var board))
        {
            return board;
        }
        board = new Board(name, Ids);
        _boards[name] = board;
        BoardAdded.Notify();
        return board;
    }

    /// <summary>Writer only: a batch was applied.</summary>
    public void MarkChanged()
    {
        Interlocked.Increment(ref _version);
        Changed.Notify();
    }
}
