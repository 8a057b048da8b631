using Alerts.Core;
using Alerts.Simulator.Physics;
using CsCheck;

namespace Alerts.Simulator.Tests;

public class PhysicsTests
{
    [Theory]
    // Flat ΛCDM H0=70, Ωm=0.3 (values from astropy.cosmology.FlatLambdaCDM(70, 0.3)).
    [InlineData(0.1, 460.0, 38.31)]
    [InlineData(0.5, 2832.9, 42.26)]
    [InlineData(1.0, 6607.7, 44.10)]
    public void Luminosity_distance_and_distance_modulus_match_flat_lambda_cdm(double z, double dlMpc, double mu)
    {
        Assert.Equal(dlMpc, Cosmology.LuminosityDistanceMpc(z), dlMpc * 2e-3);
        Assert.Equal(mu, Cosmology.DistanceModulus(z), 0.01);
    }

    [Fact]
    public void Paczynski_magnification_has_the_known_values()
    {
        Assert.Equal(1.3416, PaczynskiLens.Magnification(1.0), 1e-4);
        Assert.Equal(10.037, PaczynskiLens.Magnification(0.1), 1e-3);
        Gen.Double[1e-3, 50].Sample(u => Assert.True(PaczynskiLens.Magnification(u) > 1), iter: 2000);
    }

    [Fact]
    public void Damped_random_walk_has_the_stationary_variance_sf_inf_squared_over_two()
    {
        var drw = new DampedRandomWalk { ClassName = "AGN", Redshift = 0, MeanMagR = 19, ColourGR = 0, TauRest = 50, SfInf = 0.3 };
        var t = Enumerable.Range(0, 20000).Select(i => 60000.0 + i * 10.0).ToArray();
        drw.Prepare(new Rng(1), t, Enumerable.Repeat(Band.ZtfR, t.Length).ToArray());
        var m = t.Select((x, i) => Photometry.FluxToMag(drw.Flux(x, Band.ZtfR, i)) - 19).ToArray();
        double mean = m.Average(), var = m.Select(x => (x - mean) * (x - mean)).Average();
        Assert.Equal(0.3 * 0.3 / 2, var, 0.006);
        // Correlation at lag 10 d with τ = 50 d: e^(−0.2).
        double c = 0; for (int i = 1; i < m.Length; i++) c += (m[i] - mean) * (m[i - 1] - mean);
        Assert.Equal(Math.Exp(-0.2), c / (m.Length - 1) / var, 0.03);
    }

    [Fact]
    public void Supernova_peaks_at_the_drawn_time_and_magnitude_and_is_time_dilated()
    {
        var rng = new Rng(3);
        for (int k = 0; k < 200; k++)
        {
            var sn = (VillarTransient)ClassCatalog.Draw("SNIa", rng, Survey.Ztf, 61000, 61100);
            double peak = sn.Parameters["peak_mjd"];
            double fPeak = sn.Flux(peak, Band.ZtfR, 0);
            Assert.True(fPeak >= sn.Flux(peak - 1, Band.ZtfR, 0) && fPeak >= sn.Flux(peak + 1, Band.ZtfR, 0));
            Assert.Equal(sn.Parameters["peak_mag_r"], Photometry.FluxToMag(fPeak), 1e-9);
            Assert.InRange(sn.Parameters["peak_abs_mag"], -19.25 - 3 * 0.28 - 1e-9, -19.25 + 3 * 0.28 + 1e-9);
            // Without colour evolution, the observer-frame rise and fade are the rest-frame ones stretched by (1+z).
            var rest = new VillarTransient { ClassName = "SNIa", Redshift = 0, TauRise = sn.TauRise, Gamma = sn.Gamma, Beta = sn.Beta, TauFall = sn.TauFall, PeakFluxR = 1 };
            var far = new VillarTransient { ClassName = "SNIa", Redshift = sn.Redshift, TauRise = sn.TauRise, Gamma = sn.Gamma, Beta = sn.Beta, TauFall = sn.TauFall, PeakFluxR = 1 };
            var (r0, f0) = rest.HalfMaxTimes(Band.ZtfR); var (r1, f1) = far.HalfMaxTimes(Band.ZtfR);
            Assert.Equal(r0 * (1 + sn.Redshift), r1, 0.1 * (1 + sn.Redshift));
            Assert.Equal(f0 * (1 + sn.Redshift), f1, 0.1 * (1 + sn.Redshift));
        }
    }

