using Alerts.Classifier.Training;
using Alerts.Core;
using CsCheck;
using Xunit;

namespace Alerts.Classifier.Tests;

/// <summary>ZTF g/r curves moved into Rubin's ugrizy through the GP (<see cref="AugmentationOptions.Rubin"/>).</summary>
public class SurveyMoveTests
{
    private static readonly Band[] ZtfGr = [Band.ZtfG, Band.ZtfR];

    /// <summary>
    /// A ZTF-like Bazin transient in g and r with a flat colour: r is <paramref name="gMinusR"/> mag brighter than g at
    /// every epoch (negative: a blue source). Points every 2 d alternating g and r, 3 % errors, light noise.
    /// </summary>
    private static LightCurve Bazin(double peakMag, double gMinusR, int seed, int nights = 40, double t0 = 60000, double tauFall = 30)
    {
        var rng = new Random(seed);
        var lc = new LightCurve();
        for (int d = 0; d < nights; d++)
            foreach (var band in ZtfGr)
            {
                double t = t0 + 2 * d + (band == Band.ZtfR ? 0.1 : 0);
                double x = t - (t0 + 15);
                double shape = Math.Exp(-x / tauFall) / (1 + Math.Exp(-x / 3)) / PeakOfShape(tauFall);
                double f = Photometry.MagToFlux(peakMag + (band == Band.ZtfG ? gMinusR : 0)) * shape;
                double err = 0.03 * Photometry.MagToFlux(peakMag) + 0.01 * f;
                lc.Add(t, band, (float)(f + 0.2 * err * TestLightCurves.Gaussian(rng)), (float)err, PointKind.Detection);
            }
        return lc;
    }

    private static double PeakOfShape(double tauFall)
    {
        double best = 0;
        for (double x = -30; x < 60; x += 0.05) best = Math.Max(best, Math.Exp(-x / tauFall) / (1 + Math.Exp(-x / 3)));
        return best;
    }

    private static LightCurveAugmenter Rubin(AugmentationOptions? options = null) => new(ZtfGr, options ?? AugmentationOptions.Rubin);

    [Fact]
    public void Moved_curves_hold_only_rubin_bands_and_detections_at_least_five_sigma_against_the_visit_depth()
    {
        var o = AugmentationOptions.Rubin;
        Gen.Int.Select(Gen.Double[16.5, 19.5], Gen.Double[-0.5, 0.5], Gen.Double[0.01, 0.15]).Sample((seed, peak, colour, z) =>
        {
            var aug = Rubin();
            Assert.True(aug.Fit(Bazin(peak, colour, seed)));
            var lc = new LightCurve();
            double zNew = aug.Sample(z, new Random(seed), lc);
            Assert.InRange(zNew, z * (1 - 1e-9), Math.Max(z, o.MaxRedshift) + 1e-9);
            for (int i = 0; i < lc.Count; i++)
            {
                int c = Array.IndexOf(Bands.Lsst, lc.Band[i]);
                Assert.True(c >= 0, $"band {lc.Band[i]} is not a Rubin band");
                Assert.Equal(PointKind.Detection, lc.Kind[i]);
                // The deepest a visit in this band can be: the mean depth + 3 spreads; its sky error is the floor.
                double floor = LightCurveAugmenter.VisitError(0, o.BandLimitingMagnitude![c] + 3 * o.LimitingMagnitudeSpread, o.DetectionSigma);
                Assert.True(lc.FluxErr[i] >= floor * 0.999, $"{lc.Band[i]} error {lc.FluxErr[i]} below the sky floor {floor}");
                Assert.True(lc.Flux[i] / lc.FluxErr[i] >= o.DetectionSigma * 0.999);
                if (i > 0) Assert.True(lc.Mjd[i] > lc.Mjd[i - 1]);
            }
        }, iter: 30);
    }

