using HdrHistogram;
using Veltrix.Cli.Bench;

namespace Veltrix.EndToEnd.Tests;

/// <summary>The budget's verdicts (DESIGN.md section 7) and the latency percentiles they read.</summary>
public sealed class BenchBudgetTests
{
    private static readonly BudgetInputs WithinBudget = new()
    {
        EventsPerSecond = 1_200_000,
        P999Us = 1_500,
        SinkEventsPerSecond = 3_000_000,
        AllocatedBytesPerEvent = 40,
        AllocatedBytesPerSecond = 48_000_000,
        Gen2 = 0,
        GcPausePercent = 0.05,
        ContextSwitchesPerMillionEvents = 900,
        RssMaxMiB = 200,
        RssMaxService = "resolver",
        Players = 1_000_000,
        WindowSeconds = 60,
    };

    [Fact]
    public void Evaluate_EveryFigureWithinBudget_EveryRowMet()
    {
        var rows = Budget.Evaluate(WithinBudget);

        Assert.Equal(9, rows.Count);
        Assert.All(rows, r => Assert.Equal(Budget.Met, r.Verdict));
    }

    [Fact]
    public void Evaluate_ThroughputBetweenFloorAndTarget_FloorMetAndOnlyTheFloorLatencyRowMet()
    {
        var rows = Budget.Evaluate(WithinBudget with { EventsPerSecond = 400_000 });

        Assert.Equal(Budget.FloorMet, Verdict(rows, "durable throughput"));
        Assert.Equal([Budget.Met, Budget.NotMet], Verdicts(rows, "ack latency p99.9"));
    }

    [Fact]
    public void Evaluate_BelowTheFloor_ThroughputAndBothLatencyRowsNotMet()
    {
        var rows = Budget.Evaluate(WithinBudget with { EventsPerSecond = 100_000, P999Us = 500 });

        Assert.Equal(Budget.NotMet, Verdict(rows, "durable throughput"));
        Assert.Equal([Budget.NotMet, Budget.NotMet], Verdicts(rows, "ack latency p99.9"));
        Assert.Contains("did not reach", rows.First(r => r.What.StartsWith("ack latency", StringComparison.Ordinal)).Measured);
    }

    [Fact]
    public void Evaluate_FlatOutAboveTheRateWithSlowTail_LatencyOpenNotFailed()
    {
        // Saturated at 1.2M/s with a 5 ms tail says nothing about p99.9 at 320k/s.
        var rows = Budget.Evaluate(WithinBudget with { P999Us = 5_000 });

        Assert.Equal([Budget.Open, Budget.Met], Verdicts(rows, "ack latency p99.9"));
    }

    [Fact]
    public void Evaluate_PacedAtTheFloorWithSlowTail_FloorLatencyNotMet()
    {
        var rows = Budget.Evaluate(WithinBudget with { EventsPerSecond = 319_000, TargetRate = 320_000, P999Us = 5_000 });

        Assert.Equal([Budget.NotMet, Budget.NotMet], Verdicts(rows, "ack latency p99.9"));
    }

    [Fact]
    public void Evaluate_UnderAThirdOfTheSink_CeilingRowNotMet()
    {
        var rows = Budget.Evaluate(WithinBudget with { SinkEventsPerSecond = 3_700_000 });

        Assert.Equal(Budget.NotMet, Verdict(rows, "versus the transport ceiling"));
    }

    [Fact]
    public void Evaluate_AllocationGcAndSwitchesOver_ThoseRowsNotMet()
    {
        var rows = Budget.Evaluate(WithinBudget with
        {
            AllocatedBytesPerEvent = 65,
            Gen2 = 1,
            GcPausePercent = 0.2,
            ContextSwitchesPerMillionEvents = 1_024,
        });

        Assert.Equal(Budget.NotMet, Verdict(rows, "allocation"));
        Assert.Equal(Budget.NotMet, Verdict(rows, "GC gen2"));
        Assert.Equal(Budget.NotMet, Verdict(rows, "GC pause"));
        Assert.Equal(Budget.NotMet, Verdict(rows, "context switches"));
    }

    [Fact]
    public void Evaluate_ShortRunWithoutGen2_Gen2RowOpen()
    {
        var rows = Budget.Evaluate(WithinBudget with { WindowSeconds = 10 });

        Assert.Equal(Budget.Open, Verdict(rows, "GC gen2"));
    }

    [Fact]
    public void Evaluate_FewerPlayersThanTheBudgetsMillion_MemoryOpenUnlessAlreadyOver()
    {
        Assert.Equal(Budget.Open, Verdict(Budget.Evaluate(WithinBudget with { Players = 16_384 }), "memory"));
        Assert.Equal(Budget.NotMet, Verdict(Budget.Evaluate(WithinBudget with { Players = 16_384, RssMaxMiB = 300 }), "memory"));
    }

    [Fact]
    public void Evaluate_NoSinkAndNoMetrics_ThoseRowsOpen()
    {
        var rows = Budget.Evaluate(WithinBudget with { SinkEventsPerSecond = null, AllocatedBytesPerEvent = null, Gen2 = null, GcPausePercent = null });

        Assert.Equal(Budget.Open, Verdict(rows, "versus the transport ceiling"));
        Assert.Equal(Budget.Open, Verdict(rows, "allocation"));
        Assert.Equal(Budget.Open, Verdict(rows, "GC gen2"));
        Assert.Equal(Budget.Open, Verdict(rows, "GC pause"));
    }

    [Fact]
    public void Summarize_OneToAThousandMicroseconds_ExactPercentiles()
    {
        var histogram = new LongHistogram(1, LoadStats.HighestLatencyUs, 3);
        for (var v = 1; v <= 1_000; v++)
        {
            histogram.RecordValue(v);
        }

        var summary = BenchRunner.Summarize(histogram);

        // Three significant digits keep every value below 2,048 exact.
        Assert.Equal(new LatencySummary(1_000, 500.5, 500, 990, 999, 1_000), summary);
    }

    [Fact]
    public void Summarize_Empty_AllZero()
    {
        Assert.Equal(new LatencySummary(0, 0, 0, 0, 0, 0), BenchRunner.Summarize(new LongHistogram(1, LoadStats.HighestLatencyUs, 3)));
    }

    [Fact]
    public void LoadStatsRecorder_ConcurrentWriters_KeepEveryValue()
    {
        var stats = new LoadStats();

        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                stats.Latency.RecordValue(1 + i % 5_000);
            }
        });

        Assert.Equal(80_000, stats.Latency.GetIntervalHistogram().TotalCount);
        Assert.Equal(0, stats.Latency.GetIntervalHistogram().TotalCount);
    }

    private static string Verdict(IReadOnlyList<BudgetRow> rows, string what) =>
        Assert.Single(rows, r => r.What.StartsWith(what, StringComparison.Ordinal)).Verdict;

    private static string[] Verdicts(IReadOnlyList<BudgetRow> rows, string what) =>
        [.. rows.Where(r => r.What.StartsWith(what, StringComparison.Ordinal)).Select(r => r.Verdict)];
}
