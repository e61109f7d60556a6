namespace Veltrix.Domain;

/// <summary>
/// Open treasures bucketed in square cells as wide as the dig radius, so a dig looks at the 3×3 cells
/// around the player instead of every treasure in the world.
/// </summary>
internal sealed class TreasureGrid(int cellSize)
{
    private readonly Dictionary<long, List<Treasure>> _cells = [];

    public int Count { get; private set; }

    public void Add(Treasure treasure)
    {
        var key = Key(treasure.X / cellSize, treasure.Y / cellSize);
        if (!_cells.TryGetValue(key, out var cell))
        {
            _cells[key] = cell = [];
        }
        cell.Add(treasure);
        Count++;
    }

    public void Remove(Treasure treasure)
    {
        var key = Key(treasure.X / cellSize, treasure.Y / cellSize);
        if (_cells.TryGetValue(key, out var cell) && cell.Remove(treasure))
        {
            Count--;
            if (cell.Count == 0)
            {
                _cells.Remove(key);
            }
        }
    }

    /// <summary>The nearest treasure within <paramref name="radius"/>; ties go to the smaller id (ordinal).</summary>
    public Treasure? Nearest(int x, int y, int radius)
    {
        var cx = x / cellSize;
        var cy = y / cellSize;
        var reach = (radius + cellSize - 1) / cellSize;
        var limit = (long)radius * radius;
        Treasure? best = null;
        var bestDistance = long.MaxValue;
        for (var i = cx - reach; i <= cx + reach; i++)
        {
            for (var j = cy - reach; j <= cy + reach; j++)
            {
                if (!_cells.TryGetValue(Key(i, j), out var cell))
                {
                    continue;
                }
                foreach (var t in cell)
                {
                    long dx = t.X - x;
                    long dy = t.Y - y;
                    var d = dx * dx + dy * dy;
                    if (d > limit)
                    {
                        continue;
                    }
                    if (d < bestDistance || (d == bestDistance && string.CompareOrdinal(t.Id, best!.Id) < 0))
                    {
                        best = t;
                        bestDistance = d;
                    }
                }
            }
        }
        return best;
    }

    public IEnumerable<Treasure> All()
    {
        foreach (var cell in _cells.Values)
        {
            foreach (var t in cell)
            {
                yield return t;
            }
        }
    }

    private static long Key(int cx, int cy) => ((long)cx << 32) | (uint)cy;
}
