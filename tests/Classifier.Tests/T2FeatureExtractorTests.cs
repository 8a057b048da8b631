using Alerts.Core;
using CsCheck;

namespace Alerts.Classifier.Tests;

public class T2FeatureExtractorTests
{
    private static readonly Band[] GR = [Band.ZtfG, Band.ZtfR];

    [Fact]
    public void Output_IsStepsByChannels_RobustScaledPerColumn()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var dest = new float[100 * 2];
        Assert.Null(ex.Extract(TestLightCurves.Transient(GR), dest));
        for (int c = 0; c < 2; c++)
        {
            var col = Enumerable.Range(0, 100).Select(j => (double)dest[j * 2 + c]).Order().ToArray();
            // RobustScaler: median 0, IQR (numpy linear percentiles) 1.
            double P(double q) { double pos = q * 99; int lo = (int)pos; return col[lo] + (col[Math.Min(lo + 1, 99)] - col[lo]) * (pos - lo); }
            Assert.Equal(0.0, P(0.5), 5);
            Assert.Equal(1.0, P(0.75) - P(0.25), 5);
        }
        Assert.True(ex.LastFit.Converged);
        Assert.Equal(30, ex.LastPointCount);
    }

    [Fact]
    public void Grid_SpansFirstToLastKeptPoint()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var lc = TestLightCurves.Transient(GR, 10, cadence: 5);
        Assert.Null(ex.Extract(lc, new float[200]));
        Assert.Equal(lc.Mjd[^1] - lc.Mjd[0], ex.LastSpanDays, 9);
    }

    [Fact]
    public void PeakOfTheTransient_IsWhereTheGpPeaks()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf with { RobustScale = false });
        var lc = TestLightCurves.Transient(GR, 40, cadence: 2, noise: 0.01);
        var dest = new float[200];
        Assert.Null(ex.Extract(lc, dest));
        int argmax = Enumerable.Range(0, 100).MaxBy(j => dest[j * 2]);
        double tPeak = ex.LastSpanDays * argmax / 99.0;
        // Bazin(x0 = 20 d, τ_rise 4, τ_fall 30) peaks about 4·ln(30/4 − 1) ≈ 7.5 d after x0, i.e. ~27.5 d after the first point.
        Assert.InRange(tPeak, 22, 33);
        // The peak flux in FLUXCAL: 50 000 nJy × 10^(-0.4·3.9) times the Bazin peak factor (~0.70).
        Assert.InRange(dest.Where((_, i) => i % 2 == 0).Max(), 0.6 * 50_000 * 0.0275, 0.8 * 50_000 * 0.0275);
    }

    [Fact]
    public void ScalingAllFluxes_LeavesTheRobustScaledOutputUnchanged()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var lc = TestLightCurves.Transient(GR, 25, seed: 3);
        var a = new float[200]; var b = new float[200];
        Assert.Null(ex.Extract(lc, a));
        var scaled = new LightCurve();
        for (int i = 0; i < lc.Count; i++) scaled.Add(lc.Mjd[i], lc.Band[i], lc.Flux[i] * 7f, lc.FluxErr[i] * 7f, lc.Kind[i]);
        Assert.Null(ex.Extract(scaled, b));
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 2e-3f);
    }

    [Fact]
    public void TooFewPoints_GivesAReason()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var lc = new LightCurve();
        Assert.Equal("too-few-points", ex.Extract(lc, new float[200]));
        lc.Add(59000, Band.ZtfG, 100, 10, PointKind.Detection);
        lc.Add(59001, Band.ZtfR, 100, 10, PointKind.Detection);
        Assert.Equal("too-few-points", ex.Extract(lc, new float[200]));
    }

    [Fact]
    public void MissingBand_GivesItsName()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        Assert.Equal("missing-band:ztfr", ex.Extract(TestLightCurves.Transient([Band.ZtfG]), new float[200]));
        Assert.Equal("missing-band:ztfg", ex.Extract(TestLightCurves.Transient([Band.ZtfR, Band.ZtfI]), new float[200]));
    }

    [Fact]
    public void NonDetections_AreLeftOutUnlessThePresetAsks()
    {
        var lc = TestLightCurves.Transient(GR, 20);
        for (int i = 0; i < 5; i++) lc.Add(58990 + i, Band.ZtfG, 0, 500, PointKind.NonDetection);
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        Assert.Null(ex.Extract(lc, new float[200]));
        Assert.Equal(20, ex.LastPointCount);
        var withNd = new T2FeatureExtractor(T2Preprocessing.Ztf with { IncludeNonDetections = true });
        Assert.Null(withNd.Extract(lc, new float[200]));
        Assert.Equal(25, withNd.LastPointCount);
    }

    [Fact]
    public void NaNOrNonPositiveErrors_GiveReasons()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var lc = TestLightCurves.Transient(GR, 10);
        lc.Add(59100, Band.ZtfG, float.NaN, 10, PointKind.Detection);
        Assert.Equal("bad-flux", ex.Extract(lc, new float[200]));
        lc = TestLightCurves.Transient(GR, 10);
        lc.Add(59100, Band.ZtfR, 10, 0, PointKind.Detection);
        Assert.Equal("bad-flux-error", ex.Extract(lc, new float[200]));
        lc = TestLightCurves.Transient(GR, 10);
        lc.Add(double.NaN, Band.ZtfR, 10, 1, PointKind.Detection);
        Assert.Equal("bad-time", ex.Extract(lc, new float[200]));
    }

    [Fact]
    public void AnyLightCurve_GivesOutputOrAReason_NeverThrows()
    {
        var point = Gen.Select(Gen.Frequency((9, (IGen<double>)Gen.Double[58000, 58100]), (1, Gen.OneOf(double.NaN, 58000.0))),
            Gen.OneOf(Band.ZtfG, Band.ZtfR, Band.ZtfI, Band.Unknown),
            Gen.Frequency((9, (IGen<float>)Gen.Float[-1e6f, 1e7f]), (1, Gen.OneOf(float.NaN, float.PositiveInfinity, 0f))),
            Gen.Frequency((9, (IGen<float>)Gen.Float[0f, 1e5f]), (1, Gen.OneOf(float.NaN, 0f, -1f))),
            Gen.Enum<PointKind>());
        // One extractor reused across samples (as a worker reuses it), so threads: 1 — the extractor is single-threaded.
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var dest = new float[200];
        point.Array[0, 40].Sample(points =>
        {
            var lc = new LightCurve();
            foreach (var (t, b, f, e, k) in points) lc.Add(t, b, f, e, k);
            var reason = ex.Extract(lc, dest);
            return reason is not null || dest.All(float.IsFinite);
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Extract_AllocatesNothingOnceWarm()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Lsst);
        var lc = TestLightCurves.Transient([.. Bands.Lsst], 48);
        var dest = new float[600];
        Assert.Null(ex.Extract(lc, dest));
        Assert.Null(ex.Extract(lc, dest));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Null(ex.Extract(lc, dest));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void MaxPoints_KeepsTheLatestPoints()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf with { MaxPoints = 12 });
        var lc = TestLightCurves.Transient(GR, 30, cadence: 1);
        Assert.Null(ex.Extract(lc, new float[200]));
        Assert.Equal(12, ex.LastPointCount);
        Assert.Equal(lc.Mjd[^1] - lc.Mjd[18], ex.LastSpanDays, 9);
    }
}