    [Fact]
    public void A_flat_colour_source_keeps_its_g_r_order_in_rubin_g_and_r_at_every_epoch()
    {
        Gen.Int.Select(Gen.Double[0.2, 0.6], Gen.Bool, Gen.Double[1.0, 1.15]).Sample((seed, size, blue, stretch) =>
        {
            double colour = blue ? -size : size, z = 0.05, zNew = (1 + z) * stretch - 1;
            var aug = Rubin(AugmentationOptions.Rubin with { Noise = false });
            Assert.True(aug.Fit(Bazin(18, colour, seed)));
            // Around the peak (source frame 12–50 d after the first point, the peak at 15 d), observed after the move.
            for (double t = 12; t <= 50; t += 2.5)
            {
                double mjd = 60000 + t * LightCurveAugmenter.TimeStretch(z, zNew);
                double g = aug.ExpectedFlux(mjd, 1, z, zNew, out _), r = aug.ExpectedFlux(mjd, 2, z, zNew, out _);
                Assert.True(g > 0 && r > 0);
                if (blue) Assert.True(g > r, $"blue source (g−r {colour:0.00}) at {t} d, z' {zNew:0.000}: g {g} ≤ r {r}");
                else Assert.True(r > g, $"red source (g−r {colour:0.00}) at {t} d, z' {zNew:0.000}: r {r} ≤ g {g}");
            }
        }, iter: 30);
    }

    [Fact]
    public void Outside_the_source_bands_the_gp_uncertainty_grows_and_the_mean_reverts()
    {
        var aug = Rubin(AugmentationOptions.Rubin with { Noise = false });
        Assert.True(aug.Fit(Bazin(18, 0, 3)));
        double mjd = 60015;
        double fg = aug.ExpectedFlux(mjd, 1, 0.05, 0.05, out var sg), fr = aug.ExpectedFlux(mjd, 2, 0.05, 0.05, out var sr);
        double fu = aug.ExpectedFlux(mjd, 0, 0.05, 0.05, out var su), fy = aug.ExpectedFlux(mjd, 5, 0.05, 0.05, out var sy);
        Assert.True(su > 2 * Math.Max(sg, sr), $"σ u {su} vs g {sg}, r {sr}");
        Assert.True(sy > 2 * Math.Max(sg, sr), $"σ y {sy} vs g {sg}, r {sr}");
        // A colourless source: u and y read below the measured level (toward the zero prior mean), still positive.
        Assert.InRange(fu, 0, Math.Min(fg, fr));
        Assert.InRange(fy, 0, Math.Min(fg, fr));
    }

    [Fact]
    public void Moved_further_the_peak_is_fainter_in_every_band()
    {
        Gen.Int.Select(Gen.Double[-0.5, 0.5], Gen.Double[0.02, 0.1], Gen.Double[1.1, 3.0]).Sample((seed, colour, z1, k) =>
        {
            var aug = Rubin(AugmentationOptions.Rubin with { Noise = false });
            Assert.True(aug.Fit(Bazin(18, colour, seed)));
            double z2 = z1 * k;
            for (int c = 1; c < 5; c++)
                Assert.True(aug.PeakFlux(c, 0.02, z2) < aug.PeakFlux(c, 0.02, z1), $"band {Bands.Lsst[c]} z {z1:0.000} → {z2:0.000}");
        }, iter: 30);
    }

    [Fact]
    public void The_redshift_bound_is_where_the_peak_reaches_the_r_depth_and_lies_beyond_the_ztf_bound()
    {
        var o = AugmentationOptions.Rubin;
        var aug = Rubin();
        Assert.True(aug.Fit(Bazin(18.5, -0.1, 7)));
        double zMax = aug.DepthRedshift(0.05);
        Assert.True(zMax > 0.05 * new AugmentationOptions().MaxRedshiftFactor, $"Rubin bound {zMax}");
        Assert.True(zMax <= o.MaxRedshift);
        if (zMax < o.MaxRedshift)
            Assert.Equal(o.BandLimitingMagnitude![o.DepthBand], Photometry.FluxToMag(aug.PeakFlux(o.DepthBand, 0.05, zMax)), 0.01);
        // A bright, nearby source reaches the cap.
        Assert.True(aug.Fit(Bazin(15, -0.1, 7)));
        Assert.Equal(o.MaxRedshift, aug.DepthRedshift(0.02), 9);
        // Drawn redshifts stay within [z, bound].
        var rng = new Random(5);
        Assert.True(aug.Fit(Bazin(18.5, -0.1, 7)));
        for (int i = 0; i < 50; i++) Assert.InRange(aug.Sample(0.05, rng, new LightCurve()), 0.05, zMax + 1e-9);
    }

