using System.Collections.Concurrent;

namespace Veltrix.Leaderboard;

/// <summary>
/// Every player id the boards have held, each kept once and numbered in order of arrival. Boards rank and index
/// numbers, not strings: their blocks hold no references, so the GC neither scans them nor marks cards when
/// entries move, however many players there are and however fast their scores change. A number is never
/// reused, so the table grows with the players ever seen, one string and one dictionary entry each.
/// One writer (the feed loop) adds; anyone may read a number's id or find an id's number.
/// </summary>
internal sealed class PlayerIds
{
    private readonly ConcurrentDictionary<string, int> _numbers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _byChars;
    private string[] _ids = new string[1_024];
    private ulong[] _prefixes = new ulong[1_024];
    private int _count;

    public PlayerIds()
    {
        _byChars = _numbers.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The id of a number this table gave out.</summary>
    public string this[int number] => Volatile.Read(ref _ids)[number];

    /// <summary>
    /// The id's first eight characters as one number that orders as the ids do (ordinal), so two entries with
    /// different prefixes never need their strings compared. Writer only (entries are made by the writer).
    /// </summary>
    public ulong SortPrefix(int number) => _prefixes[number];

    /// <summary>
    /// The <see cref="SortPrefix"/> of an id: its first eight characters, a byte each, big-end first, zero-padded.
    /// Ids are ASCII (1..64 of [A-Za-z0-9_-]), so a byte holds a character and the numbers order as the strings do.
    /// </summary>
    public static ulong PrefixOf(ReadOnlySpan<char> id)
    {
        ulong prefix = 0;
        for (var i = 0; i < 8; i++)
        {
            var c = i < id.Length ? id[i] : '\0';
            if (c > 0x7F)
            {
                throw new ArgumentException("player ids are ASCII", nameof(id));
            }
            prefix = (prefix << 8) | c;
        }
        return prefix;
    }

    public bool TryFind(string id, out int number) => _numbers.TryGetValue(id, out number);

    public bool TryFind(ReadOnlySpan<char> id, out int number) => _byChars.TryGetValue(id, out number);

    /// <summary>Writer only: the id's number, given now if the id is new.</summary>
    public int Intern(string id) => _numbers.TryGetValue(id, out var number) ? number : Add(id);

    /// <summary>Writer only: the id's number; the string is made only for an id not seen before.</summary>
    public int Intern(ReadOnlySpan<char> id) => _byChars.TryGetValue(id, out var number) ? number : Add(new string(id));

    private int Add(string id)
    {
        var number = _count;
        var ids = _ids;
        if (number == _prefixes.Length)
        {
            Array.Resize(ref _prefixes, _prefixes.Length * 2);
        }
        _prefixes[number] = PrefixOf(id);
        if (number == ids.Length)
        {
            var grown = new string[ids.Length * 2];
            Array.Copy(ids, grown, number);
            grown[number] = id;
            // Readers holding the old array still find every number it had.
            Volatile.Write(ref _ids, grown);
        }
        else
        {
            ids[number] = id;
        }
        _count = number + 1;
        // Published last: whoever finds the number can read its id.
        _numbers[id] = number;
        return number;
    }
}
