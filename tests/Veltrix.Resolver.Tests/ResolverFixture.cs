using Microsoft.Extensions.Configuration;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Domain;

namespace Veltrix.Resolver.Tests;

/// <summary>A real resolver host in memory, reached over gRPC through the test server's handler.</summary>
public sealed class ResolverFixture : IDisposable
{
    public const int Partitions = 4;
    private readonly WebApplicationFactory<Program> _factory;
    private readonly bool _ownsDataDir;

    public ResolverFixture()
        : this(null)
    {
    }

    /// <summary>A resolver over <paramref name="dataDir"/>; a fresh temporary folder (deleted at the end) when null.</summary>
    internal ResolverFixture(
        string? dataDir, long snapshotEveryEvents = 1_000_000, string flagsFile = "",
        IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        _ownsDataDir = dataDir is null;
        DataDir = dataDir ?? Directory.CreateTempSubdirectory("veltrix-resolver-").FullName;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection([
                new("Veltrix:Mesh:Partitions", Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("Veltrix:Storage:DataDir", DataDir),
                new("Veltrix:Storage:SnapshotEveryEvents", snapshotEveryEvents.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("Veltrix:Flags:File", flagsFile),
                // The games are stamped in 2023: keep them inside the rollback horizon.
                new("Veltrix:Storage:RetentionHours", "876000"),
            ]).AddInMemoryCollection(settings ?? [])));
        Channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        Writer = new PartitionWriter.PartitionWriterClient(Channel);
        Reads = new Contracts.V1.Resolver.ResolverClient(Channel);
        Feed = new ScoreFeed.ScoreFeedClient(Channel);
        Admin = new Admin.AdminClient(Channel);
    }

    public string DataDir { get; }

    public GrpcChannel Channel { get; }
    public PartitionWriter.PartitionWriterClient Writer { get; }
    public Contracts.V1.Resolver.ResolverClient Reads { get; }
    public ScoreFeed.ScoreFeedClient Feed { get; }
    public Admin.AdminClient Admin { get; }

    public HttpClient CreateHttpClient() => _factory.CreateClient();

    public static uint PartitionOf(string world) => (uint)Partitioning.PartitionOf(world, Partitions);

    public void Dispose()
    {
        Channel.Dispose();
        _factory.Dispose();
        if (_ownsDataDir)
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}

internal static class Events
{
    public const long T0 = 1_700_000_000_000;

    public static StampedEvent Stamp(this Event e, long stampMs = T0) => new(e, stampMs);

    /// <summary>The batch's events with their stamps, in order.</summary>
    public static IEnumerable<StampedEvent> Stamped(this ApplyBatch batch)
    {
        for (var i = 0; i < batch.Events.Count; i++)
        {
            yield return new StampedEvent(batch.Events[i], batch.StampsMs[i]);
        }
    }

    /// <summary>Adds an event with its stamp to the batch.</summary>
    public static void Add(this ApplyBatch batch, StampedEvent stamped) => batch.Add(stamped.Event, stamped.StampMs);

    public static Event Join(string world, string player, ulong seq, long t = T0) =>
        new() { WorldId = world, PlayerId = player, Seq = seq, ClientTimeMs = t, Join = new Join() };

    public static Event Teleport(string world, string player, ulong seq, int x, int y, long t = T0) =>
        new() { WorldId = world, PlayerId = player, Seq = seq, ClientTimeMs = t, Teleport = new Contracts.V1.Teleport { X = x, Y = y } };

    public static Event Move(string world, string player, ulong seq, int x, int y, long t) =>
        new() { WorldId = world, PlayerId = player, Seq = seq, ClientTimeMs = t, Move = new Contracts.V1.Move { X = x, Y = y } };

    public static Event Dig(string world, string player, ulong seq, long t = T0) =>
        new() { WorldId = world, PlayerId = player, Seq = seq, ClientTimeMs = t, Dig = new Contracts.V1.Dig() };

    public static Spawn Spawn(string world, string id, int x, int y, long value) =>
        new() { WorldId = world, TreasureId = id, X = x, Y = y, Value = value, StampMs = T0 };

    public static ApplyBatch Batch(string world, params StampedEvent[] events)
    {
        var batch = new ApplyBatch { Partition = ResolverFixture.PartitionOf(world) };
        foreach (var stamped in events)
        {
            batch.Add(stamped);
        }
        return batch;
    }
}

/// <summary>An event with the receive stamp ingest would give it, as the tests build batches.</summary>
internal sealed record StampedEvent(Event Event, long StampMs);
