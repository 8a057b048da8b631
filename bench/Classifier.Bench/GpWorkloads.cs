using System.Diagnostics;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Simulator;

namespace Alerts.Classifier.Bench;

/// <summary>
/// The light curves the GP sees in the service, decoded from real alert bytes exactly as the pipeline does
/// (simulator → Avro → <see cref="AlertDecoder"/> → <see cref="LightCurve"/>), reduced to what the extractor fits
/// (detections in the preset's bands), so the C# and scikit-learn sides of a benchmark fit the same points.
/// </summary>
public static class GpWorkloads
{
    /// <summary>`alerts bench e2e`'s alerts: ZTF, Avro container with stamps, SpanDays 60, objects = alerts/10 + 20, seed 11.</summary>
    public static List<LightCurve> BenchE2e(int alerts = 3000) =>
        Decode(Simulate(Survey.Ztf, alerts / 10 + 20, 11).Take(alerts), T2Preprocessing.Ztf);

    /// <summary>`alerts replay`'s default simulated stream (300 objects, seed 42, SpanDays 60).</summary>
    public static List<LightCurve> Replay(Survey survey, int objects = 300) =>
        Decode(Simulate(survey, objects, 42), T2Preprocessing.ForSurvey(survey));

    /// <summary>The real ZTF alerts in ../shared/data/ztf/alerts (one record per .avro file), or empty when absent.</summary>
    public static List<LightCurve> RealZtf()
    {
        var root = Path.Combine(BenchData.RepoRoot(), "..", "shared", "data", "ztf", "alerts");
        if (!Directory.Exists(root)) return [];
        var files = Directory.EnumerateFiles(root, "*.avro", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
        return Decode(files.Select(File.ReadAllBytes), T2Preprocessing.Ztf);
    }

    private static IEnumerable<byte[]> Simulate(Survey survey, int objects, ulong seed) =>
        new AlertSimulator(SimulationOptions.SurveyStream(survey, objects, seed)).Generate().Select(a => a.Bytes);

    /// <summary>µs per extraction over <paramref name="curves"/>: two passes, the better one (the machine is shared).</summary>
    private static double BestMicrosecondsPerCurve(T2FeatureExtractor ex, List<LightCurve> curves, float[] dest)
    {
        double best = double.MaxValue;
        for (int rep = 0; rep < 2; rep++)
        {
            var sw = Stopwatch.StartNew();
            foreach (var lc in curves) ex.Extract(lc, dest);
            best = Math.Min(best, sw.Elapsed.TotalMicroseconds / Math.Max(1, curves.Count));
        }
        return best;
    }

    private static List<LightCurve> Decode(IEnumerable<byte[]> payloads, T2Preprocessing preset)
    {
        var decoder = new AlertDecoder(new AvroSchemaRegistry(Path.Combine(BenchData.RepoRoot(), "schemas", "lsst")));
        var list = new List<LightCurve>();
        foreach (var bytes in payloads)
        {
            var r = decoder.Decode(new RawAlert(bytes, SourcePosition.File("bench"), DateTimeOffset.UtcNow));
            if (r.Alert is not { } a) continue;
            list.Add(FittedPoints(a.LightCurve, preset));
        }
        return list;
    }

    /// <summary>The points <see cref="T2FeatureExtractor"/> would fit: detections in the preset's channels (MaxPoints not applied).</summary>
    public static LightCurve FittedPoints(LightCurve lc, T2Preprocessing preset)
    {
        var kept = new LightCurve(lc.Count);
        for (int i = 0; i < lc.Count; i++)
        {
            var k = lc.Kind[i];
            if (k == PointKind.NonDetection && !preset.IncludeNonDetections) continue;
            if (k == PointKind.ForcedPhotometry && !preset.IncludeForcedPhotometry) continue;
            if (Array.IndexOf(preset.Channels, lc.Band[i]) < 0) continue;
            kept.Add(lc.Mjd[i], lc.Band[i], lc.Flux[i], lc.FluxErr[i], k);
        }
        return kept;
    }

    /// <summary>The light curves the service really fits: bench e2e's alerts, the main job's (ZTF and LSST) and real ZTF alerts.</summary>
    private static List<(string Name, T2Preprocessing Preset, List<LightCurve> Curves)> ServiceWorkloads() =>
    [
        ("bench e2e (ZTF, 3000 alerts, seed 11)", T2Preprocessing.Ztf, BenchE2e()),
        ("replay ZTF (300 objects, seed 42)", T2Preprocessing.Ztf, Replay(Survey.Ztf)),
        ("replay LSST (300 objects, seed 42)", T2Preprocessing.Lsst, Replay(Survey.Lsst)),
        ("real ZTF (../shared/data/ztf/alerts)", T2Preprocessing.Ztf, RealZtf()),
    ];

    /// <summary>
    /// `Classifier.Bench gp-workload`: per workload, the distribution of points per fit, the optimiser's work, the µs per
    /// extraction, and at representative sizes where a fit's time goes (likelihood = kernel + Cholesky + solves,
    /// gradient, grid prediction). Single-threaded, best of a few repeats; not BenchmarkDotNet (a survey, not a verdict).
    /// </summary>
    public static void Report()
    {
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        var sets = ServiceWorkloads();
        sets.Add(("GpBenchmarks 32 synthetic", T2Preprocessing.Ztf, BenchData.ZtfTransients(GpBenchmarks.LightCurves)));
        var dest = new float[100 * 6];
        Console.WriteLine("| workload | alerts | fitted | points p10 / p50 / p90 / max | mean points | mean n³ (rel. to mean n)³ | evaluations/fit | iterations/fit | µs/extraction (mean) |");
        Console.WriteLine("|---|---:|---:|---|---:|---:|---:|---:|---:|");
        foreach (var (name, preset, curves) in sets)
        {
            var ex = new T2FeatureExtractor(preset);
            var pts = new List<int>(); double ev = 0, it = 0, cube = 0;
            foreach (var lc in curves)
            {
                if (ex.Extract(lc, dest) is not null) continue;
                pts.Add(ex.LastPointCount); ev += ex.LastFit.Evaluations; it += ex.LastFit.Iterations; cube += Math.Pow(ex.LastPointCount, 3);
            }
            double best = BestMicrosecondsPerCurve(ex, curves, dest);
            pts.Sort();
            int q(double p) => pts.Count == 0 ? 0 : pts[(int)Math.Min(pts.Count - 1, p * pts.Count)];
            double mean = pts.Count == 0 ? 0 : pts.Average();
            Console.WriteLine($"| {name} | {curves.Count} | {pts.Count} | {q(0.1)} / {q(0.5)} / {q(0.9)} / {(pts.Count == 0 ? 0 : pts[^1])} | {mean:0.0} | {(pts.Count == 0 ? 0 : cube / pts.Count / Math.Pow(mean, 3)):0.00} | {ev / Math.Max(1, pts.Count):0.0} | {it / Math.Max(1, pts.Count):0.0} | {best:0.0} |");
        }

        Console.WriteLine();
        Console.WriteLine("Stopping rule: features vs the default (tol 1e-6, stationarity 1e-4) on the same curves:");
        Console.WriteLine("| workload | tol / stationarity | evaluations/fit | µs/extraction | max |Δfeature| | p99 of per-curve max |Δ| |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var (name, preset, curves) in sets.Take(4))
            foreach (var (tol, stat) in new[] { (1e-6, 1e-4), (1e-5, 1e-3), (1e-4, 1e-3), (1e-3, 1e-2), (1e-2, 1e-2) })
            {
                var reference = new T2FeatureExtractor(preset);
                var ex = new T2FeatureExtractor(preset with { GpTolerance = tol, GpStationarityTolerance = stat });
                var a = new float[dest.Length]; var b = new float[dest.Length];
                var perCurve = new List<double>(); double ev = 0, worst = 0;
                foreach (var lc in curves)
                {
                    if (reference.Extract(lc, a) is not null || ex.Extract(lc, b) is not null) continue;
                    ev += ex.LastFit.Evaluations;
                    double m = 0;
                    for (int k = 0; k < preset.Steps * preset.Channels.Length; k++) m = Math.Max(m, Math.Abs(a[k] - b[k]));
                    perCurve.Add(m); worst = Math.Max(worst, m);
                }
                double best = BestMicrosecondsPerCurve(ex, curves, dest);
                perCurve.Sort();
                double p99 = perCurve.Count == 0 ? 0 : perCurve[(int)Math.Min(perCurve.Count - 1, 0.99 * perCurve.Count)];
                Console.WriteLine($"| {name} | {tol:g1} / {stat:g1} | {ev / Math.Max(1, perCurve.Count):0.0} | {best:0.0} | {worst:g3} | {p99:g3} |");
            }

        Console.WriteLine();
        Console.WriteLine("Where a fit's time goes (µs per call, best of 5; synthetic ZTF curve of n points, fitted hyper-parameters):");
        Console.WriteLine("| n | likelihood (kernel + Cholesky + solves) | likelihood + gradient | gradient alone | predict 100×2 | whole Extract | evaluations | Extract / likelihood |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in new[] { 8, 12, 16, 24, 33, 64, 100, 200 })
        {
            var lc = Synthetic(n);
            var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
            ex.Extract(lc, dest);
            var gp = new GaussianProcessInterpolator();
            var t = new double[n]; var w = new double[n]; var f = new double[n]; var e = new double[n];
            double k = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, Photometry.FluxcalZeroPoint);
            for (int i = 0; i < n; i++) { t[i] = lc.Mjd[i] - lc.Mjd[0]; w[i] = lc.Band[i].EffectiveWavelength(); f[i] = lc.Flux[i] * k; e[i] = lc.FluxErr[i] * k; }
            gp.SetData(t, w, f, e);
            gp.SetHyperParameters(ex.LastFit.Amplitude, ex.LastFit.TimeLengthScale);
            var grid = Enumerable.Range(0, 100).Select(j => t[^1] * j / 99.0).ToArray();
            var mean = new double[100];
            double like = Best(() => gp.NegativeLogLikelihood());
            double both = Best(() => gp.NegativeLogLikelihoodGradient());
            double pred = Best(() => { gp.PredictMean(grid, 4804.79, mean); gp.PredictMean(grid, 6436.92, mean); });
            double whole = Best(() => ex.Extract(lc, dest));
            Console.WriteLine($"| {n} | {like:0.0} | {both:0.0} | {both - like:0.0} | {pred:0.0} | {whole:0.0} | {ex.LastFit.Evaluations} | {whole / like:0.0} |");
        }
    }

    /// <summary>
    /// `Classifier.Bench gp-compare [rounds]`: per workload, the pre-change extractor and the current one alternately over
    /// the same curves, best round of each, so a loaded machine slows both alike and the ratio stays meaningful.
    /// </summary>
    public static void Compare(int rounds)
    {
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        var sets = ServiceWorkloads();
        sets.Add(("GpBenchmarks 32 synthetic (33 points)", T2Preprocessing.Ztf, BenchData.ZtfTransients(GpBenchmarks.LightCurves)));
        sets.Add(("synthetic 64 points ×16", T2Preprocessing.Ztf, Enumerable.Range(0, 16).Select(_ => Synthetic(64)).ToList()));
        sets.Add(("synthetic 150 points ×4", T2Preprocessing.Ztf, Enumerable.Range(0, 4).Select(_ => Synthetic(150)).ToList()));
        Console.WriteLine("| workload | curves | before µs/curve | after µs/curve | before / after |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var dest = new float[100 * 6];
        foreach (var (name, preset, curves) in sets)
        {
            var fast = new T2FeatureExtractor(preset);
            var reference = new Alerts.Classifier.Tests.ReferenceT2FeatureExtractor(preset);
            double bestFast = double.MaxValue, bestRef = double.MaxValue;
            // Interleaved curve by curve (the machine is shared: both sides see the same load), best round of each.
            for (int r = 0; r < rounds; r++)
            {
                long tRef = 0, tFast = 0;
                foreach (var lc in curves)
                {
                    long a = Stopwatch.GetTimestamp();
                    reference.Extract(lc, dest);
                    long b = Stopwatch.GetTimestamp();
                    fast.Extract(lc, dest);
                    long c = Stopwatch.GetTimestamp();
                    tRef += b - a; tFast += c - b;
                }
                bestRef = Math.Min(bestRef, tRef * 1e6 / Stopwatch.Frequency / curves.Count);
                bestFast = Math.Min(bestFast, tFast * 1e6 / Stopwatch.Frequency / curves.Count);
            }
            Console.WriteLine($"| {name} | {curves.Count} | {bestRef:0.0} | {bestFast:0.0} | {bestRef / bestFast:0.00}× |");
        }
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    /// <summary>Extracts the bench-e2e alert mix over and over for <paramref name="seconds"/> (a profiler's workload).</summary>
    public static void Loop(double seconds)
    {
        var curves = BenchE2e();
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var dest = new float[200];
        long n = 0; var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
            foreach (var lc in curves) { ex.Extract(lc, dest); n++; }
        Console.WriteLine($"{n} extractions, {sw.Elapsed.TotalMicroseconds / n:0.0} µs each");
    }

    private static double Best(Action a)
    {
        a();
        double best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            int reps = 0; var sw = Stopwatch.StartNew();
            do { a(); reps++; } while (sw.Elapsed.TotalMilliseconds < 20);
            best = Math.Min(best, sw.Elapsed.TotalMicroseconds / reps);
        }
        return best;
    }

    /// <summary>One synthetic ZTF transient with exactly <paramref name="n"/> detections (BenchData's generator, fixed seed).</summary>
    public static LightCurve Synthetic(int n)
    {
        var rng = new Random(n);
        double span = 30 + n, peak = 100_000, t0 = 59000, tpk = t0 + span * 0.3;
        var lc = new LightCurve(n);
        for (int i = 0; i < n; i++)
        {
            double t = t0 + span * i / (n - 1) + rng.NextDouble() * 0.2;
            var band = i % 2 == 0 ? Band.ZtfG : Band.ZtfR;
            double x = t - tpk, err = 0.04 * peak + 300;
            double flux = peak * (band == Band.ZtfG ? 1.0 : 0.85) * Math.Exp(-x / 30) / (1 + Math.Exp(-x / 4)) + err * (rng.NextDouble() * 2 - 1);
            lc.Add(t, band, (float)flux, (float)err, PointKind.Detection);
        }
        return lc;
    }
}
