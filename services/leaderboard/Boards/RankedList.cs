using System.Numerics;

namespace Veltrix.Leaderboard;

/// <summary>
/// An order-statistic list of entries: sorted blocks of at most <c>capacity</c> entries, plus a Fenwick
/// tree over the block sizes. Finding an entry's block is a binary search over the blocks' last entries,
/// the index of a block's first entry is a Fenwick prefix sum, and the block holding the k-th entry is a
/// Fenwick descent, so rank lookups and paging cost O(log n) and an insert or remove moves at most one
/// block's worth of entries. Splits and merges change the block layout and rebuild the tree in
/// O(blocks); they happen at most once per capacity/4 inserts or removes.
/// Not thread-safe: <see cref="Board"/> guards it.
/// </summary>
internal sealed class RankedList
{
    // 512 entries of 32 bytes: an insert moves at most 16 KB, and a million players make 2,000-4,000
    // blocks, so binary searches stay around 12 steps and a tree rebuild around a microsecond. (Blocks of
    // 128 measured no faster under ./veltrix bench leaderboard.) Entries hold no references, so moving them
    // costs the GC nothing.
    public const int DefaultBlockCapacity = 512;
    private const int SpareBlocks = 4;

    private readonly PlayerIds _ids;
    private readonly int _capacity;
    private readonly int _mergeBelow;
    private readonly int _mergedAtMost;
    private readonly Stack<Entry[]> _spare = new();
    private Entry[][] _blocks;
    // Each block's last entry, kept contiguous so finding a block touches one small array, not every block.
    private Entry[] _last;
    private int[] _sizes;
    private int[] _tree;
    private int _blockCount;

