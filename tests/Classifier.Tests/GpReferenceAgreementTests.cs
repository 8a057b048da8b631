using CsCheck;
using Alerts.Core;
using Alerts.Tests.Shared;
using Xunit.Abstractions;

namespace Alerts.Classifier.Tests;

/// <summary>
/// The fast <see cref="GaussianProcessInterpolator"/> (fused SIMD kernel, packed Cholesky, fused prediction)
/// against <see cref="ReferenceT2FeatureExtractor"/> on <see cref="ReferenceGaussianProcessInterpolator"/>, the code of commit 1ce159c kept verbatim: the t2
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

    [Fact]
    public void PredictMean_MatchesTheReference_AtAPointsOwnWavelength_OnAnyGrid()
    {
        // The same-wavelength running-product path (ascending grids) and the general path (any order), points before,
        // inside and after the grid, repeated times: both against the reference's direct kernel sums.
        var rng = new Random(3);
        int n = 17;
        var t = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 40 - 5).ToArray();
        t[3] = t[4]; t[7] = 10.0;
        var w = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? 4804.79 : 6436.92).ToArray();
        var y = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 100 - 20).ToArray();
        var e = Enumerable.Range(0, n).Select(_ => 1 + rng.NextDouble() * 5).ToArray();
        var fast = new GaussianProcessInterpolator();
        var reference = new ReferenceGaussianProcessInterpolator();
        fast.SetData(t, w, y, e);
        reference.SetData(t, w, y, e);
        double[][] grids =
        [
            Enumerable.Range(0, 100).Select(j => 30.0 * j / 99).ToArray(),
            [0.0, 10.0, 10.0, 10.0, 12.5, 40.0],
            [25.0, 3.0, 10.0, -8.0, 17.0],
        ];
        foreach (var (amp, lt) in new[] { (900.0, 20.0), (50.0, 1.0), (4e4, 1000.0) })
        {
            fast.SetHyperParameters(amp, lt);
            reference.SetHyperParameters(amp, lt);
            foreach (var grid in grids)
                foreach (var lambda in new[] { 4804.79, 6436.92, 5500.0 })
                {
                    var got = new double[grid.Length]; var want = new double[grid.Length];
                    fast.PredictMean(grid, lambda, got);
                    reference.PredictMean(grid, lambda, want);
                    double scale = want.Max(Math.Abs) + 1e-300;
                    // 1e-9: at l_t = 1000 d K is ill-conditioned (α ≫ mean, cancelling), so round-off in the factor already
                    // differs at ~1e-12 relative; the path itself contributes ~1e-14.
                    for (int j = 0; j < grid.Length; j++)
                        Assert.True(Math.Abs(got[j] - want[j]) <= 1e-9 * scale, $"A={amp}, l={lt}, λ={lambda}, t={grid[j]}: {got[j]} vs {want[j]}");
                }
        }
    }

    [Fact]
    public void RobustCenterIqr_EqualsTheSortedPercentilesExactly()
    {
        // Quickselect of the six order statistics vs numpy-style linear percentiles of the sorted column, bit for bit,
        // on columns with many ties (values drawn from a few levels), all equal, and the non-finite fallback.
        Gen.Int[1, 260].SelectMany(n => Gen.Select(Gen.Int[1, 40], Gen.Int[0, 1_000_000])
                .Select((levels, seed) => { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => Math.Round(r.NextDouble() * levels) * 0.37 - 3).ToArray(); }))
            .Sample(values =>
            {
                var sorted = values.Order().ToArray();
                double P(double q) { double pos = q * (sorted.Length - 1); int lo = (int)Math.Floor(pos); int hi = Math.Min(lo + 1, sorted.Length - 1); return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo); }
                T2FeatureExtractor.RobustCenterIqr(values, new double[values.Length], out var center, out var iqr);
                Assert.Equal(P(0.5), center);
                Assert.Equal(P(0.75) - P(0.25), iqr);
            }, iter: 3000);
        var withNan = Enumerable.Range(0, 20).Select(i => (double)i).Append(double.NaN).ToArray();
        T2FeatureExtractor.RobustCenterIqr(withNan, new double[withNan.Length], out var c2, out _);
        ReferenceT2FeatureExtractor.RobustCenterIqr(withNan, new double[withNan.Length], out var c3, out _);
        Assert.Equal(c3, c2);
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
            var reference = new ReferenceT2FeatureExtractor(preset);
            var expected = new float[got.Length];
            Assert.Equal(reference.Extract(lc, expected), reason);
            var refFit = reference.LastFit;
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
}
