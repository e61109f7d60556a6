namespace Veltrix.Cli.Launch;

/// <summary>One host of the mesh: where its build output is and which ports it takes.</summary>
public sealed record ServiceSpec(string Name, string ProjectDir, string Assembly, bool Aot, int GrpcOffset)
{
    public int GrpcPort(PortLayout ports) => ports.BasePort + GrpcOffset;

    public int HttpPort(PortLayout ports) => ports.BasePort + GrpcOffset + 1;
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
}
