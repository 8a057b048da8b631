using Alerts.Core;
using CsCheck;

namespace Alerts.Classifier.Tests;

/// <summary>
/// The floors on the robust scale (<see cref="T2Preprocessing.MinScaleFractionOfWidestBand"/>,
/// <see cref="T2Preprocessing.MaxAbsFeature"/>): a flat or empty band can no longer blow up, and light curves whose
/// spread is above the floors get exactly scikit-learn's RobustScaler output, as before.
/// </summary>
public class T2ScaleFloorTests
{
    private static readonly Band[] GR = [Band.ZtfG, Band.ZtfR];

    private static T2Preprocessing Unfloored(T2Preprocessing p) => p with { MinScaleFractionOfWidestBand = 0, MaxAbsFeature = 0 };

    public static TheoryData<string, int, int, double> NormalCurves() => new()
    {
        // preset, points, seed, cadence (days)
        { "t2-ztf", 30, 1, 2.0 }, { "t2-ztf", 12, 2, 3.0 }, { "t2-ztf", 60, 3, 1.0 }, { "t2-ztf", 25, 4, 4.0 },
        { "t2-lsst", 48, 1, 2.0 }, { "t2-lsst", 36, 5, 3.0 }, { "t2-lsst", 90, 6, 1.5 },
    };

    [Theory]
    [MemberData(nameof(NormalCurves))]
    public void CurvesWithSpreadAboveTheFloors_KeepScikitLearnsRobustScaling(string preset, int points, int seed, double cadence)
    {
        var p = T2Preprocessing.ByName(preset);
        int ch = p.Channels.Length;
        var lc = TestLightCurves.Transient(p.Channels, points, cadence: cadence, seed: seed);
        var floored = new float[100 * ch]; var plain = new float[100 * ch];
        Assert.Null(new T2FeatureExtractor(p).Extract(lc, floored));
        var unflooredExtractor = new T2FeatureExtractor(Unfloored(p));
        Assert.Null(unflooredExtractor.Extract(lc, plain));
        // Precondition: every band's IQR is above both floors (otherwise this is not a "normal" curve).
        Assert.All(Enumerable.Range(0, ch), c => Assert.InRange(ColumnIqr(plain, c, ch), 1.0 - 1e-6, 1.0 + 1e-6));
        Assert.True(plain.All(v => Math.Abs(v) < p.MaxAbsFeature), "a normal curve stays inside the bound unfloored");
        for (int i = 0; i < plain.Length; i++) Assert.Equal(plain[i], floored[i], 1e-6f);
    }

    [Fact]
    public void SparseRubinCurve_ThatBlewUpTo1e6_StaysBounded()
    {
        // A simulated RRL (seed 11, object 12 of `alerts simulate --survey lsst`): six g detections over 130 days, no other
        // band. The GP mean is flat between the points with spikes at them, every band's IQR is tiny, and
        // scikit-learn's scaling gave |x| up to 1.3e6. The floors keep it within ±100.
        var lc = new LightCurve();
        foreach (var (t, f, e) in new[] { (61119.18490114811, -457.5848056614059, 75.83964445317646), (61224.20727365588, 807.867481708005, 121.63549897278997),
                     (61224.24171922107, 803.2381423420829, 139.68720077613318), (61243.11683065151, 494.6123836703905, 89.63045477336003),
                     (61245.265233731196, -648.5018428194855, 119.91855046030527), (61249.23966956934, 744.8187140832102, 128.94458015874648) })
            lc.Add(t, Band.LsstG, (float)f, (float)e, PointKind.Detection);
        var dest = new float[600]; var plain = new float[600];
        Assert.Null(new T2FeatureExtractor(Unfloored(T2Preprocessing.Lsst)).Extract(lc, plain));
        Assert.True(plain.Max(Math.Abs) > 1e4, $"unfloored max |x| {plain.Max(Math.Abs)}: the case no longer reproduces");
        Assert.Null(new T2FeatureExtractor(T2Preprocessing.Lsst).Extract(lc, dest));
        Assert.All(dest, v => Assert.InRange(v, -100f, 100f));
        Assert.Equal(100f, dest.Max(Math.Abs), 3);   // the deviation floor scales the largest spike to exactly the bound
    }

    [Fact]
    public void RubinCurveWithEmptyBands_KeepsTheDetectedBandsUnchanged()
    {
        // Detections in g and r only: u, i, z, y are the GP carried across wavelength.
        var lc = TestLightCurves.Transient([Band.LsstG, Band.LsstR], 6, cadence: 1, seed: 9);
        var dest = new float[600]; var plain = new float[600];
        Assert.Null(new T2FeatureExtractor(T2Preprocessing.Lsst).Extract(lc, dest));
        Assert.Null(new T2FeatureExtractor(Unfloored(T2Preprocessing.Lsst)).Extract(lc, plain));
        Assert.All(dest, v => Assert.InRange(v, -100f, 100f));
        foreach (int c in new[] { 1, 2 })
            for (int j = 0; j < 100; j++) Assert.Equal(plain[j * 6 + c], dest[j * 6 + c], 1e-6f);
    }

