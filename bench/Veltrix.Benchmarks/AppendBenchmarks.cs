using BenchmarkDotNet.Attributes;
using Veltrix.Storage;

namespace Veltrix.Benchmarks;

/// <summary>
/// The embedded store's durable append, as a partition turn makes it: one entry (a turn's batches) per
/// append, written and fsynced before it returns. Sizes: a small turn (16 KiB, about 350 events) and a busy
/// one (256 KiB). The log lives in a temporary folder on the machine's disk; the fsync dominates.
/// </summary>
[MemoryDiagnoser]
public class AppendBenchmarks
{
    private readonly ReadOnlyMemory<byte>[] _entry = new ReadOnlyMemory<byte>[1];
    private string _folder = null!;
    private EmbeddedPartitionStore _store = null!;
    private IPartitionLog _log = null!;

    [Params(16 * 1024, 256 * 1024)]
    public int EntryBytes { get; set; }

    [GlobalSetup]
    public async Task Open()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"veltrix-append-bench-{Guid.NewGuid():N}");
        _store = new EmbeddedPartitionStore(new EmbeddedStoreOptions { DataFolder = _folder });
        _log = await _store.OpenAsync(0, 1, CancellationToken.None);
        var bytes = new byte[EntryBytes];
        new Random(7).NextBytes(bytes);
        _entry[0] = bytes;
    }

    [GlobalCleanup]
    public async Task Close()
    {
        await _log.DisposeAsync();
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark]
    public ValueTask AppendOneEntryWithFsync() => _log.AppendAsync(_entry, CancellationToken.None);
}
