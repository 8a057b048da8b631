using BenchmarkDotNet.Attributes;
using Alerts.Classifier.Tests;
using Alerts.Core;

namespace Alerts.Classifier.Bench;

/// <summary>
/// t2 preprocessing per light curve (GP fit by maximum likelihood + mean on 100×2 grid + robust scaling):
/// Alerts' C# interpolator vs scikit-learn's GaussianProcessRegressor with the same kernel on the same light curves,
/// both on one core, and vs the reference C# code (<see cref="ReferenceT2FeatureExtractor"/>, commit 1ce159c) in the same run.
/// The Python side runs in a persistent worker, so only the fits are timed (plus one pipe round trip).
/// Two sets: <see cref="GpBenchmarks"/> = 32 synthetic well-sampled curves (mean 33 points);
/// <see cref="GpAlertMixBenchmarks"/> = what the GP sees in `alerts bench e2e` (decoded simulated ZTF alerts, mean ~12 points).
/// </summary>
[MemoryDiagnoser]
public class GpBenchmarks
{
    public const int LightCurves = 32;
    private GpBenchmarkSet _set = null!;

    [GlobalSetup]
    public void Setup() => _set = new GpBenchmarkSet(BenchData.ZtfTransients(LightCurves));

    [GlobalCleanup]
    public void Cleanup() => _set.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = LightCurves, Description = "scikit-learn GaussianProcessRegressor (python3-sklearn)")]
    public double SklearnGaussianProcessRegressor() => _set.Sklearn();

    [Benchmark(OperationsPerInvoke = LightCurves, Description = "Alerts T2FeatureExtractor, reference copy (commit 1ce159c)")]
    public int AlertsBefore() => _set.Reference();

    [Benchmark(OperationsPerInvoke = LightCurves, Description = "Alerts GaussianProcessInterpolator (T2FeatureExtractor)")]
    public int AlertsGaussianProcess() => _set.Fast();
}

/// <summary>The `alerts bench e2e` alert mix: the first <see cref="LightCurves"/> of its alerts that the t2 preset fits.</summary>
[MemoryDiagnoser]
public class GpAlertMixBenchmarks
{
    public const int LightCurves = 256;
    private GpBenchmarkSet _set = null!;

    [GlobalSetup]
    public void Setup()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var dest = new float[200];
        _set = new GpBenchmarkSet(GpWorkloads.BenchE2e(1000).Where(lc => ex.Extract(lc, dest) is null).Take(LightCurves).ToList());
    }

    [GlobalCleanup]
    public void Cleanup() => _set.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = LightCurves, Description = "scikit-learn GaussianProcessRegressor (python3-sklearn)")]
    public double SklearnGaussianProcessRegressor() => _set.Sklearn();

    [Benchmark(OperationsPerInvoke = LightCurves, Description = "Alerts T2FeatureExtractor, reference copy (commit 1ce159c)")]
    public int AlertsBefore() => _set.Reference();

    [Benchmark(OperationsPerInvoke = LightCurves, Description = "Alerts GaussianProcessInterpolator (T2FeatureExtractor)")]
    public int AlertsGaussianProcess() => _set.Fast();
}

/// <summary>One set of light curves, the three extractors that time it, and the optimiser's work printed once.</summary>
public sealed class GpBenchmarkSet : IDisposable
{
    private readonly List<LightCurve> _lcs;
    private readonly T2FeatureExtractor _fast = new(T2Preprocessing.Ztf);
    private readonly ReferenceT2FeatureExtractor _reference = new(T2Preprocessing.Ztf);
    private readonly float[] _dest = new float[200];
    private readonly PythonWorker _sklearn;

    public GpBenchmarkSet(List<LightCurve> lcs)
    {
        _lcs = lcs;
        double it = 0, ev = 0, pts = 0; int conv = 0, maxPts = 0;
        foreach (var lc in _lcs)
        {
            _fast.Extract(lc, _dest);
            it += _fast.LastFit.Iterations; ev += _fast.LastFit.Evaluations; pts += _fast.LastPointCount;
            maxPts = Math.Max(maxPts, _fast.LastPointCount);
            if (_fast.LastFit.Converged) conv++;
        }
        Console.WriteLine($"// GP: {_lcs.Count} light curves, mean {pts / _lcs.Count:0.0} points (max {maxPts}), {it / _lcs.Count:0.0} iterations, {ev / _lcs.Count:0.0} likelihood evaluations, {conv} converged");
        var csv = BenchData.WriteGpInputs(_lcs, T2Preprocessing.Ztf);
        _sklearn = new PythonWorker(Path.Combine(BenchData.RepoRoot(), "bench", "gp_baseline.py"), csv, "4804.79,6436.92");
    }

    public double Sklearn() => _sklearn.Go("go");

    public int Fast()
    {
        int ok = 0;
        foreach (var lc in _lcs) if (_fast.Extract(lc, _dest) is null) ok++;
        return ok;
    }

    public int Reference()
    {
        int ok = 0;
        foreach (var lc in _lcs) if (_reference.Extract(lc, _dest) is null) ok++;
        return ok;
    }

    public void Dispose() => _sklearn.Dispose();
}
