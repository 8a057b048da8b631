using BenchmarkDotNet.Attributes;
using Alerts.Core;

namespace Alerts.Classifier.Bench;

/// <summary>
/// t2 preprocessing per light curve (GP fit by maximum likelihood + mean on 100×2 grid + robust scaling):
/// Alerts' C# interpolator vs scikit-learn's GaussianProcessRegressor with the same kernel on the same light curves,
/// both on one core. The Python side runs in a persistent worker, so only the fits are timed (plus one pipe round trip).
/// </summary>
[MemoryDiagnoser]
public class GpBenchmarks
{
    public const int LightCurves = 32;
    private List<LightCurve> _lcs = null!;
    private T2FeatureExtractor _extractor = null!;
    private float[] _dest = null!;
    private PythonWorker _sklearn = null!;

    [GlobalSetup]
    public void Setup()
    {
        _lcs = BenchData.ZtfTransients(LightCurves);
        _extractor = new T2FeatureExtractor(T2Preprocessing.Ztf);
        _dest = new float[200];
        // Report the optimiser's work once, so the timing can be read per likelihood evaluation.
        double it = 0, ev = 0, pts = 0; int conv = 0;
        foreach (var lc in _lcs)
        {
            _extractor.Extract(lc, _dest);
            it += _extractor.LastFit.Iterations; ev += _extractor.LastFit.Evaluations; pts += _extractor.LastPointCount;
            if (_extractor.LastFit.Converged) conv++;
        }
        Console.WriteLine($"// GP: {LightCurves} light curves, mean {pts / LightCurves:0.0} points, {it / LightCurves:0.0} iterations, {ev / LightCurves:0.0} likelihood evaluations, {conv} converged");
        var csv = BenchData.WriteGpInputs(_lcs, T2Preprocessing.Ztf);
        _sklearn = new PythonWorker(Path.Combine(BenchData.RepoRoot(), "bench", "gp_baseline.py"), csv, "4804.79,6436.92");
    }

    [GlobalCleanup]
    public void Cleanup() => _sklearn.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = LightCurves, Description = "scikit-learn GaussianProcessRegressor (python3-sklearn)")]
    public double SklearnGaussianProcessRegressor() => _sklearn.Go("go");

    [Benchmark(OperationsPerInvoke = LightCurves, Description = "Alerts GaussianProcessInterpolator (T2FeatureExtractor)")]
    public int AlertsGaussianProcess()
    {
        int ok = 0;
        foreach (var lc in _lcs) if (_extractor.Extract(lc, _dest) is null) ok++;
        return ok;
    }
}
