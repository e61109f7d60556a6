using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Outcome = Veltrix.Contracts.V1.Outcome;

namespace Veltrix.Ingest.Tests;

/// <summary>Ingest with two resolver instances: each partition's part goes to the instance that owns it.</summary>
public sealed class OwnerRoutingTests : IAsyncLifetime
{
    private const int Partitions = 4;
    private StandInResolver _first = null!;
    private StandInResolver _second = null!;
    private WebApplicationFactory<Program> _factory = null!;
    private GrpcChannel _channel = null!;
    private Contracts.V1.Ingest.IngestClient _ingest = null!;

    public async Task InitializeAsync()
    {
        _first = await StandInResolver.StartAsync();
        _second = await StandInResolver.StartAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection([
                new("Veltrix:Mesh:Resolvers:0", _first.Address),
                new("Veltrix:Mesh:Resolvers:1", _second.Address),
                new("Veltrix:Mesh:Partitions", Partitions.ToString(CultureInfo.InvariantCulture)),
                new("Veltrix:Mesh:CallTimeoutMs", "3000"),
            ])));
        _channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        _ingest = new Contracts.V1.Ingest.IngestClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _factory.DisposeAsync();
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    private static Event Join(string world, string player) =>
        new() { WorldId = world, PlayerId = player, Seq = 1, ClientTimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Join = new Join() };

    private static string WorldIn(int partition)
    {
        for (var i = 0; ; i++)
        {
            if (Partitioning.PartitionOf($"world-{i}", Partitions) == partition)
            {
                return $"world-{i}";
            }
        }
    }

    [Fact]
    public async Task Publish_WorldsOfEveryPartition_EachPartSentToItsOwnerOnlyAndAnsweredInOrder()
    {
        var batch = new EventBatch { BatchId = 9 };
        batch.Events.Add([Join(WorldIn(0), "p0"), Join(WorldIn(1), "p1"), Join(WorldIn(2), "p2"), Join(WorldIn(3), "p3"), Join(WorldIn(1), "p1b")]);
        using var call = _ingest.Publish(deadline: DateTime.UtcNow.AddSeconds(20));
        await call.RequestStream.WriteAsync(batch);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var ack = call.ResponseStream.Current;

        Assert.Equal(9UL, ack.BatchId);
        Assert.Equal(5, ack.Results.Count);
        Assert.All(ack.Results, r => Assert.Equal(Outcome.Accepted, r.Outcome));
        // Partition p belongs to instance p % 2.
        Assert.Equal([0u, 2u], _first.Received.Select(b => b.Partition).Order());
        Assert.Equal([1u, 3u], _second.Received.Select(b => b.Partition).Order());
        Assert.Equal(["p0", "p2"], _first.Received.OrderBy(b => b.Partition).SelectMany(b => b.Events).Select(e => e.PlayerId));
        Assert.Equal(["p1", "p1b", "p3"], _second.Received.OrderBy(b => b.Partition).SelectMany(b => b.Events).Select(e => e.PlayerId));
    }

    [Fact]
    public async Task Submit_OwnerOfItsPartitionUnavailable_UnavailableAndOtherOwnerStillServes()
    {
        _second.FailWith = StatusCode.Unavailable;

        var refused = await Assert.ThrowsAsync<RpcException>(() => _ingest.SubmitAsync(Join(WorldIn(1), "late")).ResponseAsync);
        var served = await _ingest.SubmitAsync(Join(WorldIn(0), "early"));

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal(Outcome.Accepted, served.Outcome);
        Assert.Equal(["early"], _first.Received.SelectMany(b => b.Events).Select(e => e.PlayerId));
    }

    [Fact]
    public void Start_MoreResolversThanPartitions_RefusesNamingTheReason()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection([
                new("Veltrix:Mesh:Partitions", "1"),
                new("Veltrix:Mesh:Resolvers:0", _first.Address),
                new("Veltrix:Mesh:Resolvers:1", _second.Address),
            ])));

        var error = Assert.Throws<OptionsValidationException>(() => factory.Server);

        Assert.Contains("2 instances for 1 partitions", error.Message, StringComparison.Ordinal);
    }
}
