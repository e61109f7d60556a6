#:project ../../../libs/Veltrix.Storage/Veltrix.Storage.csproj
#:property GenerateProgramFile=false
#:property IsTestProject=false
#:property PublishAot=false

// Durable append throughput of the Redis store, run by hand (not a test):
//   dotnet run tests/Veltrix.Storage.Tests/measure/redis-append-throughput.cs -c Release [-- SECONDS [--benchmark]]
// Starts its own redis-server exactly as RedisServerFixture does (appendonly yes, appendfsync always), so every
// acknowledged append has been fsynced by Redis. "writers" is the number of partitions appending side by side
// through one store (one multiplexed connection); Redis fsyncs once per event-loop turn, so concurrent appends
// share fsyncs. --benchmark adds redis-benchmark figures for plain XADD and for an EVAL of 64 XADDs.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Veltrix.Storage;

var seconds = args.Length > 0 && args[0] != "--benchmark" ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5;
var folder = Path.Combine(Path.GetTempPath(), $"veltrix-redis-measure-{Environment.ProcessId}");
Directory.CreateDirectory(folder);
int port;
using (var listener = new TcpListener(IPAddress.Loopback, 0))
{
    listener.Start();
    port = ((IPEndPoint)listener.LocalEndpoint).Port;
}

var server = Process.Start("/usr/bin/redis-server", [
    "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--protected-mode", "yes",
    "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", folder,
    "--logfile", Path.Combine(folder, "redis.log"), "--daemonize", "no"]);
try
{
    var connection = $"127.0.0.1:{port}";
    await using var store = await ConnectWhenUpAsync(connection);
    var partition = 0;
    Console.WriteLine($"redis-server {connection}, appendonly yes, appendfsync always, {seconds} s per row, {Environment.ProcessorCount} cores");
    foreach (var (name, entrySize, perCall) in new[] { ("16 KiB x 1 per call ", 16 * 1024, 1), ("256 B x 64 per call ", 256, 64) })
    {
        foreach (var writers in new[] { 1, 4, 16 })
        {
            await MeasureAsync(name, entrySize, perCall, writers, seconds);
        }
    }

    if (args.Contains("--benchmark"))
    {
        foreach (var clients in new[] { 1, 4, 16 })
        {
            Benchmark($"redis-benchmark XADD 16 KiB, -c {clients,2}", clients, "XADD", "rb16k", "*", "d", new string('x', 16 * 1024));
        }

        foreach (var clients in new[] { 1, 4, 16 })
        {
            Benchmark($"redis-benchmark EVAL 64 x XADD 256 B, -c {clients,2}", clients, "EVAL",
                "for i = 1, 64 do redis.call('XADD', KEYS[1], '*', 'd', ARGV[1]) end return 1", "1", "rb64", new string('y', 256));
        }
    }

    async Task MeasureAsync(string name, int entrySize, int perCall, int writers, double duration)
    {
        var payload = new byte[entrySize];
        Random.Shared.NextBytes(payload);
        var batch = Enumerable.Repeat((ReadOnlyMemory<byte>)payload, perCall).ToArray();
        var logs = new IPartitionLog[writers];
        for (var i = 0; i < writers; i++)
        {
            logs[i] = await store.OpenAsync(partition++, 1, CancellationToken.None);
            for (var warmUp = 0; warmUp < 50; warmUp++)
            {
                await logs[i].AppendAsync(batch, CancellationToken.None);
            }
        }

        var calls = 0L;
        var redisCpu = RedisCpuSeconds();
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(logs.Select(log => Task.Run(async () =>
        {
            while (clock.Elapsed.TotalSeconds < duration)
            {
                await log.AppendAsync(batch, CancellationToken.None);
                Interlocked.Increment(ref calls);
            }
        })));

        var elapsed = clock.Elapsed.TotalSeconds;
        redisCpu = (RedisCpuSeconds() - redisCpu) / elapsed;
        var clientShare = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds / elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} writers={writers,2}: {calls / elapsed,7:F0} appends/s, {calls * perCall / elapsed,8:F0} entries/s, " +
            $"{calls * perCall * (double)entrySize / elapsed / 1e6,5:F1} MB/s, {elapsed * 1e3 * writers / calls,6:F2} ms/append, " +
            $"CPU redis {redisCpu,4:P0} client {clientShare,4:P0}"));
    }

    double RedisCpuSeconds()
    {
        // utime + stime (fields 14 and 15 of /proc/PID/stat) in clock ticks of 1/100 s.
        var fields = File.ReadAllText($"/proc/{server.Id}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    void Benchmark(string label, int clients, params string[] command)
    {
        using var benchmark = Process.Start(new ProcessStartInfo("redis-benchmark",
            ["-p", port.ToString(CultureInfo.InvariantCulture), "-q", "-n", (clients * 2_500).ToString(CultureInfo.InvariantCulture),
             "-c", clients.ToString(CultureInfo.InvariantCulture), .. command]) { RedirectStandardOutput = true })!;
        var output = benchmark.StandardOutput.ReadToEnd();
        benchmark.WaitForExit();
        var line = output.Split('\r', '\n').LastOrDefault(l => l.Contains("requests per second", StringComparison.Ordinal)) ?? output;
        Console.WriteLine($"{label}: {line[(line.LastIndexOf(": ", StringComparison.Ordinal) + 2)..].Trim()}");
    }
}
finally
{
    server.Kill();
    server.WaitForExit();
    Directory.Delete(folder, recursive: true);
}

static async Task<RedisPartitionStore> ConnectWhenUpAsync(string connection)
{
    for (var attempt = 0; ; attempt++)
    {
        var store = await RedisPartitionStore.ConnectAsync(connection);
        try
        {
            await store.OpenAsync(0, 0, CancellationToken.None);
            return store;
        }
        catch (StackExchange.Redis.RedisConnectionException) when (attempt < 100)
        {
            await store.DisposeAsync();
            await Task.Delay(50);
        }
    }
}
