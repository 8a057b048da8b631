using Alerts.Core;

namespace Alerts.Simulator.Physics;

/// <summary>
/// A simulated astrophysical source: its true flux in every band at any time, the flux of the reference
/// (template) image that difference imaging subtracts, and its true parameters for the label table.
/// Fluxes are in nJy (Core's convention, AB zero point 31.4).
/// </summary>
public abstract class SourceModel
{
    public required string ClassName { get; init; }
    /// <summary>Redshift; NaN for Galactic sources.</summary>
    public double Redshift { get; init; } = double.NaN;
    /// <summary>Observer-frame window [start, end] (MJD) in which the survey observes the source.</summary>
    public double WindowStart { get; set; }
    public double WindowEnd { get; set; }

    /// <summary>True flux of the source (nJy) at <paramref name="mjd"/>; <paramref name="visitIndex"/> is the index of the visit in time order (stochastic models use it).</summary>
    public abstract double Flux(double mjd, Band band, int visitIndex);

    /// <summary>Flux of the source in the reference image: zero for transients, the mean flux for variables.</summary>
    public virtual double ReferenceFlux(Band band) => 0;

    /// <summary>Called once with every visit time in order, before <see cref="Flux"/> (stochastic models draw their path here).</summary>
    public virtual void Prepare(Rng rng, ReadOnlySpan<double> visitMjd, ReadOnlySpan<Band> visitBand) { }

    /// <summary>True parameters, written as label-table columns (see <see cref="LabelColumns"/>).</summary>
    public readonly Dictionary<string, double> Parameters = new(StringComparer.Ordinal);

    /// <summary>Parameter columns of the label table, in order (blank when a class does not use one).</summary>
    public static readonly string[] LabelColumns =
    [
        "peak_mjd", "peak_mag_r", "peak_abs_mag", "rise_days", "fade_days", "color_gr_peak", "t_rise_tau", "plateau_days",
        "t_fall_tau", "distance_modulus", "period_days", "amplitude_mag", "mean_mag_r", "tau_days", "sf_inf_mag",
        "t_e_days", "u0", "blend_fraction", "flare_amplitude_mag", "flare_fwhm_minutes",
    ];

    /// <summary>Relative colour weight of a band in units of the g−r colour: 1 for g, 0 for r, about −0.56 for i.
    /// The weight is linear in inverse rest-frame wavelength, a smooth (blackbody-like) spectral slope.</summary>
    public static double ColourWeight(Band band, double z)
    {
        double zz = double.IsNaN(z) ? 0 : z;
        double inv(double lamAngstrom) => 1e4 / lamAngstrom;
        const double lg = 4804.79, lr = 6436.92;
        double lam = band.EffectiveWavelength() / (1 + zz);
        return (inv(lam) - inv(lr)) / (inv(lg) - inv(lr));
    }
}

/// <summary>
/// The supernova-like transient family (SNe, SLSN-I, TDE, KN): the Villar et al. (2019, ApJ 884, 83) analytic form,
/// a logistic rise with time scale τ_rise, a linear "plateau" decline of slope β for γ days, then an exponential
/// decline with τ_fall. It reduces to Bazin et al. (2009) when γ → 0. Parameters are rest-frame; the observer sees
/// them stretched by (1+z). Colour: a g−r colour at peak plus a linear reddening rate, spread over bands by
/// <see cref="SourceModel.ColourWeight"/>. Peak absolute magnitude is in r (rest frame; no K-correction).
/// </summary>
public sealed class VillarTransient : SourceModel
{
    public double T0 { get; init; }           // explosion-ish reference time (MJD, observer frame)
    public double TauRise { get; init; }
    public double Gamma { get; init; }
    public double Beta { get; init; }
    public double TauFall { get; init; }
    public double PeakFluxR { get; init; }     // nJy at r-band peak
    public double ColourAtPeak { get; init; }  // g - r at peak (mag)
    public double ColourRate { get; init; }    // d(g-r)/dt after peak (mag per rest-frame day)
    public double ColourRateMaxDays { get; init; } = 60;
    /// <summary>Extra fading of bluer bands: τ_fall(band) = τ_fall / (1 + BlueFasterFade * weight).</summary>
    public double BlueFasterFade { get; init; }

    private double _peakRest = double.NaN, _norm = 1;

    public double PeakRestDays { get { EnsureNorm(); return _peakRest; } }
    public double PeakMjd => T0 + PeakRestDays * (1 + Z);
    private double Z => double.IsNaN(Redshift) ? 0 : Redshift;

    private double Shape(double tau, double tauFall)
    {
        double rise = 1.0 / (1.0 + Math.Exp(-tau / TauRise));
        if (tau < Gamma) return rise * Math.Max(1 - Beta * Math.Max(tau, 0), 0.02);
        return rise * Math.Max(1 - Beta * Gamma, 0.02) * Math.Exp(-(tau - Gamma) / tauFall);
    }

