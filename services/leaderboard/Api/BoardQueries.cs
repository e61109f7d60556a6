using System.Buffers;
using Veltrix.Contracts.V1;

namespace Veltrix.Leaderboard;

/// <summary>Reads boards into the contract's pages. Entries are copied under the board's lock, messages built after.</summary>
internal sealed class BoardQueries(BoardStore store)
{
    public BoardPage Top(string boardName, int offset, int limit)
    {
        var page = new BoardPage { Board = boardName };
        if (!store.TryGet(boardName, out var board))
        {
            return page;
        }
        var buffer = ArrayPool<Entry>.Shared.Rent(limit);
        try
        {
            var count = board.Read(offset, buffer.AsSpan(0, limit), out var total);
            page.Total = (ulong)total;
            AddEntries(page, board.Ids, buffer.AsSpan(0, count), offset);
            var next = offset + count;
            if (count > 0 && next < total)
            {
                page.NextPageToken = PageToken.Encode(next);
            }
        }
        finally
        {
            ArrayPool<Entry>.Shared.Return(buffer);
        }
        return page;
    }

    /// <summary>Null when the player is not on the board.</summary>
    public BoardPage? Around(string boardName, string playerId, int before, int after)
    {
        if (!store.TryGet(boardName, out var board))
        {
            return null;
        }
        var buffer = ArrayPool<Entry>.Shared.Rent(before + after + 1);
        try
        {
            if (!board.TryReadAround(playerId, before, after, buffer, out var first, out var count, out var total))
            {
                return null;
            }
            var page = new BoardPage { Board = boardName, Total = (ulong)total };
            AddEntries(page, board.Ids, buffer.AsSpan(0, count), first);
            return page;
        }
        finally
        {
            ArrayPool<Entry>.Shared.Return(buffer);
        }
    }

    private static void AddEntries(BoardPage page, PlayerIds ids, ReadOnlySpan<Entry> entries, int firstIndex)
    {
        for (var i = 0; i < entries.Length; i++)
        {
            page.Entries.Add(new BoardEntry
            {
                Rank = (ulong)(firstIndex + i + 1),
                PlayerId = ids[entries[i].Player],
                Score = entries[i].Score,
            });
        }
    }
}
