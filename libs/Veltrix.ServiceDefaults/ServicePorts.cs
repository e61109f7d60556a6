namespace Veltrix.ServiceDefaults;

/// <summary>A service's gRPC (h2c) and HTTP/1.1 ports.</summary>
public readonly record struct ServicePorts(int Grpc, int Http)
{
    // The one-machine layout from base 7700 that ./veltrix up uses and outside clients rely on.
    public static readonly ServicePorts Gateway = new(7700, 7701);
    public static readonly ServicePorts Ingest = new(7710, 7711);
    public static readonly ServicePorts Resolver = new(7720, 7721);
    public static readonly ServicePorts Leaderboard = new(7730, 7731);
    public static readonly ServicePorts SpawnTimer = new(7740, 7741);
}
