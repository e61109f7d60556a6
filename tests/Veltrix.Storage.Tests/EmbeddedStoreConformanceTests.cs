namespace Veltrix.Storage.Tests;

/// <summary>The conformance suite against the embedded store, with small segments so roll-over and trimming happen in it.</summary>
public sealed class EmbeddedStoreConformanceTests : PartitionStoreConformance, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"veltrix-embedded-{Guid.NewGuid():N}");

    protected override Task<IPartitionStore> CreateStoreAsync(int snapshotsKept) =>
        Task.FromResult<IPartitionStore>(new EmbeddedPartitionStore(
            new EmbeddedStoreOptions { DataFolder = _folder, SegmentBytes = 4 * 1024, SnapshotsKept = snapshotsKept }));

    /// <summary>Flips the last byte of the snapshot file, inside the state the CRC covers.</summary>
    protected override async Task<string> DamageSnapshotAsync(int partition, long position)
    {
        var path = Path.Combine(
            new EmbeddedPartitionStore(new EmbeddedStoreOptions { DataFolder = _folder }).GetPartitionDirectory(partition),
            $"snap-{position:D20}.bin");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
