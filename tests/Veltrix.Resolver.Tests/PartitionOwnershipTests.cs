using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Veltrix.Testing;
using static Veltrix.Resolver.Tests.Events;
using Outcome = Veltrix.Contracts.V1.Outcome;
using ScoreChange = Veltrix.Contracts.Internal.ScoreChange;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// Two resolver instances of one mesh, in process: instance 0 behind the test server (as the gateway reaches it),
/// instance 1 on a real loopback port, so that instance 0 can forward to it over gRPC like in a cluster.
/// Partitions 0 and 2 belong to instance 0, 1 and 3 to instance 1.
/// </summary>
public sealed class PartitionOwnershipTests : IAsyncLifetime
{
    private const int Partitions = ResolverFixture.Partitions;
    private readonly List<string> _dataDirs = [];
    private readonly List<IAsyncDisposable> _hosts = [];
    private readonly List<GrpcChannel> _channels = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].DisposeAsync();
        }
        foreach (var dir in _dataDirs)
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Apply_PartitionOwnedByAnotherInstance_FailedPreconditionNamingOwnerAndNothingApplied()
    {
        var (first, second) = await StartPairAsync();
        var world = WorldIn(1);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new PartitionWriter.PartitionWriterClient(first).ApplyAsync(Batch(world, Join(world, "mallory", 1).Stamp())).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("partition 1 is owned by resolver 1, not by this resolver (0 of 2)", error.Status.Detail);
        var owner = new Contracts.V1.Resolver.ResolverClient(second);
        var read = await Assert.ThrowsAsync<RpcException>(() =>
            owner.GetWorldAsync(new GetWorldRequest { WorldId = world }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, read.StatusCode);
    }

    [Fact]
    public async Task Apply_PartitionOwnedHere_Applied()
    {
        var (first, _) = await StartPairAsync();
        var world = WorldIn(2);

        var reply = await new PartitionWriter.PartitionWriterClient(first).ApplyAsync(Batch(world, Join(world, "alice", 1).Stamp()));

        Assert.Equal(Outcome.Accepted, Assert.Single(reply.Results).Outcome);
    }

    [Fact]
    public async Task GetPlayerAndGetWorld_WorldOwnedByAnotherInstance_ForwardedToOwnerAndAnswered()
    {
        var (first, second) = await StartPairAsync();
        var world = WorldIn(3);
        await new PartitionWriter.PartitionWriterClient(second).ApplyAsync(
            Batch(world, Join(world, "alice", 1).Stamp(), Teleport(world, "alice", 2, 40, 60).Stamp()));
        var reads = new Contracts.V1.Resolver.ResolverClient(first);

        var alice = await reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "alice" }, deadline: DateTime.UtcNow.AddSeconds(10));
        var state = await reads.GetWorldAsync(new GetWorldRequest { WorldId = world }, deadline: DateTime.UtcNow.AddSeconds(10));
        var missing = await Assert.ThrowsAsync<RpcException>(() =>
            reads.GetPlayerAsync(new GetPlayerRequest { WorldId = world, PlayerId = "nobody" }).ResponseAsync);

        Assert.Equal((world, 40, 60, 2UL), (alice.WorldId, alice.X, alice.Y, alice.LastSeq));
        Assert.Equal(["alice"], state.PlayersOnline.Select(p => p.PlayerId));
        // The owner's own answer comes back as it was given.
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal($"player 'nobody' has not joined world '{world}'", missing.Status.Detail);
    }

    [Fact]
    public async Task GetPlayer_Forwarded_OwnerSeesCallersDeadlineAndForwardMark()
    {
        var owner = await StandInOwner.StartAsync();
        _hosts.Add(owner);
        var first = StartInstance(0, ["http://127.0.0.1:9", owner.Address]);
        var world = WorldIn(1);
        // Far from the mesh's own call timeout (5 s), so the owner's deadline tells which one was used.
        var deadline = DateTime.UtcNow.AddSeconds(30);

        var player = await new Contracts.V1.Resolver.ResolverClient(first).GetPlayerAsync(
            new GetPlayerRequest { WorldId = world, PlayerId = "bob" }, deadline: deadline);

        Assert.Equal("bob", player.PlayerId);
        var seen = Assert.Single(owner.Calls);
        Assert.Equal(world, seen.WorldId);
        Assert.Equal("0", seen.ForwardedBy);
        // gRPC sends the time left and each hop adds it to its own clock on arrival, so the owner's deadline is
        // the caller's give or take the time in flight.
        Assert.InRange(seen.Deadline, deadline.AddSeconds(-3), deadline.AddSeconds(3));
    }

    [Fact]
    public async Task GetPlayer_AlreadyForwardedForWorldNotOwned_FailedPreconditionInsteadOfForwardingAgain()
    {
        var owner = await StandInOwner.StartAsync();
        _hosts.Add(owner);
        var first = StartInstance(0, ["http://127.0.0.1:9", owner.Address]);
        var world = WorldIn(1);

        var error = await Assert.ThrowsAsync<RpcException>(() => new Contracts.V1.Resolver.ResolverClient(first).GetPlayerAsync(
            new GetPlayerRequest { WorldId = world, PlayerId = "bob" },
            new Metadata { { OwnerClients.ForwardedHeader, "1" } }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("partition maps disagree", error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(owner.Calls);
    }

    [Fact]
    public async Task GetWorld_OwnerUnreachable_UnavailableNamingTheOwner()
    {
        // Reserve a port, then free it: nothing listens there.
        var gone = await StandInOwner.StartAsync();
        var address = gone.Address;
        await gone.DisposeAsync();
        var first = StartInstance(0, ["http://127.0.0.1:9", address]);
        var world = WorldIn(3);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Contracts.V1.Resolver.ResolverClient(first).GetWorldAsync(new GetWorldRequest { WorldId = world }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal($"resolver 1, which owns world '{world}', is not reachable; retry", error.Status.Detail);
    }

    [Fact]
    public async Task ScoreFeed_SecondInstance_SnapshotOfItsOwnPartitionsOnly()
    {
        var (first, second) = await StartPairAsync();
        var mine = WorldIn(1);
        var theirs = WorldIn(0);
        await new PartitionWriter.PartitionWriterClient(second).ApplyAsync(Batch(mine, Join(mine, "carol", 1).Stamp()));
        await new PartitionWriter.PartitionWriterClient(first).ApplyAsync(Batch(theirs, Join(theirs, "dave", 1).Stamp()));

        using var call = new ScoreFeed.ScoreFeedClient(second).Subscribe(new ScoreFeedRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        var snapshot = new List<ScoreChange>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            snapshot.AddRange(call.ResponseStream.Current.Changes);
            if (call.ResponseStream.Current.SnapshotDone)
            {
                break;
            }
        }

        Assert.Equal([(mine, "carol")], snapshot.Select(c => (c.WorldId, c.PlayerId)));
    }

    private static string WorldIn(int partition)
    {
        for (var i = 0; ; i++)
        {
            var world = "w-" + i.ToString(CultureInfo.InvariantCulture);
            if (Partitioning.PartitionOf(world, Partitions) == partition)
            {
                return world;
            }
        }
    }

    /// <summary>Instance 1 on a real port, then instance 0 behind the test server, forwarding to it.</summary>
    private async Task<(GrpcChannel First, GrpcChannel Second)> StartPairAsync()
    {
        var secondFactory = Factory(1, ["http://127.0.0.1:9", "http://127.0.0.1:9"]);
        secondFactory.UseKestrel();
        secondFactory.StartServer();
        var addresses = secondFactory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var address = Assert.Single(addresses);
        var second = GrpcChannel.ForAddress(address);
        _channels.Add(second);
        await RecoveredAsync(secondFactory);
        var first = StartInstance(0, ["http://127.0.0.1:9", address]);
        return (first, second);
    }

    private GrpcChannel StartInstance(int ordinal, string[] resolvers)
    {
        var factory = Factory(ordinal, resolvers);
        var channel = GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });
        _channels.Add(channel);
        return channel;
    }

    private WebApplicationFactory<Program> Factory(int ordinal, string[] resolvers)
    {
        var dataDir = Directory.CreateTempSubdirectory("veltrix-owner-").FullName;
        _dataDirs.Add(dataDir);
        var settings = new List<KeyValuePair<string, string>>
        {
            new("Veltrix:Mesh:Partitions", Partitions.ToString(CultureInfo.InvariantCulture)),
            new("Veltrix:Resolver:Ordinal", ordinal.ToString(CultureInfo.InvariantCulture)),
            new("Veltrix:Storage:DataDir", dataDir),
            // A free port for the one instance that listens for real; no HTTP/1.1 port.
            new("Veltrix:Host:GrpcPort", "0"),
            new("Veltrix:Host:HttpPort", "0"),
        };
        for (var i = 0; i < resolvers.Length; i++)
        {
            settings.Add(new("Veltrix:Mesh:Resolvers:" + i.ToString(CultureInfo.InvariantCulture), resolvers[i]));
        }
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            // Settings, not app configuration: the host reads its ports while it is built, before app
            // configuration callbacks run, and must not fall back to the launcher's default ports.
            foreach (var (key, value) in settings)
            {
                b.UseSetting(key, value);
            }
            b.ConfigureLogging(logging => logging.ClearProviders());
        });
        _hosts.Add(factory);
        return factory;
    }

    // Its partitions recover in the background; a test that reads the owner directly waits for them.
    private static async Task RecoveredAsync(WebApplicationFactory<Program> factory)
    {
        var partitions = factory.Services.GetRequiredService<PartitionSet>();
        Assert.Equal(Partitions / 2, partitions.Count);
        for (var i = 0; i < partitions.Count; i++)
        {
            await partitions[i].Ready.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Null(partitions[i].Failure);
        }
    }

    /// <summary>Stands in for the owning instance's Resolver service: records what each forwarded call carried.</summary>
    private sealed class StandInOwner : IAsyncDisposable
    {
        private readonly LoopbackGrpcServer _server;

        private StandInOwner(LoopbackGrpcServer server, ConcurrentQueue<ForwardedCall> calls)
        {
            _server = server;
            Calls = calls;
        }

        public ConcurrentQueue<ForwardedCall> Calls { get; }

        public string Address => _server.Address;

        public static async Task<StandInOwner> StartAsync()
        {
            var calls = new ConcurrentQueue<ForwardedCall>();
            var server = await LoopbackGrpcServer.StartAsync(
                services => services.AddSingleton(calls),
                app => app.MapGrpcService<OwnerReads>());
            return new StandInOwner(server, calls);
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }

    private sealed record ForwardedCall(string WorldId, DateTime Deadline, string? ForwardedBy);

    private sealed class OwnerReads(ConcurrentQueue<ForwardedCall> calls) : Contracts.V1.Resolver.ResolverBase
    {
        public override Task<PlayerState> GetPlayer(GetPlayerRequest request, ServerCallContext context)
        {
            calls.Enqueue(new ForwardedCall(request.WorldId, context.Deadline, context.RequestHeaders.GetValue(OwnerClients.ForwardedHeader)));
            return Task.FromResult(new PlayerState { PlayerId = request.PlayerId, WorldId = request.WorldId, Online = true });
        }
    }
}
