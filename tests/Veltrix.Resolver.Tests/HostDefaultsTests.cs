using Grpc.Health.V1;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>What every host gets from ServiceDefaults, checked on the resolver.</summary>
public sealed class HostDefaultsTests(ResolverFixture resolver) : IClassFixture<ResolverFixture>
{
    [Fact]
    public async Task Health_GrpcCheck_Serving()
    {
        var health = new Health.HealthClient(resolver.Channel);

        var reply = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Metrics_AfterEvents_PrometheusTextWithOutcomeCountersAndRuntimeGc()
    {
        var world = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        await resolver.Writer.ApplyAsync(Batch(world, Join(world, "a", 1).Stamp(), Dig(world, "a", 2).Stamp()));
        using var http = resolver.CreateHttpClient();

        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("# TYPE veltrix_resolver_events_total counter", text, StringComparison.Ordinal);
        var accepted = text.Split('\n').Single(l => l.StartsWith("veltrix_resolver_events_total{outcome=\"accepted\"}", StringComparison.Ordinal));
        Assert.True(long.Parse(accepted.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains("veltrix_resolver_events_total{outcome=\"rejected\"}", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_heap_total_allocated", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_Http_Ok()
    {
        using var http = resolver.CreateHttpClient();

        // Unhealthy (503, "recovering") for the moment the partitions open their logs, then ok.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage response;
        while ((response = await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode != System.Net.HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }
}