    [Fact]
    public void FlatBand_IsScaledByTheWidestBandsFloor_NotBlownUp()
    {
        // A band varying by 1e-9 of the main band: its own IQR would turn round-off into unit-IQR "shape".
        var column = Enumerable.Range(0, 100).Select(j => 5.0 + 1e-9 * Math.Sin(j)).ToArray();
        var scratch = new double[100];
        T2FeatureExtractor.RobustCenterIqr(column, scratch, out _, out var iqr);
        Assert.True(iqr < 1e-8);
        double scale = T2FeatureExtractor.FlooredScale(iqr, widestIqr: 300.0, column, 5.0, 0.01, 100);
        Assert.Equal(3.0, scale, 12);   // 1 % of the widest band's IQR
        // Above both floors the IQR itself is returned, bit for bit.
        var normal = Enumerable.Range(0, 100).Select(j => 100.0 * Math.Sin(j / 10.0)).ToArray();
        T2FeatureExtractor.RobustCenterIqr(normal, scratch, out _, out var normalIqr);
        Assert.Equal(normalIqr, T2FeatureExtractor.FlooredScale(normalIqr, 300.0, normal, 0.0, 0.01, 100));
    }

    [Fact]
    public void SpikeOnAFlatBaseline_IsBoundedByTheDeviationFloor()
    {
        // 90 of 100 grid values equal: IQR exactly 0, sklearn would divide by 1 and keep the raw 1e6.
        var column = Enumerable.Range(0, 100).Select(j => j < 90 ? 0.0 : 1e6).ToArray();
        double scale = T2FeatureExtractor.FlooredScale(0.0, widestIqr: 0.0, column, center: 0.0, 0.01, 100);
        Assert.Equal(1e4, scale, 9);
        // Floors off: scikit-learn's 0 -> 1.
        Assert.Equal(1.0, T2FeatureExtractor.FlooredScale(0.0, 0.0, column, 0.0, 0, 0));
    }

    [Fact]
    public void AnyLightCurve_GivesFeaturesWithinTheBound_OrAReason()
    {
        // Arbitrary Rubin curves: any subset of bands (often one or more empty), fluxes from faint negative to very bright,
        // errors from tiny to huge, any cadence. Every output must be finite and within ±MaxAbsFeature.
        var point = Gen.Select(Gen.Double[60000, 60400],
            Gen.OneOf(Band.LsstU, Band.LsstG, Band.LsstR, Band.LsstI, Band.LsstZ, Band.LsstY),
            Gen.Frequency((3, (IGen<float>)Gen.Float[-1e3f, 1e4f]), (1, Gen.Float[-1e7f, 1e9f])),
            Gen.Frequency((3, (IGen<float>)Gen.Float[1f, 1e3f]), (1, Gen.Float[1e-3f, 1e6f])));
        var ex = new T2FeatureExtractor(T2Preprocessing.Lsst);
        var dest = new float[600];
        double bound = T2Preprocessing.Lsst.MaxAbsFeature;
        int extracted = 0;
        point.Array[3, 30].Sample(points =>
        {
            var lc = new LightCurve();
            foreach (var (t, b, f, e) in points) lc.Add(t, b, f, e, PointKind.Detection);
            if (ex.Extract(lc, dest) is not null) return true;
            extracted++;
            return dest.All(v => float.IsFinite(v) && Math.Abs(v) <= bound);
        }, iter: 150, threads: 1);
        Assert.True(extracted > 100, $"only {extracted} of 150 curves were extracted");
    }

    [Fact]
    public void AnyZtfLightCurve_GivesFeaturesWithinTheBound_OrAReason()
    {
        var point = Gen.Select(Gen.Double[58000, 58060], Gen.OneOf(Band.ZtfG, Band.ZtfR),
            Gen.Float[-1e5f, 1e7f], Gen.Float[1e-2f, 1e5f]);
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var dest = new float[200];
        point.Array[3, 25].Sample(points =>
        {
            var lc = new LightCurve();
            foreach (var (t, b, f, e) in points) lc.Add(t, b, f, e, PointKind.Detection);
            return ex.Extract(lc, dest) is not null || dest.All(v => float.IsFinite(v) && Math.Abs(v) <= 100f);
        }, iter: 150, threads: 1);
    }

    private static double ColumnIqr(float[] dest, int c, int ch)
    {
        var col = Enumerable.Range(0, 100).Select(j => (double)dest[j * ch + c]).ToArray();
        T2FeatureExtractor.RobustCenterIqr(col, new double[100], out _, out var iqr);
        return iqr;
    }
}
