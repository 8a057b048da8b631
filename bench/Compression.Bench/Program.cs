using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Alerts.Compression.Bench.InferenceBenchmarks).Assembly).Run(args);
