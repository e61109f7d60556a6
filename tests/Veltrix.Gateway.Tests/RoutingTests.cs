using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.ServiceDefaults;

namespace Veltrix.Gateway.Tests;

/// <summary>What the gateway does not route: mesh-internal services and unknown paths.</summary>
public sealed class RoutingTests
{
    [Fact]
    public void Clusters_DefaultOptions_AskH2cExactlyAndOutliveLongStreams()
    {
        var clusters = GatewayRoutes.Clusters(new MeshOptions(), new GatewayOptions());

        Assert.Equal(4, clusters.Count);
        Assert.All(clusters, cluster =>
        {
            Assert.Equal(HttpVersion.Version20, cluster.HttpRequest!.Version);
            Assert.Equal(HttpVersionPolicy.RequestVersionExact, cluster.HttpRequest.VersionPolicy);
            // Publish and Watch streams live for hours; dead peers are found by keep-alive pings instead.
            Assert.True(cluster.HttpRequest.ActivityTimeout >= TimeSpan.FromHours(12));
            Assert.StartsWith("http://", Assert.Single(cluster.Destinations!).Value.Address, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Clusters_ResolverInstancesListed_ResolverAndAdminGoToInstanceZero()
    {
        var mesh = new MeshOptions { Resolver = "http://127.0.0.1:1", Resolvers = ["http://127.0.0.1:7720", "http://127.0.0.1:7750"] };

        var resolver = Assert.Single(GatewayRoutes.Clusters(mesh, new GatewayOptions()), c => c.ClusterId == GatewayRoutes.ResolverCluster);

        Assert.Equal("http://127.0.0.1:7720", Assert.Single(resolver.Destinations!).Value.Address);
        Assert.All(GatewayRoutes.Routes().Where(r => r.RouteId is "veltrix.v1.Resolver" or "veltrix.v1.Admin"),
            r => Assert.Equal(GatewayRoutes.ResolverCluster, r.ClusterId));
    }

    [Fact]
    public void Routes_PublicContract_OneRoutePerServiceAndNoneInternal()
    {
        var paths = GatewayRoutes.Routes().Select(r => r.Match.Path).ToList();

        Assert.Equal(
            ["/veltrix.v1.Ingest/{**method}", "/veltrix.v1.Resolver/{**method}", "/veltrix.v1.Admin/{**method}",
             "/veltrix.v1.Leaderboard/{**method}", "/veltrix.v1.SpawnTimer/{**method}"],
            paths);
    }

    [Fact]
    public async Task ScoreFeedSubscribe_ThroughGateway_UnimplementedAndNeverForwarded()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new ScoreFeed.ScoreFeedClient(mesh.NativeChannel());
        using var call = client.Subscribe(new ScoreFeedRequest(), deadline: TestMesh.Deadline);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Equal(0, mesh.ScoreFeed.Calls);
        Assert.DoesNotContain(mesh.ResolverBackend.Arrivals, a => a.Contains("internal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PartitionWriterApply_OverGrpcWeb_UnimplementedAndNeverForwarded()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new PartitionWriter.PartitionWriterClient(mesh.WebChannel());

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.ApplyAsync(new ApplyBatch { Partition = 1 }, deadline: TestMesh.Deadline).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Equal(0, mesh.PartitionWriter.Calls);
    }

    [Fact]
    public async Task UnknownService_NativeGrpc_Unimplemented()
    {
        await using var mesh = await TestMesh.StartAsync();
        var method = new Method<TopRequest, BoardPage>(MethodType.Unary, "veltrix.v1.Nowhere", "Top",
            Marshallers.Create(r => r.ToByteArray(), TopRequest.Parser.ParseFrom),
            Marshallers.Create(r => r.ToByteArray(), BoardPage.Parser.ParseFrom));
        var invoker = mesh.NativeChannel().CreateCallInvoker();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            invoker.AsyncUnaryCall(method, null, new CallOptions(deadline: TestMesh.Deadline), new TopRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task UnknownPath_PlainHttpOnWebPort_NotFound()
    {
        await using var mesh = await TestMesh.StartAsync();

        using var response = await mesh.WebClient().GetAsync(new Uri("/veltrix.v1.internal.ScoreFeed/Subscribe", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterAnUnroutedCall_CountIt()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = mesh.WebClient();
        using (await client.GetAsync(new Uri("/no/such/path", UriKind.Relative)))
        {
        }

        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("veltrix_gateway_unrouted_total 1", metrics, StringComparison.Ordinal);
    }
}
