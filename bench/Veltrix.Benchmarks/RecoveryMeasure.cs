using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Net.Client;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Storage;
using Veltrix.Contracts.V1;
using Veltrix.Resolver;
using Veltrix.Storage;

namespace Veltrix.Benchmarks;

/// <summary>
/// Recovery and rollback at scale, on the embedded store: writes a partition log of N events of one world
/// (legal moves, digs and spawns of many players, in entries the size a busy partition loop writes) with a
/// snapshot every million events as the resolver takes them, then measures
/// (1) a resolver process started on that data until /healthz answers 200,
/// (2) the same recovery in process, and a full replay with no snapshot,
/// (3) Admin.Rollback of the last window of events (dry run, then commit) through the running resolver.
/// Usage: recovery [--events 10000000] [--window 1000000] [--players 10000]. The resolver process is the
/// Native AOT binary at artifacts/aot/Veltrix.Resolver when it was published there (as .ci/run does), else
/// the JIT build next to this program.
/// </summary>
public static class RecoveryMeasure
{
    private const long T0 = 1_700_000_000_000;
    private const int Partitions = 8;
    private const int EventsPerBatch = 256;
    private const int BatchesPerEntry = 16;
    private const long SnapshotEvery = 1_000_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var events = Option(args, "--events", 10_000_000);
        var window = Option(args, "--window", 1_000_000);
        var players = (int)Option(args, "--players", 10_000);
        var data = Directory.CreateTempSubdirectory("veltrix-recovery-bench-").FullName;
        try
        {
            var world = WorldOnPartition0();
            Console.WriteLine($"writing {events:N0} events of {players:N0} players in world {world} to {data}");
            var written = Stopwatch.StartNew();
            var (bytes, snapshots) = await WriteLogAsync(data, world, events, players);
            Console.WriteLine($"  {bytes / 1e6:N0} MB of log, {snapshots} snapshots, in {written.Elapsed.TotalSeconds:N1} s");

            var inProcess = await RecoverInProcessAsync(data, useSnapshot: true);
            Console.WriteLine($"recovery in process, open + newest snapshot + tail: {inProcess.Ms:N0} ms ({inProcess.Replayed:N0} entries replayed)");
            var full = await RecoverInProcessAsync(data, useSnapshot: false);
            Console.WriteLine($"open + full replay, no snapshot: {full.Ms:N0} ms for {events:N0} events ({events / (full.Ms / 1000.0):N0} events/s)");

            using var resolver = await ResolverUnderTest.StartAsync(data);
            Console.WriteLine($"resolver process start to /healthz 200: {resolver.ReadyMs:N0} ms");

            var request = new RollbackRequest
            {
                WorldId = world,
                FromMs = StampOf(events - window),
                ToMs = StampOf(events),
                Reason = "recovery bench",
                DryRun = true,
            };
            request.PlayerIds.AddRange(Enumerable.Range(0, Math.Max(1, players / 100)).Select(i => $"p{i}"));
            var admin = new Admin.AdminClient(resolver.Channel);
            foreach (var dryRun in new[] { true, false })
            {
                request.DryRun = dryRun;
                var clock = Stopwatch.StartNew();
                var report = await admin.RollbackAsync(request, deadline: DateTime.UtcNow.AddMinutes(5));
                Console.WriteLine($"rollback of the last {window:N0} events ({request.PlayerIds.Count} players voided), dry run {dryRun}: " +
                    $"{clock.ElapsedMilliseconds:N0} ms, {report.EventsVoided:N0} voided, {report.EventsReplayed:N0} replayed, " +
                    $"{report.Players.Count} scores and {report.Treasures.Count} treasures changed");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static long Option(string[] args, string name, long fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1].Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) : fallback;
    }

    private static string WorldOnPartition0() =>
        Enumerable.Range(0, 1_000).Select(i => $"bench-{i}").First(w => Domain.Partitioning.PartitionOf(w, Partitions) == 0);

    // A hundred events per millisecond of stamp time.
    private static long StampOf(long eventIndex) => T0 + eventIndex / 100;