    public RankedList(PlayerIds ids, int blockCapacity = DefaultBlockCapacity)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCapacity, 4);
        _ids = ids;
        _capacity = blockCapacity;
        _mergeBelow = blockCapacity / 4;
        // Merged blocks keep room to grow, so a remove followed by an insert cannot bounce between merge and split.
        _mergedAtMost = blockCapacity * 3 / 4;
        _blocks = new Entry[8][];
        _last = new Entry[8];
        _sizes = new int[8];
        _tree = new int[9];
        _blocks[0] = new Entry[blockCapacity];
        _blockCount = 1;
    }

    public int Count { get; private set; }

    internal int BlockCount => _blockCount;

    /// <summary>Inserts an entry that is not in the list; returns its 0-based index.</summary>
    public int Insert(in Entry entry)
    {
        var b = FindBlock(entry);
        var pos = Search(b, entry);
        if (pos >= 0)
        {
            throw new InvalidOperationException("The entry is already ranked.");
        }
        pos = ~pos;
        if (_sizes[b] == _capacity)
        {
            Split(b);
            var leftSize = _sizes[b];
            if (pos > leftSize)
            {
                b++;
                pos -= leftSize;
            }
        }
        var block = _blocks[b];
        var size = _sizes[b];
        Array.Copy(block, pos, block, pos + 1, size - pos);
        block[pos] = entry;
        if (pos == size)
        {
            _last[b] = entry;
        }
        _sizes[b] = size + 1;
        Count++;
        Add(b, 1);
        return Prefix(b) + pos;
    }

    /// <summary>Removes an entry; returns the index it had, or -1 when it was not in the list.</summary>
    public int Remove(in Entry entry)
    {
        if (Count == 0)
        {
            return -1;
        }
        var b = FindBlock(entry);
        var pos = Search(b, entry);
        if (pos < 0)
        {
            return -1;
        }
        var index = Prefix(b) + pos;
        var block = _blocks[b];
        var size = _sizes[b] - 1;
        Array.Copy(block, pos + 1, block, pos, size - pos);
        block[size] = default;
        _sizes[b] = size;
        if (pos == size)
        {
            _last[b] = size > 0 ? block[size - 1] : default;
        }
        Count--;
        Add(b, -1);
        Rebalance(b);
        return index;
    }

    /// <summary>The 0-based index of an entry, or -1.</summary>
    public int IndexOf(in Entry entry)
    {
        if (Count == 0)
        {
            return -1;
        }
        var b = FindBlock(entry);
        var pos = Search(b, entry);
        return pos < 0 ? -1 : Prefix(b) + pos;
    }

    /// <summary>Copies entries from index <paramref name="start"/> on; returns how many were copied.</summary>
    public int CopyTo(int start, Span<Entry> destination)
    {
        if (start < 0 || start >= Count || destination.IsEmpty)
        {
            return 0;
        }
        var (b, offset) = Locate(start);
        var copied = 0;
        while (copied < destination.Length && b < _blockCount)
        {
            var take = Math.Min(_sizes[b] - offset, destination.Length - copied);
            _blocks[b].AsSpan(offset, take).CopyTo(destination[copied..]);
            copied += take;
            offset = 0;
            b++;
        }
        return copied;
    }

    /// <summary>The entry at a 0-based index.</summary>
    public Entry this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var (b, offset) = Locate(index);
            return _blocks[b][offset];
        }
    }

    // The first block whose last entry does not rank above the entry; the last block when every block's does.
    private int FindBlock(in Entry entry)
    {
        var lo = 0;
        var hi = _blockCount - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Entry.Compare(_last[mid], entry, _ids) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    // Index of the entry in block b, or the bitwise complement of where it would go.
    private int Search(int b, in Entry entry)
    {
        var block = _blocks[b];
        var lo = 0;
        var hi = _sizes[b] - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var order = Entry.Compare(block[mid], entry, _ids);
            if (order == 0)
            {
                return mid;
            }
            if (order < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }

    private void Split(int b)
    {
        EnsureBlockRoom();
        var left = _blocks[b];
        var size = _sizes[b];
        var keep = size / 2;
        var right = _spare.Count > 0 ? _spare.Pop() : new Entry[_capacity];
        Array.Copy(left, keep, right, 0, size - keep);
        Array.Clear(left, keep, size - keep);
        Array.Copy(_blocks, b + 1, _blocks, b + 2, _blockCount - b - 1);
        Array.Copy(_sizes, b + 1, _sizes, b + 2, _blockCount - b - 1);
        Array.Copy(_last, b + 1, _last, b + 2, _blockCount - b - 1);
        _blocks[b + 1] = right;
        _sizes[b + 1] = size - keep;
        _last[b + 1] = _last[b];
        _sizes[b] = keep;
        _last[b] = left[keep - 1];
        _blockCount++;
        Rebuild();
    }

    private void Rebalance(int b)
    {
        if (_blockCount == 1 || _sizes[b] >= _mergeBelow)
        {
            return;
        }
        if (_sizes[b] == 0)
        {
            RemoveBlock(b);
            Rebuild();
            return;
        }
        var neighbour = b == 0 ? 1
            : b == _blockCount - 1 ? b - 1
            : _sizes[b - 1] <= _sizes[b + 1] ? b - 1 : b + 1;
        if (_sizes[b] + _sizes[neighbour] > _mergedAtMost)
        {
            return;
        }
        var lo = Math.Min(b, neighbour);
        var hi = lo + 1;
        Array.Copy(_blocks[hi], 0, _blocks[lo], _sizes[lo], _sizes[hi]);
        _sizes[lo] += _sizes[hi];
        _last[lo] = _last[hi];
        Array.Clear(_blocks[hi], 0, _sizes[hi]);
        _sizes[hi] = 0;
        RemoveBlock(hi);
        Rebuild();
    }

    private void RemoveBlock(int b)
    {
        var block = _blocks[b];
        if (_spare.Count < SpareBlocks)
        {
            _spare.Push(block);
        }
        Array.Copy(_blocks, b + 1, _blocks, b, _blockCount - b - 1);
        Array.Copy(_sizes, b + 1, _sizes, b, _blockCount - b - 1);
        Array.Copy(_last, b + 1, _last, b, _blockCount - b - 1);
        _blockCount--;
        _blocks[_blockCount] = null!;
        _sizes[_blockCount] = 0;
        _last[_blockCount] = default;
    }

    private void EnsureBlockRoom()
    {
        if (_blockCount < _blocks.Length)
        {
            return;
        }
        var length = _blocks.Length * 2;
        Array.Resize(ref _blocks, length);
        Array.Resize(ref _sizes, length);
        Array.Resize(ref _last, length);
        _tree = new int[length + 1];
    }

    private void Rebuild()
    {
        var n = _blockCount;
        Array.Clear(_tree);
        for (var i = 1; i <= n; i++)
        {
            _tree[i] += _sizes[i - 1];
            var parent = i + (i & -i);
            if (parent <= n)
            {
                _tree[parent] += _tree[i];
            }
        }
    }

    private void Add(int b, int delta)
    {
        for (var i = b + 1; i <= _blockCount; i += i & -i)
        {
            _tree[i] += delta;
        }
    }

    // Entries in the blocks before block b.
    private int Prefix(int b)
    {
        var sum = 0;
        for (var i = b; i > 0; i -= i & -i)
        {
            sum += _tree[i];
        }
        return sum;
    }

    // The block holding the entry at index k and the entry's offset in it (k < Count).
    private (int Block, int Offset) Locate(int k)
    {
        var pos = 0;
        var rest = k;
        for (var step = (int)BitOperations.RoundUpToPowerOf2((uint)_blockCount + 1) >> 1; step > 0; step >>= 1)
        {
            var next = pos + step;
            if (next <= _blockCount && _tree[next] <= rest)
            {
                pos = next;
                rest -= _tree[next];
            }
        }
        return (pos, rest);
    }
}
