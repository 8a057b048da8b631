using Alerts.Core;

namespace Alerts.Classifier.Tests;

/// <summary>The fink-t2 presets (FINK's input recipe for its published t2; see src/Interop).</summary>
public class FinkT2PresetTests
{
    private static readonly Band[] GR = [Band.ZtfG, Band.ZtfR];

    [Fact]
    public void FinkT2_is_FLUXCAL_27_5_both_bands_100_steps_robust_scaled_g_then_r()
    {
        var p = T2Preprocessing.ByName("fink-t2");
        Assert.Equal(27.5, p.ZeroPoint);
        Assert.Equal(100, p.Steps);
        Assert.True(p.RobustScale);
        Assert.Equal(GR, p.Channels);
        Assert.Equal(1, p.MinPointsPerChannel);
        Assert.False(p.IncludeNonDetections);
        Assert.False(p.ReverseTime);
        Assert.Equal(0, p.MinScaleFractionOfWidestBand); // FINK's scaling is scikit-learn's RobustScaler: no floors
        Assert.Equal(0, p.MaxAbsFeature);
        Assert.Equal(0, T2Preprocessing.ByName("fink-t2-production").MaxAbsFeature);
        Assert.False(T2Preprocessing.Ztf.ReverseTime);   // existing presets unchanged
    }

    [Fact]
    public void FinkT2_production_is_the_forward_grid_reversed_in_time()
    {
        var lc = TestLightCurves.Transient(GR, 20, seed: 5);
        float[] forward = new float[200], production = new float[200];
        Assert.Null(new T2FeatureExtractor(T2Preprocessing.FinkT2).Extract(lc, forward));
        Assert.Null(new T2FeatureExtractor(T2Preprocessing.ByName("fink-t2-production")).Extract(lc, production));
        for (int j = 0; j < 100; j++)
            for (int c = 0; c < 2; c++)
                Assert.Equal(forward[j * 2 + c], production[(99 - j) * 2 + c]);
    }

    [Fact]
    public void FinkT2_rg_swaps_the_two_columns()
    {
        var lc = TestLightCurves.Transient(GR, 20, seed: 6);
        float[] gr = new float[200], rg = new float[200];
        Assert.Null(new T2FeatureExtractor(T2Preprocessing.FinkT2).Extract(lc, gr));
        Assert.Null(new T2FeatureExtractor(T2Preprocessing.ByName("fink-t2-rg")).Extract(lc, rg));
        for (int j = 0; j < 100; j++)
        {
            Assert.Equal(gr[j * 2], rg[j * 2 + 1], 5);
            Assert.Equal(gr[j * 2 + 1], rg[j * 2], 5);
        }
    }

    [Fact]
    public void FinkT2_rejects_a_light_curve_with_one_band()
    {
        var lc = TestLightCurves.Transient([Band.ZtfG], 20);
        Assert.StartsWith("missing-band", new T2FeatureExtractor(T2Preprocessing.FinkT2).Extract(lc, new float[200]));
    }
}
