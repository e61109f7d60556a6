namespace Veltrix.Cli.Launch;

/// <summary>
/// One host of the mesh: where its build output is and which ports it takes, and which instance of its kind
/// it is (<c>Instance</c>: the resolver's ordinal; 0 for the services that run once).
/// </summary>
public sealed record ServiceSpec(string Name, string ProjectDir, string Assembly, bool Aot, int GrpcOffset, int Instance = 0)
{
    public int GrpcPort(PortLayout ports) => ports.BasePort + GrpcOffset;

    public int HttpPort(PortLayout ports) => ports.BasePort + GrpcOffset + 1;

    public bool IsResolver => Assembly == ServiceCatalog.Resolver.Assembly;
}

public static class ServiceCatalog
{
    public static readonly ServiceSpec Resolver = new("resolver", "services/resolver", "Veltrix.Resolver", Aot: true, GrpcOffset: 20);
    public static readonly ServiceSpec Leaderboard = new("leaderboard", "services/leaderboard", "Veltrix.Leaderboard", Aot: true, GrpcOffset: 30);
    public static readonly ServiceSpec SpawnTimer = new("spawn-timer", "services/spawn-timer", "Veltrix.SpawnTimer", Aot: false, GrpcOffset: 40);
    public static readonly ServiceSpec Ingest = new("ingest", "services/ingest", "Veltrix.Ingest", Aot: true, GrpcOffset: 10);
    public static readonly ServiceSpec Gateway = new("gateway", "gateway", "Veltrix.Gateway", Aot: true, GrpcOffset: 0);

    /// <summary>Start order: each service finds the ones it calls already listening.</summary>
    public static IReadOnlyList<ServiceSpec> StartOrder { get; } = [Resolver, Leaderboard, SpawnTimer, Ingest, Gateway];

    /// <summary>
    /// Resolver instance <paramref name="ordinal"/>: instance 0 is <see cref="Resolver"/> (ports P+20/P+21, as
    /// outside scripts know them); instance i from 1 on takes P+50+2(i-1) / P+51+2(i-1), above every other service.
    /// </summary>
    public static ServiceSpec ResolverInstance(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return ordinal == 0
            ? Resolver
            : Resolver with { Name = "resolver-" + ordinal, GrpcOffset = PortLayout.ExtraResolverOffset + 2 * (ordinal - 1), Instance = ordinal };
    }

    /// <summary>The start order with <paramref name="resolvers"/> resolver instances, all of them first.</summary>
    public static IReadOnlyList<ServiceSpec> StartOrderFor(int resolvers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolvers, 1);
        var order = new List<ServiceSpec>(StartOrder.Count + resolvers - 1);
        for (var i = 0; i < resolvers; i++)
        {
            order.Add(ResolverInstance(i));
        }
        order.AddRange(StartOrder.Where(s => !s.IsResolver));
        return order;
    }
}
