using Veltrix.Cli.Launch;

namespace Veltrix.EndToEnd.Tests;

public sealed class MeshLayoutTests
{
    private static readonly Mesh Mesh = new(
        new MeshSettings { RepoRoot = "/repo", DataDir = "/data", BasePort = 8800, SpawnWorlds = ["world-0", "world-1"] },
        TextWriter.Null);

    [Fact]
    public void ArgumentsFor_Resolver_PortsFromLayoutMeshAddressesAndDataDir()
    {
        var args = Mesh.ArgumentsFor(ServiceCatalog.Resolver);

        Assert.Equal(
            [
                "--Veltrix:Host:GrpcPort=8820",
                "--Veltrix:Host:HttpPort=8821",
                "--Veltrix:Mesh:Ingest=http://127.0.0.1:8810",
                "--Veltrix:Mesh:Resolver=http://127.0.0.1:8820",
                "--Veltrix:Mesh:Leaderboard=http://127.0.0.1:8830",
                "--Veltrix:Mesh:SpawnTimer=http://127.0.0.1:8840",
                "--Veltrix:Mesh:Partitions=8",
                "--Veltrix:Mesh:Resolvers:0=http://127.0.0.1:8820",
                "--Veltrix:Resolver:Ordinal=0",
                "--Veltrix:Storage:DataDir=/data/resolver",
            ],
            args);
    }

    [Fact]
    public void ArgumentsFor_TwoResolvers_SecondAboveEveryOtherServiceWithOwnOrdinalAndDataDir()
    {
        var mesh = new Mesh(new MeshSettings { RepoRoot = "/repo", DataDir = "/data", BasePort = 8800, Resolvers = 2 }, TextWriter.Null);
        var second = ServiceCatalog.ResolverInstance(1);

        var args = mesh.ArgumentsFor(second);

        Assert.Contains("--Veltrix:Host:GrpcPort=8850", args);
        Assert.Contains("--Veltrix:Host:HttpPort=8851", args);
        Assert.Contains("--Veltrix:Resolver:Ordinal=1", args);
        Assert.Contains("--Veltrix:Storage:DataDir=/data/resolver-1", args);
        // Instance 0 keeps the single resolver's ports and folder, so existing data still opens.
        Assert.Contains("--Veltrix:Storage:DataDir=/data/resolver", mesh.ArgumentsFor(ServiceCatalog.Resolver));
        Assert.Contains("--Veltrix:Host:GrpcPort=8820", mesh.ArgumentsFor(ServiceCatalog.Resolver));
    }

    [Fact]
    public void ArgumentsFor_TwoResolvers_EveryServiceGetsBothAddressesInOrdinalOrder()
    {
        var mesh = new Mesh(new MeshSettings { RepoRoot = "/repo", DataDir = "/data", BasePort = 8800, Resolvers = 2 }, TextWriter.Null);

        Assert.All(mesh.Services, spec =>
        {
            var args = mesh.ArgumentsFor(spec);
            Assert.Contains("--Veltrix:Mesh:Resolvers:0=http://127.0.0.1:8820", args);
            Assert.Contains("--Veltrix:Mesh:Resolvers:1=http://127.0.0.1:8850", args);
            Assert.DoesNotContain(args, a => a.StartsWith("--Veltrix:Mesh:Resolvers:2", StringComparison.Ordinal));
        });
    }

    [Fact]
    public void Services_ThreeResolvers_AllResolversFirstThenTheRest()
    {
        var mesh = new Mesh(new MeshSettings { RepoRoot = "/repo", DataDir = "/data", Resolvers = 3 }, TextWriter.Null);

        Assert.Equal(["resolver", "resolver-1", "resolver-2", "leaderboard", "spawn-timer", "ingest", "gateway"], mesh.Services.Select(s => s.Name));
    }

    [Fact]
    public void Ports_EightResolvers_NoPortTakenTwiceAndSpanCoversThemAll()
    {
        var layout = new PortLayout(8800, 8);

        var ports = layout.All().ToList();

        Assert.Equal(10 + 2 * 7, ports.Count);
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.Equal(8800 + PortLayout.SpanFor(8), ports.Max());
        Assert.Equal(8800 + PortLayout.Span, new PortLayout(8800).All().Max());
    }

    [Fact]
    public void Mesh_MoreResolversThanPartitions_Refused() =>
        Assert.Throws<ArgumentException>(() => new Mesh(new MeshSettings { RepoRoot = "/repo", DataDir = "/data", Partitions = 2, Resolvers = 3 }, TextWriter.Null));

    [Fact]
    public void ArgumentsFor_SpawnTimer_ListsTheBotsWorlds() =>
        Assert.Contains("--Veltrix:SpawnTimer:Worlds=world-0,world-1", Mesh.ArgumentsFor(ServiceCatalog.SpawnTimer));

    [Fact]
    public void ArgumentsFor_Gateway_TakesBasePortAndNextForWeb()
    {
        var args = Mesh.ArgumentsFor(ServiceCatalog.Gateway);

        Assert.Contains("--Veltrix:Host:GrpcPort=8800", args);
        Assert.Contains("--Veltrix:Host:HttpPort=8801", args);
    }

    [Fact]
    public void CommandFor_WithBinDir_NativeForAotHostsDllForSpawnTimer()
    {
        var mesh = new Mesh(new MeshSettings { RepoRoot = "/repo", DataDir = "/data", BinDir = "/native", Configuration = "Debug" }, TextWriter.Null);

        Assert.Equal("/native/Veltrix.Resolver", mesh.CommandFor(ServiceCatalog.Resolver).Path);
        Assert.Equal("/repo/services/spawn-timer/bin/Debug/net10.0/Veltrix.SpawnTimer.dll", mesh.CommandFor(ServiceCatalog.SpawnTimer).Path);
    }

    [Fact]
    public void StartOrder_DependenciesFirst_GatewayLast() =>
        Assert.Equal(["resolver", "leaderboard", "spawn-timer", "ingest", "gateway"], ServiceCatalog.StartOrder.Select(s => s.Name));
}
