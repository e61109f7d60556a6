namespace Veltrix.Storage.Tests;

/// <summary>The conformance suite against the embedded store, with small segments so roll-over and trimming happen in it.</summary>
public sealed class EmbeddedStoreConformanceTests : PartitionStoreConformance, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"veltrix-embedded-{Guid.NewGuid():N}");

    protected override Task<IPartitionStore> CreateStoreAsync() =>
        Task.FromResult<IPartitionStore>(new EmbeddedPartitionStore(new EmbeddedStoreOptions { DataFolder = _folder, SegmentBytes = 4 * 1024 }));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