    private static async Task<(long Bytes, int Snapshots)> WriteLogAsync(string data, string world, long events, int players)
    {
        await using var store = new EmbeddedPartitionStore(new EmbeddedStoreOptions { DataFolder = data });
        await using var log = await store.OpenAsync(0, 1, CancellationToken.None);
        var state = new PartitionState(0, new ResolverOptions()) { Replaying = true };
        var seqs = new ulong[players];
        var xs = new int[players];
        var ys = new int[players];
        for (var p = 0; p < players; p++)
        {
            (xs[p], ys[p]) = Domain.World.StartingPoint(world, $"p{p}", Domain.WorldRules.Default.Size);
        }
        long bytes = 0;
        var snapshots = 0;
        long sinceSnapshot = 0;
        long i = 0;
        long treasures = 0;
        while (i < events)
        {
            var record = new LogRecord();
            for (var b = 0; b < BatchesPerEntry && i < events; b++)
            {
                var batch = new ApplyBatch { Partition = 0 };
                for (var e = 0; e < EventsPerBatch && i < events; e++, i++)
                {
                    var p = (int)(i % players);
                    var stamp = StampOf(i);
                    var ev = new Event { WorldId = world, PlayerId = $"p{p}", Seq = ++seqs[p], ClientTimeMs = stamp };
                    if (seqs[p] == 1)
                    {
                        ev.Join = new Join();
                    }
                    else if (i % 10 == 0)
                    {
                        // A treasure under the player's feet now and then, so some digs find one.
                        if (i % 20 == 0)
                        {
                            batch.Spawns.Add(new Spawn { WorldId = world, TreasureId = $"t{treasures++}", X = xs[p], Y = ys[p], Value = 10, StampMs = stamp });
                        }
                        ev.Dig = new Dig();
                    }
                    else
                    {
                        xs[p] = Math.Clamp(xs[p] + (int)(i % 7) - 3, 0, 99_999);
                        ys[p] = Math.Clamp(ys[p] + (int)(i % 5) - 2, 0, 99_999);
                        ev.Move = new Move { X = xs[p], Y = ys[p] };
                    }
                    batch.Add(ev, stamp);
                }
                record.Batches.Add(batch);
            }
            PartitionReplayApply(state, record);
            var entry = record.ToByteArray();
            bytes += entry.Length;
            await log.AppendAsync([entry], CancellationToken.None);
            sinceSnapshot += record.Batches.Sum(static b => b.Events.Count);
            // As the resolver does: a snapshot once a million events were applied, none at the very end,
            // so recovery replays a full interval's tail.
            if (sinceSnapshot >= SnapshotEvery && events - i >= SnapshotEvery)
            {
                await log.WriteSnapshotAsync(log.NextPosition, PartitionImages.Capture(state, log.NextPosition), CancellationToken.None);
                snapshots++;
                sinceSnapshot = 0;
            }
        }
        return (bytes, snapshots);
    }

    private static void PartitionReplayApply(PartitionState state, LogRecord record)
    {
        foreach (var batch in record.Batches)
        {
            ApplyWork.ApplyInputs(state, batch, results: null);
        }
    }

    private static async Task<(long Ms, long Replayed)> RecoverInProcessAsync(string data, bool useSnapshot)
    {
        var clock = Stopwatch.StartNew();
        await using var store = new EmbeddedPartitionStore(new EmbeddedStoreOptions { DataFolder = data });
        await using var log = await store.OpenAsync(0, 1, CancellationToken.None);
        Console.WriteLine($"  opening the log (every record's CRC checked): {clock.ElapsedMilliseconds:N0} ms");
        var state = new PartitionState(0, new ResolverOptions()) { Replaying = true };
        if (useSnapshot)
        {
            var (_, replayed, _) = await PartitionReplay.RebuildAsync(state, log, CancellationToken.None);
            return (clock.ElapsedMilliseconds, replayed);
        }
        long entries = 0;
        await foreach (var entry in log.ReadAsync(1, CancellationToken.None))
        {
            PartitionReplay.Apply(state, entry.Data.Span);
            entries++;
        }
        return (clock.ElapsedMilliseconds, entries);
    }

    /// <summary>The resolver host as a process of its own on loopback, stopped by its process id.</summary>
    private sealed class ResolverUnderTest : IDisposable
    {
        private readonly Process _process;

        private ResolverUnderTest(Process process, GrpcChannel channel, long readyMs)
        {
            _process = process;
            Channel = channel;
            ReadyMs = readyMs;
        }

        public GrpcChannel Channel { get; }

        public long ReadyMs { get; }

        public static async Task<ResolverUnderTest> StartAsync(string data)
        {
            var (grpc, http) = (FreePort(), FreePort());
            var aot = Path.GetFullPath("artifacts/aot/Veltrix.Resolver/Veltrix.Resolver");
            var start = File.Exists(aot) ? new ProcessStartInfo(aot) : new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Veltrix.Resolver.dll")]);
            Console.WriteLine($"resolver: {(File.Exists(aot) ? aot + " (Native AOT)" : "JIT build")}");
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            foreach (var arg in (string[])[
                    $"--Veltrix:Host:GrpcPort={grpc}", $"--Veltrix:Host:HttpPort={http}",
                    $"--Veltrix:Storage:DataDir={data}", $"--Veltrix:Mesh:Partitions={Partitions}",
                    "--Veltrix:Storage:RetentionHours=876000"])
            {
                start.ArgumentList.Add(arg);
            }
            var clock = Stopwatch.StartNew();
            var process = Process.Start(start) ?? throw new InvalidOperationException("resolver did not start");
            process.OutputDataReceived += static (_, _) => { };
            process.ErrorDataReceived += static (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var http1 = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
            while (true)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(2) || process.HasExited)
                {
                    process.Kill();
                    throw new InvalidOperationException("resolver did not become healthy");
                }
                try
                {
                    var reply = await http1.GetAsync(new Uri($"http://127.0.0.1:{http}/healthz"));
                    if (reply.StatusCode == HttpStatusCode.OK)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(5);
            }
            return new ResolverUnderTest(process, GrpcChannel.ForAddress($"http://127.0.0.1:{grpc}"), clock.ElapsedMilliseconds);
        }

        public void Dispose()
        {
            Channel.Dispose();
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
