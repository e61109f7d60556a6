namespace Veltrix.Cli.Launch;

/// <summary>How <see cref="Mesh"/> starts the services.</summary>
public sealed record MeshSettings
{
    /// <summary>The repository root (the folder holding Veltrix.slnx); the hosts' build output is found under it.</summary>
    public required string RepoRoot { get; init; }

    /// <summary>Where logs and service state go (<c>logs/</c>, <c>resolver/</c>).</summary>
    public required string DataDir { get; init; }

    /// <summary>The gateway's gRPC port; every other port is derived from it (<see cref="PortLayout"/>).</summary>
    public int BasePort { get; init; } = PortLayout.DefaultBasePort;

    /// <summary>Build configuration whose output is run: <c>bin/{Configuration}/net10.0/{Assembly}.dll</c>.</summary>
    public string Configuration { get; init; } = "Release";

    /// <summary>
    /// When set, the AOT hosts run as native executables <c>{BinDir}/{Assembly}</c>, or
    /// <c>{BinDir}/{Assembly}/{Assembly}</c> when that is a publish folder (CI's smoke test);
    /// spawn-timer is never AOT and still runs from its dll.
    /// </summary>
    public string? BinDir { get; init; }

    /// <summary>More <c>--Key=value</c> arguments for every resolver instance, e.g. the Redis store's (bench --redis).</summary>
    public IReadOnlyList<string> ResolverArguments { get; init; } = [];

    /// <summary>More <c>--Key=value</c> arguments for the spawn timer, e.g. its pending limit (bench timers).</summary>
    public IReadOnlyList<string> SpawnTimerArguments { get; init; } = [];

    /// <summary>
    /// Start only these services, in this order; the addresses of the others still follow the port layout,
    /// where a bench may put a stand-in (bench timers runs the spawn timer against a stand-in resolver).
    /// Null: the whole mesh.
    /// </summary>
    public IReadOnlyList<ServiceSpec>? Only { get; init; }

    /// <summary>Worlds the spawn timer keeps seeded with treasures (the bots' worlds).</summary>
    public IReadOnlyList<string> SpawnWorlds { get; init; } = [];

    public const int DefaultPartitions = 8;

    public int Partitions { get; init; } = DefaultPartitions;

    /// <summary>Resolver instances (1..<see cref="Partitions"/>); partition p is owned by instance p % Resolvers.</summary>
    public int Resolvers { get; init; } = 1;

    /// <summary>How long one service may take to answer <c>/healthz</c>.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the services get to exit after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The <c>dotnet</c> host that runs the dlls.</summary>
    public string DotnetHost { get; init; } = DotnetHostLocator.Find();
}

/// <summary>
/// Ports of the mesh, all derived from the gateway's gRPC port (the launcher's layout), for <c>Resolvers</c>
/// resolver instances: the first at P+20, the others from P+50 on (<see cref="ServiceCatalog.ResolverInstance"/>).
/// </summary>
public readonly record struct PortLayout(int BasePort, int Resolvers = 1)
{
    public const int DefaultBasePort = 7700;

    /// <summary>The highest offset used with one resolver: spawn-timer's HTTP port.</summary>
    public const int Span = 41;

    /// <summary>gRPC offset of resolver instance 1; instance i takes two ports from here on.</summary>
    public const int ExtraResolverOffset = 50;

    public int GatewayGrpc => BasePort;
    public int GatewayHttp => BasePort + 1;
    public int IngestGrpc => BasePort + 10;
    public int IngestHttp => BasePort + 11;
    public int ResolverGrpc => BasePort + 20;
    public int ResolverHttp => BasePort + 21;
    public int LeaderboardGrpc => BasePort + 30;
    public int LeaderboardHttp => BasePort + 31;
    public int SpawnTimerGrpc => BasePort + 40;
    public int SpawnTimerHttp => BasePort + 41;

    /// <summary>The highest offset used with <paramref name="resolvers"/> resolver instances.</summary>
    public static int SpanFor(int resolvers) => resolvers <= 1 ? Span : ExtraResolverOffset + 2 * (resolvers - 2) + 1;

    /// <summary>gRPC port of resolver instance <paramref name="ordinal"/>.</summary>
    public int ResolverGrpcOf(int ordinal) => ServiceCatalog.ResolverInstance(ordinal).GrpcPort(this);

    public IEnumerable<int> All()
    {
        yield return GatewayGrpc;
        yield return GatewayHttp;
        yield return IngestGrpc;
        yield return IngestHttp;
        yield return ResolverGrpc;
        yield return ResolverHttp;
        yield return LeaderboardGrpc;
        yield return LeaderboardHttp;
        yield return SpawnTimerGrpc;
        yield return SpawnTimerHttp;
        for (var i = 1; i < Resolvers; i++)
        {
            var resolver = ServiceCatalog.ResolverInstance(i);
            yield return resolver.GrpcPort(this);
            yield return resolver.HttpPort(this);
        }
    }
}

/// <summary>Finds the <c>dotnet</c> host: the one running us when it is <c>dotnet</c>, else the SDK's, else PATH.</summary>
public static class DotnetHostLocator
{
    public static string Find()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }
        return "dotnet";
    }
}

/// <summary>Finds the repository root by walking up to the folder that holds Veltrix.slnx.</summary>
public static class RepoLocator
{
    public static string? Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Veltrix.slnx")))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
