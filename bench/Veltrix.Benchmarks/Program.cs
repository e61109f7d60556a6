using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Veltrix.Benchmarks.ApplyBenchmarks).Assembly).Run(args);
