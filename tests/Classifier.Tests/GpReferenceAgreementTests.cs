using Alerts.Core;
using Alerts.Tests.Shared;
using Xunit.Abstractions;

namespace Alerts.Classifier.Tests;

/// <summary>
/// The fast <see cref="GaussianProcessInterpolator"/> (fused SIMD kernel, packed Cholesky, fused prediction, session 3)
/// against <see cref="ReferenceGaussianProcessInterpolator"/>, the pre-change implementation kept verbatim: the t2
/// features (robust-scaled GP mean on the 100-step grid) must agree within <see cref="FeatureBound"/> on every curve.
/// </summary>
public class GpReferenceAgreementTests(ITestOutputHelper output)
{
    /// <summary>Largest allowed |fast − reference| per feature (features are robust-scaled, O(1), bounded by ±100).</summary>
    public const double FeatureBound = 1e-3;

    [Fact]
    public void Features_MatchTheReferenceImplementation_OnSimulatedCurves()
    {
        var cases = new List<(T2Preprocessing, LightCurve)>();
        int seed = 0;
        foreach (int n in new[] { 3, 4, 6, 8, 10, 12, 14, 16, 20, 25, 30, 40, 50, 64 })
            for (int s = 0; s < 4; s++, seed++)
            {
                cases.Add((T2Preprocessing.Ztf, TestLightCurves.Transient([Band.ZtfG, Band.ZtfR], n, peakNjy: 5_000 + 40_000 * s, cadence: 0.5 + s, seed: seed, noise: 0.02 + 0.03 * s)));
                if (n >= 6) cases.Add((T2Preprocessing.Lsst, TestLightCurves.Transient([.. Bands.Lsst], n, peakNjy: 20_000, cadence: 1 + 2 * s, seed: 1000 + seed)));
            }
        AssertAgreement(cases, minimumFitted: cases.Count - 4);
    }

    [SharedDataFact]
    public void Features_MatchTheReferenceImplementation_OnRealBtsAlertHistories()
    {
        // Real ZTF light curves cut as alerts carry them: the detections of the 30 days up to a detection.
        var rng = new Random(5);
        var cases = new List<(T2Preprocessing, LightCurve)>();
        foreach (var item in BtsLabelledSet.Read(SharedData.Path("labelled", "ztf-bts-antares"), new()).Take(80))
        {
            var lc = item.LightCurve;
            if (lc.Count < 3) continue;
            double end = lc.Mjd[rng.Next(2, lc.Count)];
            var cut = new LightCurve();
            for (int i = 0; i < lc.Count; i++)
                if (lc.Mjd[i] <= end && lc.Mjd[i] > end - 30) cut.Add(lc.Mjd[i], lc.Band[i], lc.Flux[i], lc.FluxErr[i], lc.Kind[i]);
            cases.Add((T2Preprocessing.Ztf, cut));
        }
        AssertAgreement(cases, minimumFitted: 20);
    }

    private void AssertAgreement(List<(T2Preprocessing Preset, LightCurve Curve)> cases, int minimumFitted)
    {
        double worst = 0; int fitted = 0, maxPoints = 0;
        double sumEvFast = 0, sumEvRef = 0;
        foreach (var (preset, lc) in cases)
        {
            var fast = new T2FeatureExtractor(preset);
            var got = new float[preset.Steps * preset.Channels.Length];
            var reason = fast.Extract(lc, got);
            var expected = new double[got.Length];
            var refReason = ReferenceFeatures(preset, lc, expected, out var refFit);
            Assert.Equal(refReason, reason);
            if (reason is not null) continue;
            fitted++;
            maxPoints = Math.Max(maxPoints, fast.LastPointCount);
            sumEvFast += fast.LastFit.Evaluations; sumEvRef += refFit.Evaluations;
            for (int k = 0; k < got.Length; k++)
            {
                double d = Math.Abs(got[k] - expected[k]);
                worst = Math.Max(worst, d);
                Assert.True(d <= FeatureBound, $"{preset.Name}, {lc.Count} points: feature {k} is {got[k]} vs reference {expected[k]} (|Δ| = {d:g3} > {FeatureBound})");
            }
        }
        output.WriteLine($"{fitted} of {cases.Count} curves fitted (up to {maxPoints} points); largest |Δfeature| = {worst:g3}; evaluations per fit {sumEvFast / fitted:0.0} (reference {sumEvRef / fitted:0.0})");
        Assert.True(fitted >= minimumFitted, $"only {fitted} curves fitted");
    }

    /// <summary>
    /// <see cref="T2FeatureExtractor.Extract"/> written out plainly on the reference GP (detections in the preset's
    /// bands, FLUXCAL, days from the first point, fit, mean on linspace(0, span, steps), floored robust scaling), as double.
    /// </summary>
    private static string? ReferenceFeatures(T2Preprocessing p, LightCurve lc, double[] features, out ReferenceGaussianProcessFit fit)
    {
        fit = default;
        double k = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, p.ZeroPoint);
        var idx = Enumerable.Range(0, lc.Count).Where(i => lc.Kind[i] == PointKind.Detection && Array.IndexOf(p.Channels, lc.Band[i]) >= 0).ToList();
        if (idx.Count < p.MinPoints) return "too-few-points";
        foreach (var b in p.Channels)
            if (idx.Count(i => lc.Band[i] == b) < p.MinPointsPerChannel) return "missing-band:" + b.Name();
        double t0 = idx.Min(i => lc.Mjd[i]), span = idx.Max(i => lc.Mjd[i]) - t0;
        var gp = new ReferenceGaussianProcessInterpolator(p.WavelengthLengthScale) { InitialTimeLengthScale = p.InitialTimeLengthScale, InitialAmplitudeFactor = p.InitialAmplitudeFactor };
        foreach (var i in idx) gp.AddPoint(lc.Mjd[i] - t0, lc.Band[i].EffectiveWavelength(), lc.Flux[i] * k, lc.FluxErr[i] * k);
        fit = gp.Fit();
        int steps = p.Steps, channels = p.Channels.Length;
        var grid = Enumerable.Range(0, steps).Select(j => span * j / (steps - 1)).ToArray();
        var columns = new double[channels][];
        var centers = new double[channels]; var iqrs = new double[channels];
        double widest = 0;
        for (int c = 0; c < channels; c++)
        {
            columns[c] = new double[steps];
            gp.PredictMean(grid, p.Channels[c].EffectiveWavelength(), columns[c]);
            T2FeatureExtractor.RobustCenterIqr(columns[c], new double[steps], out centers[c], out iqrs[c]);
            if (double.IsFinite(iqrs[c])) widest = Math.Max(widest, iqrs[c]);
        }
        for (int c = 0; c < channels; c++)
        {
            double scale = T2FeatureExtractor.FlooredScale(iqrs[c], widest, columns[c], centers[c], p.MinScaleFractionOfWidestBand, p.MaxAbsFeature);
            for (int j = 0; j < steps; j++)
                features[j * channels + c] = Math.Clamp((columns[c][j] - centers[c]) / scale, -p.MaxAbsFeature, p.MaxAbsFeature);
        }
        return null;
    }
}
