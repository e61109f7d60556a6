using System.Buffers;

namespace Veltrix.Contracts.Wire;

/// <summary>
/// Pools for the buffers batches travel in. The shared pool keeps a few arrays per size per core; a mesh
/// under load holds hundreds of batches at once (every stream's batches in flight, every partition's
/// queue), so the shared pool ran dry and every batch allocated its buffers anew. These keep up to
/// <see cref="ArraysPerSize"/> per size.
/// </summary>
public static class WirePools
{
    public const int ArraysPerSize = 1_024;

    /// <summary>Larger arrays are allocated and dropped, not pooled (a batch that big is rare).</summary>
    public const int MaxPooledLength = 8 * 1024 * 1024;

    public static ArrayPool<byte> Bytes { get; } = ArrayPool<byte>.Create(MaxPooledLength, ArraysPerSize);

    public static ArrayPool<int> Ints { get; } = ArrayPool<int>.Create(MaxPooledLength / sizeof(int), ArraysPerSize);
}
