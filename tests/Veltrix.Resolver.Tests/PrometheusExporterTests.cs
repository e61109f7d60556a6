using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Veltrix.ServiceDefaults;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// The exporter behind every service's <c>/metrics</c>. The hosting and gRPC meters record a tagged
/// measurement per request, so recording must aggregate by tag set and allocate nothing for a tag set it
/// has seen (it used to format the labels of every measurement).
/// </summary>
public sealed class PrometheusExporterTests
{
    [Fact]
    public async Task Record_SameTagsAggregateDifferentTagsApart_OneSeriesPerTagSet()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        var meter = factory.Create("Veltrix.Test");
        var calls = meter.CreateCounter<long>("test.calls");

        calls.Add(2, new KeyValuePair<string, object?>("status", 200), new KeyValuePair<string, object?>("route", "/a"));
        calls.Add(3, new KeyValuePair<string, object?>("status", 200), new KeyValuePair<string, object?>("route", "/a"));
        calls.Add(5, new KeyValuePair<string, object?>("status", 500), new KeyValuePair<string, object?>("route", "/a"));
        calls.Add(7, new KeyValuePair<string, object?>("status", "200"), new KeyValuePair<string, object?>("route", "/a\"b"));
        calls.Add(11);

        var lines = (await ScrapeAsync(exporter)).Split('\n').Where(l => l.StartsWith("test_calls_total", StringComparison.Ordinal)).ToArray();

        Assert.Equal(
            [
                "test_calls_total 11",
                "test_calls_total{status=\"200\",route=\"/a\"} 5",
                "test_calls_total{status=\"200\",route=\"/a\\\"b\"} 7",
                "test_calls_total{status=\"500\",route=\"/a\"} 5",
            ],
            lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Record_KnownTagSet_AllocatesNothing()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        var meter = factory.Create("Veltrix.Test");
        var duration = meter.CreateHistogram<double>("test.duration", "s");
        var status = (object)200;
        var route = (object)"/veltrix.v1.Ingest/Publish";
        duration.Record(0.5, new KeyValuePair<string, object?>("status", status), new KeyValuePair<string, object?>("route", route));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            duration.Record(0.5, new KeyValuePair<string, object?>("status", status), new KeyValuePair<string, object?>("route", route));
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    private static async Task<string> ScrapeAsync(PrometheusExporter exporter)
    {
        var pipe = new Pipe();
        await exporter.WriteAsync(pipe.Writer, CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        var result = await pipe.Reader.ReadAtLeastAsync(int.MaxValue);
        return Encoding.UTF8.GetString(result.Buffer);
    }
}
