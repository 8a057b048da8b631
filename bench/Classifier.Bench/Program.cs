using System.Diagnostics;
using Alerts.Classifier;
using Alerts.Classifier.Bench;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Classifier.Bench -- --filter '*' --job short
// dotnet run -c Release --project bench/Classifier.Bench -- quick    (a few seconds: per-alert inference µs by batch size, no statistics)
// dotnet run -c Release --project bench/Classifier.Bench -- gp-workload  (points per GP fit in the service's workloads, where a fit's time goes)
if (args.Length > 0 && args[0] == "gp-workload") { GpWorkloads.Report(); return; }
// gp-compare [rounds]: before (reference copy) vs current extractor per workload, interleaved in one process
if (args.Length > 0 && args[0] == "gp-compare") { GpWorkloads.Compare(args.Length > 1 ? int.Parse(args[1]) : 10); return; }
// gp-loop [seconds]: extracts the bench-e2e alert mix in a loop (for a profiler: DOTNET_PerfMapEnabled=1 perf record ...)
if (args.Length > 0 && args[0] == "gp-loop") { GpWorkloads.Loop(args.Length > 1 ? double.Parse(args[1]) : 10); return; }
if (args.Length > 0 && args[0] == "quick")
{
    var (onnx, _) = BenchData.ZtfModel();
    var rng = new Random(1);
    var x = Enumerable.Range(0, 256 * 200).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    var p = new float[256 * 14];
    var deployed = Path.ChangeExtension(onnx, ".deployed.ort");
    foreach (var (model, b) in new[] { 1, 2, 4, 8, 16, 32, 64, 256 }.Select(b => (onnx, b))
                 .Concat(File.Exists(deployed) ? new[] { 1, 32, 256 }.Select(b => (deployed, b)) : []))
    {
        using var c = new OnnxT2Classifier(model, new OnnxT2Options { MaxBatchSize = b });
        c.Predict(x, 256, p);
        var best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            var sw = Stopwatch.StartNew();
            c.Predict(x, 256, p);
            best = Math.Min(best, sw.Elapsed.TotalMicroseconds / 256);
        }
        Console.WriteLine($"{Path.GetFileName(model)} batch {b,4}: {best,8:0.0} µs/alert  ({1e6 / best:0} alerts/s/core)");
    }
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(GpBenchmarks).Assembly).Run(args);
