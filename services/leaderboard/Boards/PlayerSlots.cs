using System.Runtime.InteropServices;

namespace Veltrix.Leaderboard;

/// <summary>
/// A board's entry of each of its players, by player number: pages indexed by number for a board that holds
/// (nearly) every player, such as the global board, where a lookup is two memory accesses; a dictionary for a
/// board of a few. Either way the entries hold no references. Not thread-safe: <see cref="Board"/> guards it.
/// </summary>
internal sealed class PlayerSlots
{
    // 4,096 entries a page: allocated once each, never copied as the players grow.
    private const int PageShift = 12;
    private const int PageSize = 1 << PageShift;
    private const int PageMask = PageSize - 1;

    private readonly Dictionary<int, Entry>? _sparse;
    private Entry[]?[] _entries = [];
    private bool[]?[] _present = [];
    private int _count;

    public PlayerSlots(bool dense)
    {
        _sparse = dense ? null : [];
    }

    public int Count => _sparse?.Count ?? _count;

    /// <summary>The player's slot, added (as default) when the player had none.</summary>
    public ref Entry GetOrAdd(int player, out bool exists)
    {
        if (_sparse is not null)
        {
            return ref CollectionsMarshal.GetValueRefOrAddDefault(_sparse, player, out exists);
        }
        var page = player >> PageShift;
        if (page >= _entries.Length)
        {
            var length = Math.Max(page + 1, _entries.Length * 2);
            Array.Resize(ref _entries, length);
            Array.Resize(ref _present, length);
        }
        var entries = _entries[page] ??= new Entry[PageSize];
        var present = _present[page] ??= new bool[PageSize];
        var at = player & PageMask;
        exists = present[at];
        if (!exists)
        {
            present[at] = true;
            entries[at] = default;
            _count++;
        }
        return ref entries[at];
    }

    public bool TryGet(int player, out Entry entry)
    {
        if (_sparse is not null)
        {
            return _sparse.TryGetValue(player, out entry);
        }
        var page = player >> PageShift;
        if ((uint)page < (uint)_present.Length && _present[page] is { } present && present[player & PageMask])
        {
            entry = _entries[page]![player & PageMask];
            return true;
        }
        entry = default;
        return false;
    }

    public bool Remove(int player, out Entry entry)
    {
        if (_sparse is not null)
        {
            return _sparse.Remove(player, out entry);
        }
        if (!TryGet(player, out entry))
        {
            return false;
        }
        _present[player >> PageShift]![player & PageMask] = false;
        _count--;
        return true;
    }

    /// <summary>Every player with a slot; the slots must not change while this is enumerated.</summary>
    public IEnumerable<int> Players
    {
        get
        {
            if (_sparse is not null)
            {
                foreach (var player in _sparse.Keys)
                {
                    yield return player;
                }
                yield break;
            }
            for (var page = 0; page < _present.Length; page++)
            {
                if (_present[page] is not { } present)
                {
                    continue;
                }
                for (var at = 0; at < PageSize; at++)
                {
                    if (present[at])
                    {
                        yield return (page << PageShift) | at;
                    }
                }
            }
        }
    }
}
