using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Alerts.Classifier.Bench;

/// <summary>
/// `compare`: the inference-latency figures of bench/README.md without BenchmarkDotNet's minutes. The naive path (default SessionOptions = ORT's
/// intra-op pool on every core, a new DenseTensor + NamedOnnxValue per alert, batch 1) on the first model, and
/// <see cref="OnnxT2Classifier"/> (service options: 1 intra-op thread, runs of ExecutionBatchSize rows) on every model
/// at batch 1/32/256. Each is timed by wall clock and by CPU time: process CPU for the naive path (its pool threads
/// work, or spin, on the other core), calling-thread CPU for the classifier (it runs the graph on the caller).
/// "Per core" compares CPU times. Rounds are interleaved so every configuration sees the same machine load; the
/// figure is the median over rounds of each round's best of two 256-alert passes.
/// </summary>
public static class Compare
{
    private const int Alerts = 256;

    public static void Run(string[] models, int rounds, TextWriter w)
    {
        using var naive = new InferenceSession(models[0]);
        var inputName = naive.InputNames[0];
        var dims = naive.InputMetadata[inputName].Dimensions;   // [batch, steps, bands]: ZTF [-1, 100, 2], Rubin [-1, 100, 6]
        int steps = dims[1], bands = dims[2], size = steps * bands;
        var rng = new Random(1);
        var x = Enumerable.Range(0, Alerts * size).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var p = new float[Alerts * 14];
        var batches = new[] { 1, 32, 256 };

        float[]? reference = null;
        foreach (var model in models)
        {
            using var c = new OnnxT2Classifier(model);
            c.Predict(x, Alerts, p);
            reference ??= (float[])p.Clone();
            w.WriteLine($"{Path.GetFileName(model),-36} max |p - p[{Path.GetFileName(models[0])}]| = {p.Zip(reference, (a, r) => Math.Abs(a - r)).Max():E2}");
        }

        // EXECUTION_SIZES=1,2,4,8: instead of batch 1/32/256, batch 32 with those OnnxT2Options.ExecutionBatchSize values.
        var exec = Environment.GetEnvironmentVariable("EXECUTION_SIZES")?.Split(',').Select(int.Parse).ToArray();
        var classifiers = exec is null
            ? models.SelectMany(m => batches.Select(b => (Model: m, Batch: b, C: new OnnxT2Classifier(m, new OnnxT2Options { MaxBatchSize = b })))).ToList()
            : models.SelectMany(m => exec.Select(e => (Model: m, Batch: e, C: new OnnxT2Classifier(m, new OnnxT2Options { MaxBatchSize = 32, ExecutionBatchSize = e })))).ToList();
        if (exec is not null) w.WriteLine("batch 32 throughout; the batch column is ExecutionBatchSize (rows per ORT run)");
        var naiveWall = new List<double>(); var naiveCpu = new List<double>();
        var wall = classifiers.ToDictionary(c => (c.Model, c.Batch), _ => new List<double>());
        var cpu = classifiers.ToDictionary(c => (c.Model, c.Batch), _ => new List<double>());
        var proc = Process.GetCurrentProcess();

        void NaivePass()
        {
            for (int a = 0; a < Alerts; a++)
            {
                var t = new DenseTensor<float>(x.AsMemory(a * size, size), [1, steps, bands]);
                using var r = naive.Run([NamedOnnxValue.CreateFromTensor(inputName, t)]);
                p[0] = r[0].AsEnumerable<float>().First();
            }
        }

        NaivePass();
        for (int round = 0; round < rounds; round++)
        {
            double bw = double.MaxValue, bc = double.MaxValue;
            for (int k = 0; k < 2; k++)
            {
                proc.Refresh();
                var c0 = proc.TotalProcessorTime; var sw = Stopwatch.StartNew();
                NaivePass();
                bw = Math.Min(bw, sw.Elapsed.TotalMicroseconds / Alerts);
                proc.Refresh();
                bc = Math.Min(bc, (proc.TotalProcessorTime - c0).TotalMicroseconds / Alerts);
            }
            naiveWall.Add(bw); naiveCpu.Add(bc);
            foreach (var (model, batch, c) in classifiers)
            {
                if (round == 0) c.Predict(x, Alerts, p);
                double mw = double.MaxValue, mc = double.MaxValue;
                for (int k = 0; k < 2; k++)
                {
                    var t0 = ThreadCpuClock.NowMicroseconds(); var sw = Stopwatch.StartNew();
                    c.Predict(x, Alerts, p);
                    mw = Math.Min(mw, sw.Elapsed.TotalMicroseconds / Alerts);
                    mc = Math.Min(mc, (ThreadCpuClock.NowMicroseconds() - t0) / Alerts);
                }
                wall[(model, batch)].Add(mw); cpu[(model, batch)].Add(mc);
            }
        }
        static double Median(List<double> v) { var s = v.Order().ToList(); return s[s.Count / 2]; }
        double nw = Median(naiveWall), nc = Median(naiveCpu);
        // This VM's speed drifts by up to 1.5× over seconds (the same loop measures 47 then 70 µs), so besides the
        // ratio of the medians the table gives the median and range of the per-round ratios: each round's naive and
        // classifier passes run within about a second of each other.
        static (double Median, double Min, double Max) Ratios(List<double> naive, List<double> path)
        {
            var r = naive.Zip(path, (n, c) => n / c).Order().ToList();
            return (r[r.Count / 2], r[0], r[^1]);
        }
        w.WriteLine($"| path | batch | wall µs/alert | CPU µs/alert | speed-up vs naive, wall | speed-up vs naive, per core (CPU) | per-round per-core ratio: median (min–max) |");
        w.WriteLine($"|---|---:|---:|---:|---:|---:|---:|");
        w.WriteLine($"| naive: {Path.GetFileName(models[0])}, default SessionOptions, NamedOnnxValue per alert | 1 | {nw:0.0} | {nc:0.0} (process) | 1.00 | 1.00 | 1.00 |");
        foreach (var (model, batch, c) in classifiers)
        {
            double mw = Median(wall[(model, batch)]), mc = Median(cpu[(model, batch)]);
            var (rm, rlo, rhi) = Ratios(naiveCpu, cpu[(model, batch)]);
            w.WriteLine($"| OnnxT2Classifier {Path.GetFileName(model)} | {batch} | {mw:0.0} | {mc:0.0} (thread) | {nw / mw:0.00} | {nc / mc:0.00} | {rm:0.00} ({rlo:0.00}–{rhi:0.00}) |");
            c.Dispose();
        }
        w.WriteLine($"{rounds} interleaved rounds, {Alerts} alerts per pass, {Environment.ProcessorCount} logical cores; load average {File.ReadAllText("/proc/loadavg").Trim()}");
    }
}
