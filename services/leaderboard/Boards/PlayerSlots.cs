using System.Runtime.InteropServices;

namespace Veltrix.Leaderboard;

/// <summary>
/// A board's entry of each of its players, by player number: an array indexed by number for a board that holds
/// (nearly) every player, such as the global board, where a lookup is one memory access; a dictionary for a
/// board of a few. Either way the entries hold no references. Not thread-safe: <see cref="Board"/> guards it.
/// </summary>
internal sealed class PlayerSlots
{
    private readonly Dictionary<int, Entry>? _sparse;
    private Entry[] _entries;
    private bool[] _present;
    private int _count;

    public PlayerSlots(bool dense)
    {
        _sparse = dense ? null : [];
        _entries = dense ? new Entry[1_024] : [];
        _present = dense ? new bool[1_024] : [];
    }

    public int Count => _sparse?.Count ?? _count;

    /// <summary>The player's slot, added (as default) when the player had none.</summary>
    public ref Entry GetOrAdd(int player, out bool exists)
    {
        if (_sparse is not null)
        {
            return ref CollectionsMarshal.GetValueRefOrAddDefault(_sparse, player, out exists);
        }
        if (player >= _entries.Length)
        {
            var length = Math.Max(player + 1, _entries.Length * 2);
            Array.Resize(ref _entries, length);
            Array.Resize(ref _present, length);
        }
        exists = _present[player];
        if (!exists)
        {
            _present[player] = true;
            _entries[player] = default;
            _count++;
        }
        return ref _entries[player];
    }

    public bool TryGet(int player, out Entry entry)
    {
        if (_sparse is not null)
        {
            return _sparse.TryGetValue(player, out entry);
        }
        if ((uint)player < (uint)_present.Length && _present[player])
        {
            entry = _entries[player];
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
        _present[player] = false;
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
            for (var player = 0; player < _present.Length; player++)
            {
                if (_present[player])
                {
                    yield return player;
                }
            }
        }
    }
}
