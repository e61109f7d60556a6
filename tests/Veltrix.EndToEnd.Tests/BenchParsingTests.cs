using Veltrix.Cli.Bench;

namespace Veltrix.EndToEnd.Tests;

/// <summary>What bench reads from the command line, /proc, the services' /metrics and redis-benchmark.</summary>
public sealed class BenchParsingTests
{
    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("500ms", 500)]
    [InlineData("90", 90_000)]
    [InlineData(" 60S ", 60_000)]
    [InlineData("0s", 0)]
    public void DurationTryParse_UnitOrPlainSeconds_GivesThatDuration(string text, long milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), BenchDuration.TryParse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-5s")]
    [InlineData("1.5s")]
    [InlineData("10x")]
    [InlineData("s")]
    [InlineData("99999999h")]
    public void DurationTryParse_NotADuration_GivesNull(string text)
    {
        Assert.Null(BenchDuration.TryParse(text));
    }

    [Theory]
    [InlineData(60_000, "1m")]
    [InlineData(90_000, "90s")]
    [InlineData(2_000, "2s")]
    [InlineData(250, "250ms")]
    public void DurationFormat_ParsesBackToTheSameDuration(long milliseconds, string expected)
    {
        var duration = TimeSpan.FromMilliseconds(milliseconds);

        var text = BenchDuration.Format(duration);

        Assert.Equal(expected, text);
        Assert.Equal(duration, BenchDuration.TryParse(text));
    }

    // Trimmed from a real /proc/PID/status of a Veltrix service.
    private const string Status = """
        Name:	Veltrix.Resolve
        Umask:	0022
        State:	S (sleeping)
        Tgid:	9575
        Pid:	9575
        VmPeak:	 2793364 kB
        VmHWM:	  131072 kB
        VmRSS:	  123456 kB
        RssAnon:	   80000 kB
        Threads:	27
        Cpus_allowed_list:	0-1
        voluntary_ctxt_switches:	6957
        nonvoluntary_ctxt_switches:	47558
        """;

    [Fact]
    public void ProcStatusParse_ServiceStatus_ReadsRssPeakSwitchesAndThreads()
    {
        var status = ProcStatus.Parse(Status);

        Assert.Equal(123_456, status.RssKb);
        Assert.Equal(131_072, status.PeakRssKb);
        Assert.Equal(6_957, status.VoluntarySwitches);
        Assert.Equal(47_558, status.InvoluntarySwitches);
        Assert.Equal(27, status.Threads);
    }

    [Fact]
    public void ProcStatusParse_ThreadStatusWithoutMemoryLines_ReadsSwitchesAndZeroRss()
    {
        var status = ProcStatus.Parse("Name:\t.NET TP Worker\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n");

        Assert.Equal(0, status.RssKb);
        Assert.Equal(12, status.VoluntarySwitches);
        Assert.Equal(3, status.InvoluntarySwitches);
    }

    [Fact]
    public void ProcStatCpuTicks_NameWithSpacesAndParentheses_SumsUtimeAndStime()
    {
        // Fields from 3 on: state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt, majflt, cmajflt, utime (14), stime (15), ...
        var stat = "4242 (odd (name) here) S 1 4242 4242 0 -1 4194560 1000 0 3 0 730 215 0 0 20 0 27 0 12345 2860331008 30139 18446744073709551615";

        Assert.Equal(945, ProcStat.CpuTicks(stat));
    }

    [Fact]
    public void ProcStatCpuTicks_NotAStatLine_GivesNull()
    {
        Assert.Null(ProcStat.CpuTicks("no parenthesis here"));
        Assert.Null(ProcStat.CpuTicks("1 (short) S 1 2"));
    }

    [Fact]
    public void SwitchDeltaBetween_ThreadsStartAndExit_SurvivorsByDifferenceNewOnesWholeExitedOnesUncounted()
    {
        var start = Sample(new() { [1] = (100, 10), [2] = (50, 5), [3] = (7, 7) });
        var end = Sample(new() { [1] = (160, 12), [2] = (50, 9), [4] = (20, 1) });

        var delta = SwitchDelta.Between(start, end);

        // Thread 1: +60/+2, thread 2: +0/+4, thread 4 (new): 20/1, thread 3 (exited): unknown, left out.
        Assert.Equal(80, delta.Voluntary);
        Assert.Equal(7, delta.Involuntary);
        Assert.Equal(87, delta.Total);
        Assert.Equal(3, delta.ThreadsSeen);
        Assert.Equal(1, delta.ThreadsExited);
        Assert.Equal(1, delta.ThreadsStarted);
    }

    [Fact]
    public void ProcessSampleRead_ThisProcess_SeesItsThreadsMemoryAndCpu()
    {
        var sample = ProcessSample.Read(Environment.ProcessId);

        Assert.NotNull(sample);
        Assert.True(sample.RssKb > 0, "no VmRSS");
        Assert.True(sample.CpuTicks > 0, "no CPU time");
        Assert.Contains(Environment.ProcessId, sample.Threads.Keys);
        Assert.True(sample.Threads.Count > 1, "a .NET process has more than one thread");
    }

    [Fact]
    public void ProcessSampleRead_NoSuchProcess_GivesNull()
    {
        Assert.Null(ProcessSample.Read(int.MaxValue));
        Assert.Null(ProcessSample.ReadRssKb(int.MaxValue));
    }

    // Lines the services' exporter (libs/Veltrix.ServiceDefaults/PrometheusExporter.cs) serves for the runtime meter.
    private const string Metrics = """
        # TYPE dotnet_gc_collections_total counter
        dotnet_gc_collections_total{gc_heap_generation="gen2"} 1
        dotnet_gc_collections_total{gc_heap_generation="gen1"} 3
        dotnet_gc_collections_total{gc_heap_generation="gen0"} 42
        # HELP dotnet_gc_heap_total_allocated_bytes_total The approximate number of bytes allocated.
        # TYPE dotnet_gc_heap_total_allocated_bytes_total counter
        dotnet_gc_heap_total_allocated_bytes_total 1393080
        dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation="loh"} 0
        dotnet_gc_pause_time_seconds_total 0.0195
        kestrel_queued_connections{server_address="127.0.0.1",server_port="41111",network_type="ipv4",network_transport="tcp"} -1
        veltrix_ingest_events_total 1.5e+06
        """;

    [Fact]
    public void GcCountersFrom_ExporterText_ReadsCollectionsPauseAndAllocation()
    {
        var gc = GcCounters.From(PrometheusText.Parse(Metrics));

        Assert.Equal(new GcCounters(42, 3, 1, 0.0195, 1_393_080), gc);
    }

    [Fact]
    public void PrometheusTextParse_LabelsAndExponents_ReadAsWritten()
    {
        var samples = PrometheusText.Parse(Metrics + "\nodd{path=\"a\\\"b,c\",x=\"1\"} 2 1700000000000\nnot a sample\n");

        var kestrel = Assert.Single(samples, s => s.Name == "kestrel_queued_connections");
        Assert.Equal(-1, kestrel.Value);
        Assert.Equal("41111", kestrel.Labels["server_port"]);
        Assert.Equal(1_500_000, Assert.Single(samples, s => s.Name == "veltrix_ingest_events_total").Value);
        var odd = Assert.Single(samples, s => s.Name == "odd");
        Assert.Equal("a\"b,c", odd.Labels["path"]);
        Assert.Equal(2, odd.Value);
        Assert.DoesNotContain(samples, s => s.Name == "not");
    }

    [Fact]
    public void GcCountersFrom_NoRuntimeMeter_GivesNull()
    {
        Assert.Null(GcCounters.From(PrometheusText.Parse("veltrix_ingest_events_total 5\n")));
    }

    [Fact]
    public void GcCountersMinus_TwoReadings_GivesWhatHappenedBetween()
    {
        var before = new GcCounters(40, 3, 1, 0.5, 1_000);
        var after = new GcCounters(45, 4, 1, 0.75, 9_000);

        Assert.Equal(new GcCounters(5, 1, 0, 0.25, 8_000), after.Minus(before));
    }

    [Fact]
    public void RedisBenchmarkParseCsv_RealOutput_ReadsTestRateAndLatencies()
    {
        const string csv = """
            "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            "SET","274725.28","2.819","0.672","2.399","4.839","8.327","9.119"
            "LPUSH","216450.20","3.631","1.568","2.663","7.671","10.007","10.575"
            """;

        var results = RedisBenchmark.ParseCsv(csv);

        Assert.Equal(
            [new RedisBenchmarkResult("SET", 274_725.28, 2.399, 8.327), new RedisBenchmarkResult("LPUSH", 216_450.20, 2.663, 10.007)],
            results);
    }

    private static ProcessSample Sample(Dictionary<int, (long, long)> threads) => new(0, 0, 0, 0, threads);
}
