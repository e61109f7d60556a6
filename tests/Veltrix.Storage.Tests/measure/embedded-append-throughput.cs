#:project ../../../libs/Veltrix.Storage/Veltrix.Storage.csproj
#:property GenerateProgramFile=false
#:property IsTestProject=false
#:property PublishAot=false

// Durable append throughput of the embedded store, run by hand (not a test):
//   dotnet run tests/Veltrix.Storage.Tests/measure/embedded-append-throughput.cs -c Release [-- DATA_FOLDER [SECONDS]]
// Every AppendAsync call is one write and one fsync, so calls/s is the fsync rate the disk allows and
// entries/s is that times the batch size.
using System.Diagnostics;
using System.Globalization;
using Veltrix.Storage;

var folder = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), $"veltrix-measure-{Environment.ProcessId}");
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
try
{
    MeasureRawFsync();
    await MeasureAsync("16 KiB x 1 per call ", partition: 0, entrySize: 16 * 1024, perCall: 1);
    await MeasureAsync("256 B x 64 per call ", partition: 1, entrySize: 256, perCall: 64);
}
finally
{
    Directory.Delete(folder, recursive: true);
}

// The floor for comparison: the same 16 KiB write and fsync on a bare file, no store.
void MeasureRawFsync()
{
    Directory.CreateDirectory(folder);
    using var file = File.OpenHandle(Path.Combine(folder, "raw"), FileMode.CreateNew, FileAccess.ReadWrite);
    var payload = new byte[16 * 1024];
    Random.Shared.NextBytes(payload);
    var (calls, offset) = (0L, 0L);
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        RandomAccess.Write(file, payload, offset);
        RandomAccess.FlushToDisk(file);
        (calls, offset) = (calls + 1, offset + payload.Length);
    }

    var elapsed = clock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"raw file, 16 KiB + fsync: {calls / elapsed,8:F0} appends/s (fsyncs), {calls * 16384.0 / elapsed / 1e6,6:F1} MB/s"));
}

async Task MeasureAsync(string name, int partition, int entrySize, int perCall)
{
    await using var store = new EmbeddedPartitionStore(new EmbeddedStoreOptions { DataFolder = folder });
    await using var log = await store.OpenAsync(partition, 1, CancellationToken.None);
    var payload = new byte[entrySize];
    Random.Shared.NextBytes(payload);
    var batch = Enumerable.Repeat((ReadOnlyMemory<byte>)payload, perCall).ToArray();

    // Warm-up: JIT, the first segment's blocks.
    for (var i = 0; i < 200; i++)
    {
        await log.AppendAsync(batch, CancellationToken.None);
    }

    var calls = 0L;
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        await log.AppendAsync(batch, CancellationToken.None);
        calls++;
    }

    var elapsed = clock.Elapsed.TotalSeconds;
    allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
    var entries = calls * perCall;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}: {calls / elapsed,8:F0} appends/s (fsyncs), {entries / elapsed,9:F0} entries/s, " +
        $"{entries * (double)entrySize / elapsed / 1e6,6:F1} MB/s payload, {elapsed * 1e3 / calls:F3} ms/append, " +
        $"{allocated / (double)calls:F0} B allocated/append"));
}
