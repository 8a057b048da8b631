using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Classifier.Bench -- --filter '*' --job short
BenchmarkSwitcher.FromAssembly(typeof(Alerts.Classifier.Bench.GpBenchmarks).Assembly).Run(args);
