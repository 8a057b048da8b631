using Alerts.Classifier;
using Alerts.Classifier.Training;
using Alerts.Core;
using CsCheck;
using Xunit;

namespace Alerts.Classifier.Tests;

public class WindowPreprocessingTests
{
    private static LightCurve Transient(double start, int nights, double peakMag = 18.5)
    {
        var lc = new LightCurve();
        for (int d = 0; d < nights; d++)
            foreach (var (band, offset) in new[] { (Band.ZtfG, 0.0), (Band.ZtfR, 0.3) })
            {
                double t = d * 2.0;
                double mag = peakMag + 0.02 * (t - 15) * (t - 15) / 10 + offset;
                double f = Photometry.MagToFlux(mag);
                lc.Add(start + t + offset / 10, band, (float)f, (float)(0.05 * f), PointKind.Detection);
            }
        return lc;
    }

    [Fact]
    public void Window_grid_starts_before_the_first_detection_is_dense_early_and_ends_at_the_window_end()
    {
        var p = T2Preprocessing.ZtfWindow;
        var grid = new double[p.Steps];
        T2FeatureExtractor.WindowGrid(p, grid);
        Assert.Equal(-5, grid[0], 9);
        Assert.Equal(195, grid[^1], 9);
        for (int j = 1; j < grid.Length; j++) Assert.True(grid[j] > grid[j - 1]);
        Assert.True(grid[1] - grid[0] < 0.4);            // 0.3 d a step before the first detection
        Assert.True(grid[^1] - grid[^2] > 6);             // 6.5 d a step at the end
        Assert.Equal(4, p.InputChannels);
        Assert.Equal(["ztfg", "ztfr", "ztfg:near", "ztfr:near"], p.InputChannelNames);
    }

    [Fact]
    public void Window_features_are_divided_by_the_peak_and_keep_the_colour_whatever_the_distance()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.ZtfWindow);
        var near = new float[400];
        var far = new float[400];
        Assert.Null(ex.Extract(Transient(60000, 20, 17.0), near));
        Assert.Null(ex.Extract(Transient(60000, 20, 19.0), far));
        float maxMean = 0;
        for (int j = 0; j < 100; j++) maxMean = Math.Max(maxMean, Math.Max(near[j * 4], near[j * 4 + 1]));
        Assert.InRange(maxMean, 0.95f, 1.1f);
        // Distance only scales the fluxes: the peak-divided features do not change (GP fit to relative errors).
        for (int i = 0; i < 400; i++) Assert.Equal(near[i], far[i], 2e-3f);
        // r is fainter by 0.3 mag at every epoch: the r mean stays below the g mean around the peak (colour kept).
        int peakStep = Enumerable.Range(0, 100).MaxBy(j => near[j * 4]);
        Assert.True(near[peakStep * 4 + 1] < near[peakStep * 4]);
        // Proximity channels are 1 at measured times and fall to ~0 long after the last point.
        Assert.True(near[peakStep * 4 + 2] > 0.5f);
        Assert.True(near[99 * 4 + 2] < 0.01f);
    }

    [Fact]
    public void Window_preset_classifies_from_two_detections_and_says_the_minimum_below_it()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.ZtfWindow);
        var lc = new LightCurve();
        lc.Add(60000, Band.ZtfG, 1000f, 50f, PointKind.Detection);
        Assert.Equal("too-few-points: 1 detection in ztfg,ztfr within 195 d of the first; need 2", ex.Extract(lc, new float[400]));
        lc.Add(60001, Band.ZtfG, 1200f, 50f, PointKind.Detection);
        Assert.Null(ex.Extract(lc, new float[400]));   // one band only: the other is marked unmeasured, not rejected
        // The span preset keeps its bare code (routing rules match it).
        Assert.Equal("too-few-points", new T2FeatureExtractor(T2Preprocessing.Ztf).Extract(lc, new float[200]));
    }

    [Fact]
    public void Dimming_falls_with_redshift_and_time_stretch_grows()
    {
        Gen.Double[0.005, 0.5].Select(Gen.Double[1.0, 3.0]).Sample((z, k) =>
        {
            double z2 = z * k;
            Assert.True(LightCurveAugmenter.DimmingFactor(z, z2) <= 1 + 1e-12);
            Assert.True(LightCurveAugmenter.TimeStretch(z, z2) >= 1 - 1e-12);
            Assert.Equal(1.0, LightCurveAugmenter.DimmingFactor(z, z), 12);
        });
        // Low-z limit: d_L ≈ z c/H0, so doubling z quarters the flux.
        Assert.Equal(0.25, LightCurveAugmenter.DimmingFactor(0.01, 0.02), 2);
    }

    [Fact]
    public void Augmented_points_are_detections_above_threshold_with_errors_at_least_the_sky_floor()
    {
        var options = new AugmentationOptions();
        double floor = LightCurveAugmenter.VisitError(0, options.MaxLimitingMagnitude, options.DetectionSigma);
        Gen.Int.Select(Gen.Double[16.5, 19.5]).Sample((seed, peak) =>
        {
            var aug = new LightCurveAugmenter([Band.ZtfG, Band.ZtfR], options);
            Assert.True(aug.Fit(Transient(60000, 25, peak)));
            var lc = new LightCurve();
            double zNew = aug.Sample(0.05, new Random(seed), lc);
            Assert.InRange(zNew, 0.05, 0.05 * options.MaxRedshiftFactor + 1e-9);
            for (int i = 0; i < lc.Count; i++)
            {
                Assert.Equal(PointKind.Detection, lc.Kind[i]);
                Assert.True(lc.FluxErr[i] >= floor * 0.999, $"error {lc.FluxErr[i]} below the sky floor {floor}");
                Assert.True(lc.Flux[i] / lc.FluxErr[i] >= options.DetectionSigma * 0.999);
            }
        }, iter: 30);
    }

    [Fact]
    public void Noise_free_augmentation_at_the_same_redshift_reproduces_the_fit_and_is_fainter_further_away()
    {
        var aug = new LightCurveAugmenter([Band.ZtfG, Band.ZtfR], new AugmentationOptions { Noise = false });
        var source = Transient(60000, 20, 18.0);
        Assert.True(aug.Fit(source));
        // At the source's own redshift the expected flux is the GP mean, which follows the data closely.
        for (int i = 0; i < source.Count; i += 5)
        {
            double f = aug.ExpectedFlux(source.Mjd[i], source.Band[i] == Band.ZtfG ? 0 : 1, 0.05, 0.05, out _);
            Assert.Equal(source.Flux[i], f, source.Flux[i] * 0.1);
        }
        // Further away: at the same rest-frame epoch the flux is lower (dimmed by the distance ratio squared, up to colour).
        double peakNear = 0, peakFar = 0;
        for (double t = 60000; t < 60080; t += 0.5)
        {
            peakNear = Math.Max(peakNear, aug.ExpectedFlux(t, 1, 0.05, 0.05, out _));
            peakFar = Math.Max(peakFar, aug.ExpectedFlux(t, 1, 0.05, 0.1, out _));
        }
        Assert.True(peakFar < peakNear * 0.35, $"peak at z=0.1 {peakFar} vs z=0.05 {peakNear}");
        // Error scaling: errors grow with flux (photon noise) at a fixed limiting magnitude.
        Assert.True(LightCurveAugmenter.VisitError(1e4, 20.4, 5) > LightCurveAugmenter.VisitError(1e2, 20.4, 5));
    }
}
