using System.Buffers;

namespace Veltrix.Contracts.Wire;

/// <summary>
/// Pools for the buffers batches travel in. A mesh under load holds hundreds of batches at once (every
/// stream's batches in flight, every partition's queue); the shared pool keeps a few arrays per size per
/// core, so under load it hands out new arrays that then live long enough to be promoted (ingest went from
/// gen0-only collections to gen1 and gen2 ones with it, same run length). These keep up to
/// <see cref="ArraysPerSize"/> arrays per size, so what they retain is bounded by what a peak held.
/// </summary>
public static class WirePools
{
    public const int ArraysPerSize = 256;

    /// <summary>Larger arrays are allocated and dropped, not pooled (a batch that big is rare).</summary>
    public const int MaxPooledLength = 1024 * 1024;

    public static ArrayPool<byte> Bytes { get; } = ArrayPool<byte>.Create(MaxPooledLength, ArraysPerSize);

    public static ArrayPool<int> Ints { get; } = ArrayPool<int>.Create(MaxPooledLength / sizeof(int), ArraysPerSize);
}
