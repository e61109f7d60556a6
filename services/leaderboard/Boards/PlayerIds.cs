namespace Veltrix.Leaderboard;

/// <summary>
/// Every player id the boards have held, each kept once and numbered in order of arrival. Boards rank and index
/// numbers, not strings: their blocks hold no references, so the GC neither scans them nor marks cards when
/// entries move, however many players there are and however fast their scores change. A number is never
/// reused, so the table grows with the players ever seen: per player its id string, its sort prefix and hash
/// in pages that are allocated once and never copied, and two cells of one open-addressing table of numbers.
/// One writer (the feed loop) adds; anyone may read a number's id or find an id's number, without a lock.
/// </summary>
internal sealed class PlayerIds
{
    // 16,384 players a page.
    private const int PageShift = 14;
    private const int PageSize = 1 << PageShift;
    private const int PageMask = PageSize - 1;

    // Pages by number; the directory is replaced (never changed in place once published) when it grows.
    private Page?[] _pages = new Page?[4];

    // Number + 1 per cell, 0 when empty; linear probing, at most half full. Insert-only: a reader probing an
    // older table still finds every number that table had. Replaced when it grows.
    private int[] _table = new int[1_024];
    private int _count;

    /// <summary>The id of a number this table gave out.</summary>
    public string this[int number] => PageOf(Volatile.Read(ref _pages), number).Ids[number & PageMask];

    /// <summary>
    /// The id's first eight characters as one number that orders as the ids do (ordinal), so two entries with
    /// different prefixes never need their strings compared. Writer only (entries are made by the writer).
    /// </summary>
    public ulong SortPrefix(int number) => PageOf(_pages, number).Prefixes[number & PageMask];

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

    public bool TryFind(string id, out int number) => TryFind(id.AsSpan(), out number);

    public bool TryFind(ReadOnlySpan<char> id, out int number)
    {
        var hash = string.GetHashCode(id);
        var table = Volatile.Read(ref _table);
        var mask = table.Length - 1;
        for (var cell = hash & mask; ; cell = (cell + 1) & mask)
        {
            var entry = Volatile.Read(ref table[cell]);
            if (entry == 0)
            {
                number = -1;
                return false;
            }
            // Read after the cell: the writer published the number's page before the number.
            var page = PageOf(Volatile.Read(ref _pages), entry - 1);
            var at = (entry - 1) & PageMask;
            if (page.Hashes[at] == hash && id.SequenceEqual(page.Ids[at]))
            {
                number = entry - 1;
                return true;
            }
        }
    }

    /// <summary>Writer only: the id's number, given now if the id is new.</summary>
    public int Intern(string id) => TryFind(id.AsSpan(), out var number) ? number : Add(id);

    /// <summary>Writer only: the id's number; the string is made only for an id not seen before.</summary>
    public int Intern(ReadOnlySpan<char> id) => TryFind(id, out var number) ? number : Add(new string(id));

    private static Page PageOf(Page?[] pages, int number) => pages[number >> PageShift]!;

    private int Add(string id)
    {
        var number = _count;
        var pageIndex = number >> PageShift;
        var pages = _pages;
        if (pageIndex == pages.Length)
        {
            var grown = new Page?[pages.Length * 2];
            Array.Copy(pages, grown, pages.Length);
            pages = grown;
        }
        var page = pages[pageIndex] ??= new Page();
        var at = number & PageMask;
        var hash = string.GetHashCode(id.AsSpan());
        page.Ids[at] = id;
        page.Prefixes[at] = PrefixOf(id);
        page.Hashes[at] = hash;
        // The page (and a grown directory) is published before any table holds the number.
        Volatile.Write(ref _pages, pages);
        _count = number + 1;

        if (_count * 2 > _table.Length)
        {
            var table = new int[_table.Length * 2];
            for (var known = 0; known < number; known++)
            {
                Place(table, known, PageOf(pages, known).Hashes[known & PageMask]);
            }
            // Readers still probing the old table find every number it had.
            Volatile.Write(ref _table, table);
        }
        Place(_table, number, hash);
        return number;
    }

    private static void Place(int[] table, int number, int hash)
    {
        var mask = table.Length - 1;
        var cell = hash & mask;
        while (table[cell] != 0)
        {
            cell = (cell + 1) & mask;
        }
        // Published last: whoever finds the number can read its id.
        Volatile.Write(ref table[cell], number + 1);
    }

    private sealed class Page
    {
        public string[] Ids { get; } = new string[PageSize];
        public ulong[] Prefixes { get; } = new ulong[PageSize];
        public int[] Hashes { get; } = new int[PageSize];
    }
}