    private void EnsureNorm()
    {
        if (!double.IsNaN(_peakRest)) return;
        double best = -1, bt = 0;
        double lo = -5 * TauRise, hi = Gamma + 3 * TauFall;
        for (int i = 0; i <= 600; i++)
        {
            double t = lo + (hi - lo) * i / 600.0;
            double s = Shape(t, TauFall);
            if (s > best) { best = s; bt = t; }
        }
        _peakRest = bt; _norm = 1 / best;
    }

    public override double Flux(double mjd, Band band, int visitIndex)
    {
        EnsureNorm();
        double tau = (mjd - T0) / (1 + Z);
        if (tau < -12 * TauRise) return 0;
        double w = ColourWeight(band, Redshift);
        double tf = TauFall / (1 + BlueFasterFade * Math.Max(w, -0.5));
        double since = Math.Clamp(tau - _peakRest, -10, ColourRateMaxDays);
        double colour = ColourAtPeak + ColourRate * since;
        return PeakFluxR * _norm * Shape(tau, tf) * Math.Pow(10, -0.4 * colour * w);
    }

    /// <summary>Observer-frame time from half maximum to maximum, and maximum to half maximum, in band r.</summary>
    public (double Rise, double Fade) HalfMaxTimes(Band r)
    {
        EnsureNorm();
        double peak = PeakMjd, fp = Flux(peak, r, 0);
        double step = 0.05 * (1 + Z);
        double t = peak; while (Flux(t, r, 0) > fp / 2 && t > peak - 400) t -= step;
        double rise = peak - t;
        t = peak; while (Flux(t, r, 0) > fp / 2 && t < peak + 1000) t += step;
        return (rise, t - peak);
    }
}

/// <summary>AGN optical variability as a damped random walk (Ornstein–Uhlenbeck process in magnitude;
/// Kelly, Bechtold &amp; Siemiginowska 2009; MacLeod et al. 2010). Rest-frame damping time τ, asymptotic
/// structure function SF∞; bluer bands vary more (SF ∝ λ^-0.5, MacLeod 2010). One path shared by all bands.</summary>
public sealed class DampedRandomWalk : SourceModel
{
    public double MeanMagR { get; init; }
    public double ColourGR { get; init; }
    public double TauRest { get; init; }
    public double SfInf { get; init; }
    private double[] _dm = [];

    public override void Prepare(Rng rng, ReadOnlySpan<double> visitMjd, ReadOnlySpan<Band> visitBand)
    {
        _dm = new double[visitMjd.Length];
        double tauObs = TauRest * (1 + Redshift);
        double sigma = SfInf / Math.Sqrt(2); // stationary std of the process
        double x = rng.Normal(0, sigma), tPrev = visitMjd.Length > 0 ? visitMjd[0] : 0;
        for (int i = 0; i < visitMjd.Length; i++)
        {
            double dt = visitMjd[i] - tPrev;
            double a = Math.Exp(-dt / tauObs);
            x = a * x + sigma * Math.Sqrt(1 - a * a) * rng.Normal();
            _dm[i] = x; tPrev = visitMjd[i];
        }
    }

    private double MeanFlux(Band b) => Photometry.MagToFlux(MeanMagR + ColourGR * ColourWeight(b, double.NaN));
    private static double Scale(Band b) => Math.Pow(b.EffectiveWavelength() / 6436.92, -0.5);

    public override double Flux(double mjd, Band band, int visitIndex) =>
        MeanFlux(band) * Math.Pow(10, -0.4 * _dm[visitIndex] * Scale(band));

    public override double ReferenceFlux(Band band) => MeanFlux(band);
}

/// <summary>A strictly periodic variable (RR Lyrae, Mira, eclipsing binary) with a normalised phase curve.</summary>
public sealed class PeriodicVariable : SourceModel
{
    public double Period { get; init; }
    public double Epoch { get; init; }
    public double MeanMagR { get; init; }
    public double ColourGR { get; init; }
    /// <summary>Peak-to-peak amplitude in r (mag); other bands scale by <see cref="AmplitudeScale"/>.</summary>
    public double AmplitudeR { get; init; }
    public required Func<Band, double> AmplitudeScale { get; init; }
    /// <summary>Phase curve: magnitude offset in [0, 1] units of amplitude (0 = brightest) at phase in [0, 1).</summary>
    public required Func<double, double> PhaseCurve { get; init; }
    public double PhaseCurveMean { get; init; } = 0.5;

    public override double Flux(double mjd, Band band, int visitIndex)
    {
        double ph = (mjd - Epoch) / Period; ph -= Math.Floor(ph);
        double amp = AmplitudeR * AmplitudeScale(band);
        double m = MeanMagR + ColourGR * ColourWeight(band, double.NaN) + amp * (PhaseCurve(ph) - PhaseCurveMean);
        return Photometry.MagToFlux(m);
    }

    private double _medianOffset = double.NaN;

