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
// dotnet run -c Release --project bench/Classifier.Bench -- compare M1.onnx M2.onnx ...   (naive path on M1 vs OnnxT2Classifier on each model at batch 1/32/256,
//     wall and CPU time per alert, interleaved rounds; ROUNDS=n)
// dotnet run -c Release --project bench/Classifier.Bench -- graph BATCH M1.onnx M2.onnx ...   (one ORT Run per batch, no chunking: raw batch-size curve)
// dotnet run -c Release --project bench/Classifier.Bench -- profile [model] [batch] [runs]   (ORT profiler: µs per alert by op and node)
if (args.Length > 0 && args[0] == "profile")
{
    var model = args.Length > 1 ? args[1] : BenchData.ZtfModel().Onnx;
    OrtProfile.Run(model, args.Length > 2 ? int.Parse(args[2]) : 1, args.Length > 3 ? int.Parse(args[3]) : 200, Console.Out);
    return;
}
// attention [batch] [heads] [headDim]: Alerts' fused attention kernel alone on t2's [batch, 100, heads·headDim] (thread CPU µs per row)
if (args.Length > 0 && args[0] == "attention")
{
    int batch = args.Length > 1 ? int.Parse(args[1]) : 2, heads = args.Length > 2 ? int.Parse(args[2]) : 4, dh = args.Length > 3 ? int.Parse(args[3]) : 8;
    int n = batch * 100 * heads * dh;
    var rng = new Random(1);
    Span<float> Aligned() { unsafe { return new Span<float>(BenchData.AlignedRandomFloats(n, rng), n); } }
    Span<float> q = Aligned(), k = Aligned(), v = Aligned(), o = Aligned();
    var best = double.MaxValue;
    int rounds = int.TryParse(Environment.GetEnvironmentVariable("ROUNDS"), out var rr) ? rr : 50;
    var trace = new List<double>();
    for (int round = 0; round < rounds; round++)
    {
        var t0 = ThreadCpuClock.NowMicroseconds();
        for (int r = 0; r < 20; r++) Alerts.OrtKernels.ScaledDotProductAttention.Compute(q, k, v, o, batch, 100, heads, dh, 1f / MathF.Sqrt(dh));
        var us = (ThreadCpuClock.NowMicroseconds() - t0) / 20.0 / batch;
        trace.Add(us);
        best = Math.Min(best, us);
    }
    Console.WriteLine($"ScaledDotProductAttention [{batch}, 100, {heads}×{dh}]: best {best:0.0} µs per row (thread CPU, {rounds} rounds of 20 calls)");
    if (Environment.GetEnvironmentVariable("TRACE") == "1") Console.WriteLine(string.Join(" ", trace.Select(t => t.ToString("0"))));
    return;
}
if (args.Length > 2 && args[0] == "graph")
{
    // Any single-input float model (attention sub-graphs while prototyping). Sessions are built once and measured in
    // interleaved rounds (the machine is shared: every model sees the same load), thread CPU µs per batch row.
    int batch = int.Parse(args[1]);
    var models = args.Skip(2).ToArray();
    var runs = models.Select(model =>
    {
        var so = new OnnxT2Options().CreateSessionOptions();
        var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model, so);
        var name = session.InputNames[0];
        var dims = session.InputMetadata[name].Dimensions.Select(d => d < 0 ? batch : d).ToArray();
        var rng = new Random(1);
        var data = Enumerable.Range(0, dims.Aggregate(1, (a, d) => a * d)).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(data, dims.Select(d => (long)d).ToArray());
        return (Model: model, Session: session, Name: name, Input: input, Mins: new List<double>());
    }).ToArray();
    using var ro = new Microsoft.ML.OnnxRuntime.RunOptions();
    int rounds = int.TryParse(Environment.GetEnvironmentVariable("ROUNDS"), out var rr) ? rr : 15;
    for (int round = -1; round < rounds; round++)
        foreach (var r in runs)
        {
            double m = double.MaxValue;
            for (int k = 0; k < Math.Max(2, 16 / batch); k++)
            {
                var t0 = ThreadCpuClock.NowMicroseconds();
                using var res = r.Session.Run(ro, [r.Name], [r.Input], r.Session.OutputNames);
                m = Math.Min(m, ThreadCpuClock.NowMicroseconds() - t0);
            }
            if (round >= 0) r.Mins.Add(m / batch);
        }
    var baseMedian = 0.0;
    foreach (var r in runs)
    {
        r.Mins.Sort();
        double median = r.Mins[r.Mins.Count / 2];
        if (baseMedian == 0) baseMedian = median;
        Console.WriteLine($"{Path.GetFileName(r.Model),-40} batch {batch}: min {r.Mins[0],7:0.0}  median {median,7:0.0} µs per row (thread CPU; {rounds} interleaved rounds)  ratio {median / baseMedian:0.00}");
    }
    Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
    return;
}
if (args.Length > 1 && args[0] == "compare")
{
    Compare.Run(args.Skip(1).ToArray(), int.TryParse(Environment.GetEnvironmentVariable("ROUNDS"), out var rounds) ? rounds : 10, Console.Out);
    return;
}
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
