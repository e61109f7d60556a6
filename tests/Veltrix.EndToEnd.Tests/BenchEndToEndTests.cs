using System.Reflection;
using System.Text.Json;
using Veltrix.Cli.Bench;
using Veltrix.Cli.Launch;
using Xunit.Abstractions;

namespace Veltrix.EndToEnd.Tests;

/// <summary>
/// <c>bench --smoke</c> in-process against the real processes, run from this build's JIT outputs (CI runs the
/// same check on the AOT binaries): short, and at a modest fixed rate so it leaves the machine to the other tests.
/// </summary>
public sealed class BenchEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputWriter _log = new(output);
    private readonly string _out = Directory.CreateTempSubdirectory("veltrix-bench-test-").FullName;

    [Fact]
    public async Task BenchSmoke_JitMesh_CompletesEveryEventAckedEveryServiceMeasuredReportWritten()
    {
        var repo = RepoLocator.Find(AppContext.BaseDirectory) ?? throw new InvalidOperationException("no Veltrix.slnx above the test assembly");
        var options = new BenchOptions
        {
            Load = new LoadSettings { Streams = 2, Batch = 64, InFlight = 2, Players = 256, Worlds = 8, Rate = 5_000 },
            Duration = TimeSpan.FromSeconds(3),
            Warmup = TimeSpan.FromSeconds(1),
            Smoke = true,
            RepoRoot = repo,
            BinDir = null,
            Configuration = BuildConfiguration,
            OutputDir = _out,
        };
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var runner = new BenchRunner(options, _log);

        var report = await runner.RunAsync(budget.Token);

        Assert.True(report.Completed, report.Failure);
        Assert.True(report.AllAcked, $"mesh: sent {report.Mesh?.TotalSent}, acked {report.Mesh?.TotalAcked}, errors {report.Mesh?.Errors} ({report.Mesh?.LastError})");
        Assert.True(report.Sink!.TotalAcked > 0);
        Assert.True(report.Mesh!.Acked > 0);
        Assert.Equal(report.Mesh.Acked, report.Mesh.Accepted + report.Mesh.Rejected + report.Mesh.Duplicate + report.Mesh.Malformed + report.Mesh.Unspecified);
        Assert.Equal(0, report.Mesh.Malformed);
        Assert.True(report.Mesh.LatencyUs.Count > 0);
        Assert.Equal(["resolver", "leaderboard", "spawn-timer", "ingest", "gateway"], report.Services.Select(s => s.Name));
        Assert.All(report.Services, s =>
        {
            Assert.NotNull(s.Gc);
            Assert.True(s.RssMaxMiB > 0);
            Assert.True(s.Threads > 0);
        });
        Assert.True(report.Services.Single(s => s.Name == "resolver").CpuSeconds > 0);
        Assert.Equal("veltrix-cli (load)", Assert.Single(report.Companions).Name);
        Assert.Equal(9, report.Budget.Count);

        Assert.NotNull(runner.ReportPath);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(runner.ReportPath, budget.Token));
        Assert.Equal(report.Mesh.TotalAcked, json.RootElement.GetProperty("mesh").GetProperty("totalAcked").GetInt64());
        Assert.Equal(5, json.RootElement.GetProperty("services").GetArrayLength());
        Assert.All(report.Services, s => Assert.False(Posix.IsAlive(s.Pid), $"{s.Name} (pid {s.Pid}) still runs"));
    }

    public void Dispose()
    {
        Directory.Delete(_out, recursive: true);
        _log.Dispose();
    }

    private static string BuildConfiguration =>
        typeof(BenchEndToEndTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
}