    [Fact]
    public void A_long_lived_source_is_seen_in_seasons_with_half_year_gaps()
    {
        // A slowly varying source observed by ZTF for two years (bright, every 3 d).
        var src = new LightCurve();
        for (int d = 0; d < 730; d += 3)
            foreach (var b in ZtfGr)
            {
                double f = Photometry.MagToFlux(18 + 0.3 * Math.Sin(d / 90.0) + (b == Band.ZtfG ? -0.2 : 0));
                src.Add(60000 + d + (b == Band.ZtfR ? 0.1 : 0), b, (float)f, (float)(0.03 * f), PointKind.Detection);
            }
        Gen.Int.Sample(seed =>
        {
            var aug = Rubin(AugmentationOptions.Rubin with { KeepRedshiftProbability = 1 });
            Assert.True(aug.Fit(src));
            var lc = new LightCurve();
            aug.Sample(0.05, new Random(seed), lc);
            Assert.True(lc.Count > 50);
            // Phases within the year: a gap of at least a year minus the season (less a few days) holds no point.
            var phase = lc.Mjd.ToArray().Select(t => ((t % 365.25) + 365.25) % 365.25).Order().ToList();
            double gap = phase[0] + 365.25 - phase[^1];
            for (int i = 1; i < phase.Count; i++) gap = Math.Max(gap, phase[i] - phase[i - 1]);
            Assert.True(gap >= 365.25 - AugmentationOptions.Rubin.SeasonDays - 5, $"largest gap in the year {gap:0.0} d");
            // Within a season the field is revisited every few days: most nights are 1 to 6 days apart.
            var mjd = lc.Mjd.ToArray();
            var steps = mjd.Zip(mjd.Skip(1), (a, b) => b - a).Where(s => s > 0.5 && s < 60).ToList();   // between nights
            Assert.InRange(steps.Average(), 2.0, 5.0);
        }, iter: 30);
    }

    [Fact]
    public void Paired_visits_are_in_distinct_bands_and_follow_the_band_mix()
    {
        var aug = Rubin(AugmentationOptions.Rubin with { KeepRedshiftProbability = 1, Noise = false });
        Assert.True(aug.Fit(Bazin(14, 0, 1, nights: 100, tauFall: 400)));   // bright and long: every visit is a detection
        var counts = new int[6];
        int total = 0;
        var rng = new Random(2);
        for (int k = 0; k < 30; k++)
        {
            var lc = new LightCurve();
            aug.Sample(0.02, rng, lc);
            for (int i = 0; i < lc.Count; i++) { counts[Array.IndexOf(Bands.Lsst, lc.Band[i])]++; total++; }
            for (int i = 1; i < lc.Count; i++)
                if (lc.Mjd[i] - lc.Mjd[i - 1] < 0.1) Assert.NotEqual(lc.Band[i - 1], lc.Band[i]);
        }
        var mix = AugmentationOptions.Rubin.BandMix!;
        for (int c = 0; c < 6; c++) Assert.InRange((double)counts[c] / total, mix[c] - 0.04, mix[c] + 0.04);
    }

    [Fact]
    public void Moving_is_deterministic_for_a_seed()
    {
        Gen.Int.Select(Gen.Double[-0.4, 0.4]).Sample((seed, colour) =>
        {
            var src = Bazin(18, colour, seed);
            LightCurve Draw()
            {
                var aug = Rubin();
                Assert.True(aug.Fit(src));
                var lc = new LightCurve();
                aug.Sample(0.04, new Random(seed), lc);
                return lc;
            }
            LightCurve a = Draw(), b = Draw();
            Assert.Equal(a.Count, b.Count);
            Assert.Equal(a.Mjd.ToArray(), b.Mjd.ToArray());
            Assert.Equal(a.Band.ToArray(), b.Band.ToArray());
            Assert.Equal(a.Flux.ToArray(), b.Flux.ToArray());
        }, iter: 30);
    }

    [Fact]
    public void The_ztf_profile_stays_the_default_and_keeps_the_source_bands()
    {
        var aug = new LightCurveAugmenter(ZtfGr);
        Assert.Equal(ZtfGr, aug.TargetBands);
        Assert.Equal(SurveyCadence.NightlyBands, aug.Options.Cadence);
        Assert.True(aug.Fit(Bazin(18, 0.1, 1)));
        var lc = new LightCurve();
        aug.Sample(0.05, new Random(1), lc);
        Assert.All(lc.Band.ToArray(), b => Assert.Contains(b, ZtfGr));
    }
}
