namespace Veltrix.Domain;

/// <summary>Which partition owns a world. Every service that routes must compute the same answer.</summary>
public static class Partitioning
{
    /// <summary>Stable across processes and releases: FNV-1a over the world id's UTF-16 code units.</summary>
    public static int PartitionOf(string worldId, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(worldId);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        return (int)(StableHash(worldId) % (uint)partitionCount);
    }

    /// <summary>The same partition for an id read off the wire as ASCII bytes (valid ids are ASCII).</summary>
    public static int PartitionOf(ReadOnlySpan<byte> asciiWorldId, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        return (int)(StableHash(asciiWorldId) % (uint)partitionCount);
    }

    /// <summary><see cref="StableHash(ReadOnlySpan{char}, uint)"/> of the text whose ASCII bytes these are: each byte is a code unit whose high byte is zero.</summary>
    public static uint StableHash(ReadOnlySpan<byte> ascii, uint seed = 2166136261)
    {
        var hash = seed;
        foreach (var b in ascii)
        {
            hash = (hash ^ b) * 16777619;
            hash *= 16777619;
        }
        return hash;
    }

    /// <summary>32-bit FNV-1a; used for partitioning and for deterministic placement.</summary>
    public static uint StableHash(ReadOnlySpan<char> text, uint seed = 2166136261)
    {
        var hash = seed;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * 16777619;
            hash = (hash ^ (byte)(c >> 8)) * 16777619;
        }
        return hash;
    }
}
