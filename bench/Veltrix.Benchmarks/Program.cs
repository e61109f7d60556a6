using BenchmarkDotNet.Running;
using Veltrix.Benchmarks;

// `recovery` measures recovery and rollback at scale; anything else goes to BenchmarkDotNet.
return args.Length > 0 && args[0] == "recovery"
    ? await RecoveryMeasure.RunAsync(args[1..])
    : RunBenchmarks(args);

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(ApplyBenchmarks).Assembly).Run(args);
    return 0;
}