    [Fact]
    public void Supernovae_redden_after_peak_and_kilonovae_fade_fast_and_red()
    {
        var rng = new Rng(5);
        var sn = (VillarTransient)ClassCatalog.Draw("SNIa", rng, Survey.Ztf, 61000, 61100);
        double p = sn.PeakMjd;
        double Gr(VillarTransient s, double t) => -2.5 * Math.Log10(s.Flux(t, Band.ZtfG, 0) / s.Flux(t, Band.ZtfR, 0));
        Assert.True(Gr(sn, p + 30) > Gr(sn, p) + 0.5);
        var kn = (VillarTransient)ClassCatalog.Draw("KN", rng, Survey.Ztf, 61000, 61100);
        double declineG = Photometry.FluxToMag(kn.Flux(kn.PeakMjd + 3, Band.ZtfG, 0)) - Photometry.FluxToMag(kn.Flux(kn.PeakMjd, Band.ZtfG, 0));
        Assert.True(declineG > 1.0, $"KN g-band decline over 3 d was {declineG:F2} mag");
        Assert.True(Gr(kn, kn.PeakMjd + 3) > Gr(kn, kn.PeakMjd) + 0.5);
    }

    [Fact]
    public void Flux_errors_follow_the_limiting_magnitude()
    {
        // At the 5σ limit with a faint source, S/N is close to 5.
        double f = Photometry.MagToFlux(20.5);
        Assert.Equal(5.0, f / SurveyModel.FluxError(20.5, f, 0, f), 0.6);
        // A bright source is dominated by photon noise and the 0.5% floor: error < 1%.
        double b = Photometry.MagToFlux(15);
        Assert.InRange(SurveyModel.FluxError(20.5, b, 0, b) / b, 0.004, 0.01);
    }

    [Fact]
    public void Ztf_visits_follow_the_cadence_depth_and_seasons()
    {
        var model = new SurveyModel(Survey.Ztf, 1);
        var visits = new List<Visit>();
        var rng = new Rng(2);
        model.Visits(rng, 180, 30, 61000, 61730, visits);
        Assert.All(visits, v => Assert.Contains(v.Band, Bands.Ztf));
        Assert.InRange(visits.Average(v => v.LimitingMag), 20.3, 20.8);
        var nights = visits.Select(v => Math.Floor(v.Mjd)).Distinct().Order().ToArray();
        var gaps = nights.Zip(nights.Skip(1), (a, b) => b - a).ToArray();
        Assert.InRange(gaps.Where(g => g < 30).Average(), 2, 5);           // 2–4 night cadence plus weather
        Assert.True(gaps.Max() > 90, "a season gap (the Sun) is expected within two years");
        Assert.True(visits.Zip(visits.Skip(1), (a, b) => b.Mjd >= a.Mjd).All(x => x));
    }

    [Fact]
    public void Rubin_visits_use_all_six_bands_and_reach_24th_magnitude()
    {
        var model = new SurveyModel(Survey.Lsst, 1);
        var visits = new List<Visit>();
        model.Visits(new Rng(4), 30, -40, 61000, 61730, visits);
        Assert.Equal(6, visits.Select(v => v.Band).Distinct().Count());
        Assert.InRange(visits.Where(v => v.Band == Band.LsstR).Average(v => v.LimitingMag), 23.7, 24.3);
    }
}
