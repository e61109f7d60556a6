using Microsoft.Extensions.Configuration;
using Veltrix.ServiceDefaults;

namespace Veltrix.Ingest.Tests;

/// <summary>The static partition map of ServiceDefaults (no test project of its own; ingest is its first router).</summary>
public sealed class PartitionMapTests
{
    private static MeshOptions Mesh(int partitions, params string[] resolvers) => new() { Partitions = partitions, Resolvers = [.. resolvers] };

    [Fact]
    public void OwnerOf_EightPartitionsThreeInstances_PartitionModuloInstanceCount()
    {
        var map = new PartitionMap(Mesh(8, "http://r0:1", "http://r1:1", "http://r2:1"));

        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1], Enumerable.Range(0, 8).Select(map.OwnerOf));
    }

    [Fact]
    public void PartitionsOf_EveryInstance_EachPartitionExactlyOnceAndOwnedByItsOwner()
    {
        var map = new PartitionMap(Mesh(8, "http://r0:1", "http://r1:1", "http://r2:1"));

        Assert.Equal([0, 3, 6], map.PartitionsOf(0));
        Assert.Equal([1, 4, 7], map.PartitionsOf(1));
        Assert.Equal([2, 5], map.PartitionsOf(2));
        var all = Enumerable.Range(0, 3).SelectMany(o => map.PartitionsOf(o).Select(p => (Partition: p, Owner: o))).ToList();
        Assert.Equal(Enumerable.Range(0, 8), all.Select(x => x.Partition).Order());
        Assert.All(all, x => Assert.Equal(x.Owner, map.OwnerOf(x.Partition)));
    }

    [Fact]
    public void AddressOf_ListedInstances_IndexIsOrdinal()
    {
        var map = new PartitionMap(Mesh(4, "http://a:1", "https://b:2"));

        Assert.Equal(2, map.InstanceCount);
        Assert.Equal("http://a:1", map.AddressOf(0));
        Assert.Equal("https://b:2", map.AddressOf(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.AddressOf(2));
    }

    [Fact]
    public void Constructor_NoResolversListed_SingleResolverAddressIsInstanceZeroOwningAll()
    {
        var map = new PartitionMap(new MeshOptions { Partitions = 4, Resolver = "http://127.0.0.1:9720" });

        Assert.Equal(1, map.InstanceCount);
        Assert.Equal("http://127.0.0.1:9720", map.AddressOf(0));
        Assert.Equal([0, 1, 2, 3], map.PartitionsOf(0));
    }

    [Fact]
    public void Validate_MoreInstancesThanPartitions_Refused()
    {
        var error = PartitionMap.Validate(Mesh(2, "http://a:1", "http://b:1", "http://c:1"));

        Assert.NotNull(error);
        Assert.Contains("3 instances for 2 partitions", error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new PartitionMap(Mesh(2, "http://a:1", "http://b:1", "http://c:1")));
    }

    [Theory]
    [InlineData("127.0.0.1:7720")]
    [InlineData("/relative")]
    [InlineData("ftp://a:1")]
    [InlineData("")]
    public void Validate_AddressNotAbsoluteHttp_RefusedNamingTheKey(string address)
    {
        var error = PartitionMap.Validate(Mesh(4, "http://a:1", address));

        Assert.NotNull(error);
        Assert.Contains("Veltrix:Mesh:Resolvers:1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadSingleResolverAddress_RefusedNamingResolver()
    {
        var error = PartitionMap.Validate(new MeshOptions { Resolver = "not a uri" });

        Assert.Contains("Veltrix:Mesh:Resolver ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DefaultOptions_Valid() => Assert.Null(PartitionMap.Validate(new MeshOptions()));

    [Fact]
    public void Binding_ResolversFromConfigurationKeys_ListInOrdinalOrder()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([
            new("Veltrix:Mesh:Partitions", "4"),
            new("Veltrix:Mesh:Resolvers:0", "http://127.0.0.1:7720"),
            new("Veltrix:Mesh:Resolvers:1", "http://127.0.0.1:7750"),
        ]).Build();

        var mesh = configuration.GetSection(MeshOptions.Section).Get<MeshOptions>()!;
        var map = new PartitionMap(mesh);

        Assert.Equal(["http://127.0.0.1:7720", "http://127.0.0.1:7750"], mesh.Resolvers);
        Assert.Equal("http://127.0.0.1:7750", map.AddressOf(map.OwnerOf(3)));
    }

    [Theory]
    [InlineData("veltrix-resolver-2", true, 2)]
    [InlineData("resolver-0", true, 0)]
    [InlineData("veltrix-resolver-12", true, 12)]
    [InlineData("vm", false, 0)]
    [InlineData("veltrix-resolver-", false, 0)]
    [InlineData("veltrix-resolver-2a", false, 0)]
    [InlineData("veltrix-resolver-+2", false, 0)]
    [InlineData("", false, 0)]
    [InlineData(null, false, 0)]
    public void TryParseOrdinal_HostName_TrailingDashNumberOnly(string? hostName, bool parsed, int ordinal)
    {
        Assert.Equal(parsed, PartitionMap.TryParseOrdinal(hostName, out var value));
        Assert.Equal(ordinal, value);
    }

    [Fact]
    public void ResolveOrdinal_Configured_WinsOverHostName()
    {
        var map = new PartitionMap(Mesh(4, "http://a:1", "http://b:1", "http://c:1"));

        Assert.Equal(1, map.ResolveOrdinal(1, "veltrix-resolver-2"));
    }

    [Fact]
    public void ResolveOrdinal_NotConfigured_StatefulSetPodNameGivesOrdinal()
    {
        var map = new PartitionMap(Mesh(4, "http://a:1", "http://b:1", "http://c:1"));

        Assert.Equal(2, map.ResolveOrdinal(null, "veltrix-resolver-2"));
        Assert.Equal(0, map.ResolveOrdinal(null, "laptop"));
    }

    [Fact]
    public void ResolveOrdinal_SingleInstance_HostNameNotConsulted()
    {
        var map = new PartitionMap(new MeshOptions());

        Assert.Equal(0, map.ResolveOrdinal(null, "build-7"));
    }

    [Fact]
    public void ResolveOrdinal_OutsideTheInstances_RefusedWithReason()
    {
        var map = new PartitionMap(Mesh(4, "http://a:1", "http://b:1"));

        var configured = Assert.Throws<ArgumentException>(() => map.ResolveOrdinal(2, null));
        var fromHost = Assert.Throws<ArgumentException>(() => map.ResolveOrdinal(null, "veltrix-resolver-5"));

        Assert.Contains("resolver ordinal 2", configured.Message, StringComparison.Ordinal);
        Assert.Contains("veltrix-resolver-5", fromHost.Message, StringComparison.Ordinal);
    }
}
