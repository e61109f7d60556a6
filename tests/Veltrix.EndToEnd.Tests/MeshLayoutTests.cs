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
                "--Veltrix:Storage:DataDir=/data/resolver",
            ],
            args);
    }

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