    /// <summary>The reference co-add is a median of many epochs: the median of the phase curve (for an eclipsing
    /// binary that is the out-of-eclipse level, so only eclipses make alerts).</summary>
    public override double ReferenceFlux(Band band)
    {
        if (double.IsNaN(_medianOffset))
        {
            var v = new double[200];
            for (int i = 0; i < v.Length; i++) v[i] = PhaseCurve((i + 0.5) / v.Length) - PhaseCurveMean;
            Array.Sort(v);
            _medianOffset = 0.5 * (v[99] + v[100]);
        }
        double amp = AmplitudeR * AmplitudeScale(band);
        return Photometry.MagToFlux(MeanMagR + ColourGR * ColourWeight(band, double.NaN) + amp * _medianOffset);
    }
}

/// <summary>Point-source point-lens microlensing (Paczyński 1986): A(u) = (u²+2)/(u√(u²+4)), u² = u0² + ((t−t0)/tE)².
/// Achromatic; a blend fraction f_s of the baseline flux is lensed.</summary>
public sealed class PaczynskiLens : SourceModel
{
    public double T0 { get; init; }
    public double TE { get; init; }
    public double U0 { get; init; }
    public double BaselineMagR { get; init; }
    public double ColourGR { get; init; }
    public double BlendFraction { get; init; }

    public static double Magnification(double u) => (u * u + 2) / (u * Math.Sqrt(u * u + 4));

    private double Baseline(Band b) => Photometry.MagToFlux(BaselineMagR + ColourGR * ColourWeight(b, double.NaN));

    public override double Flux(double mjd, Band band, int visitIndex)
    {
        double tt = (mjd - T0) / TE;
        double u = Math.Sqrt(U0 * U0 + tt * tt);
        return Baseline(band) * (1 + BlendFraction * (Magnification(u) - 1));
    }

    public override double ReferenceFlux(Band band) => Baseline(band);
}

/// <summary>M-dwarf flares: a quiescent red star plus fast-rise exponential-decay flares (Davenport et al. 2014
/// template shape simplified to a linear rise over 0.3 FWHM and a double-exponential decay). Flare amplitude is
/// strongest in the blue (hot ~10⁴ K blackbody on a ~3000 K star: Δm_u ≈ 2.4 Δm_g, Δm_r ≈ 0.4 Δm_g, Δm_i ≈ 0.2 Δm_g).
/// Flares are placed conditionally on visits (each visit falls in a flare with probability DutyCycle, and at least
/// one does), which is the Poisson flare process restricted to the epochs a survey samples.</summary>
public sealed class FlareStar : SourceModel
{
    public double QuiescentMagR { get; init; }
    public double ColourGR { get; init; }
    public double DutyCycle { get; init; }
    public double AmplitudeGMedian { get; init; }
    private double[] _dmG = [];

    private double Quiescent(Band b) => Photometry.MagToFlux(QuiescentMagR + ColourGR * ColourWeight(b, double.NaN));

    public static double BandScale(Band b) => b switch
    {
        Band.LsstU => 2.4, Band.ZtfG or Band.LsstG => 1.0, Band.ZtfR or Band.LsstR => 0.4,
        Band.ZtfI or Band.LsstI => 0.2, Band.LsstZ => 0.12, Band.LsstY => 0.08, _ => 0.5,
    };

    public override void Prepare(Rng rng, ReadOnlySpan<double> visitMjd, ReadOnlySpan<Band> visitBand)
    {
        _dmG = new double[visitMjd.Length];
        if (visitMjd.Length == 0) return;
        int forced = rng.NextInt(visitMjd.Length);
        double maxAmp = 0, fwhm = 0;
        for (int i = 0; i < visitMjd.Length; i++)
        {
            if (i != forced && !rng.Chance(DutyCycle)) continue;
            // Peak flux ratio ΔF/F_q in g, log-normal around the median; the visit lands at a random time in the flare.
            double peakRatio = rng.LogNormal(AmplitudeGMedian, 0.35);
            double fwhmMin = rng.LogUniform(5, 60);
            double phase = rng.Uniform(-0.3, 4.0); // in FWHM units after peak
            double shape = phase < 0 ? 1 + phase / 0.3 : 0.69 * Math.Exp(-1.6 * phase) + 0.31 * Math.Exp(-0.24 * phase);
            _dmG[i] = peakRatio * Math.Max(shape, 0);
            if (peakRatio > maxAmp) { maxAmp = peakRatio; fwhm = fwhmMin; }
        }
        Parameters["flare_amplitude_mag"] = 2.5 * Math.Log10(1 + maxAmp);
        Parameters["flare_fwhm_minutes"] = fwhm;
    }

    public override double Flux(double mjd, Band band, int visitIndex) =>
        Quiescent(band) * (1 + _dmG[visitIndex] * BandScale(band));

    public override double ReferenceFlux(Band band) => Quiescent(band);
}
