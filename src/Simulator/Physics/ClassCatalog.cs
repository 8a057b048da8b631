using Alerts.Core;

namespace Alerts.Simulator.Physics;

/// <summary>
/// Draws a source of a given t2 class with its parameters from the distributions documented in
/// src/Simulator/README.md (one reference per class). Extragalactic classes get a redshift from the volumetric
/// rate (flat ΛCDM) up to the distance at which even a bright member would fall 1 mag below the survey depth.
/// </summary>
public static class ClassCatalog
{
    public static readonly string[] Extragalactic = ["SNIa", "SNIa-91bg", "SNIax", "SNII", "SNIbc", "SLSN-I", "TDE", "KN", "AGN"];

    public static bool IsExtragalactic(string cls) => Array.IndexOf(Extragalactic, cls) >= 0;

    /// <summary>Relative numbers of each class in an unbalanced (survey-like) run: roughly what a ZTF alert stream
    /// with detections carries (SNe Ia dominate transients; variables and AGN dominate by volume).</summary>
    public static double NaturalWeight(string cls) => cls switch
    {
        "SNIa" => 20, "SNII" => 7, "SNIbc" => 2.5, "SNIax" => 0.6, "SNIa-91bg" => 0.6, "SLSN-I" => 0.4, "TDE" => 0.3,
        "KN" => 0.05, "AGN" => 15, "Mira" => 4, "RRL" => 12, "EB" => 20, "M-dwarf" => 6, "mu-Lens-Single" => 0.5,
        _ => 1,
    };

    private record SnFamily(double MeanM, double SigmaM, double TauRise, double TauRiseDex, double GammaMean, double GammaSigma,
        double BetaMax, double TauFall, double TauFallDex, double Colour, double ColourSigma, double ColourRate, double BlueFade, double ZMaxCap, double RateIndex);

    // Rest-frame distributions; tuned against the ZTF BTS light curves with `alerts simulate --compare-real`.
    private static SnFamily Family(string cls) => cls switch
    {
        "SNIa" => new(-19.25, 0.28, 2.2, 0.10, 8.0, 1.8, 0.012, 19.0, 0.10, -0.05, 0.10, 0.035, 0.35, 0.6, 1.5),
        "SNIa-91bg" => new(-17.6, 0.40, 1.6, 0.10, 6.0, 1.5, 0.015, 13.0, 0.10, 0.35, 0.12, 0.045, 0.45, 0.2, 0),
        "SNIax" => new(-17.2, 0.90, 2.0, 0.12, 6.0, 2.0, 0.015, 18.0, 0.12, 0.05, 0.15, 0.030, 0.35, 0.3, 0),
        "SNII" => new(-17.1, 0.85, 1.8, 0.20, 35.0, 15.0, 0.012, 25.0, 0.20, -0.05, 0.12, 0.012, 0.50, 0.3, 2.0),
        "SNIbc" => new(-17.7, 0.65, 2.6, 0.12, 9.0, 2.5, 0.015, 16.0, 0.15, 0.30, 0.15, 0.030, 0.35, 0.3, 2.0),
        "SLSN-I" => new(-21.3, 0.55, 8.0, 0.15, 18.0, 8.0, 0.010, 35.0, 0.15, -0.15, 0.12, 0.012, 0.20, 1.8, 3.0),
        "TDE" => new(-19.7, 0.55, 6.0, 0.15, 8.0, 4.0, 0.012, 35.0, 0.18, -0.35, 0.10, 0.000, 0.00, 0.6, -1.0),
        "KN" => new(-16.0, 0.50, 0.25, 0.10, 0.5, 0.2, 0.050, 1.6, 0.10, 0.30, 0.15, 0.300, 0.80, 0.1, 0),
        _ => throw new ArgumentException(cls),
    };

    /// <summary>Draws one source of class <paramref name="cls"/>, peaking or active within [spanStart, spanEnd].</summary>
    public static SourceModel Draw(string cls, Rng rng, Survey survey, double spanStart, double spanEnd)
    {
        double depth = survey == Survey.Ztf ? 20.6 : 24.0;
        switch (cls)
        {
            case "SNIa" or "SNIa-91bg" or "SNIax" or "SNII" or "SNIbc" or "SLSN-I" or "TDE" or "KN":
                {
                    var f = Family(cls);
                    double zMax = RedshiftLimit(f.MeanM - 2 * f.SigmaM, depth + 1.0, f.ZMaxCap);
                    double z = Cosmology.SampleVolumetricRedshift(rng, 0.003, zMax, f.RateIndex);
                    double mu = Cosmology.DistanceModulus(z);
                    double m = rng.TruncNormal(f.MeanM, f.SigmaM, f.MeanM - 3 * f.SigmaM, f.MeanM + 3 * f.SigmaM);
                    var src = new VillarTransient
                    {
                        ClassName = cls, Redshift = z,
                        TauRise = rng.LogNormal(f.TauRise, f.TauRiseDex),
                        Gamma = Math.Max(0.2 * f.GammaMean, rng.Normal(f.GammaMean, f.GammaSigma)),
                        Beta = rng.Uniform(0, f.BetaMax),
                        TauFall = rng.LogNormal(f.TauFall, f.TauFallDex),
                        PeakFluxR = Photometry.MagToFlux(m + mu),
                        ColourAtPeak = rng.Normal(f.Colour, f.ColourSigma),
                        ColourRate = f.ColourRate * rng.Uniform(0.7, 1.3),
                        BlueFasterFade = f.BlueFade,
                        T0 = 0,
                    };
                    // Place the peak uniformly in the span: T0 = peak − peakRest·(1+z).
                    double peak = rng.Uniform(spanStart, spanEnd);
                    var placed = new VillarTransient
                    {
                        ClassName = cls, Redshift = z, TauRise = src.TauRise, Gamma = src.Gamma, Beta = src.Beta, TauFall = src.TauFall,
                        PeakFluxR = src.PeakFluxR, ColourAtPeak = src.ColourAtPeak, ColourRate = src.ColourRate, BlueFasterFade = src.BlueFasterFade,
                        T0 = peak - src.PeakRestDays * (1 + z),
                    };
                    var (rise, fade) = placed.HalfMaxTimes(survey == Survey.Ztf ? Band.ZtfR : Band.LsstR);
                    placed.WindowStart = placed.T0 - Math.Max(30, 8 * placed.TauRise) * (1 + z);
                    placed.WindowEnd = placed.PeakMjd + Math.Min(Math.Max(6 * fade, 60), 400);
                    var p = placed.Parameters;
                    p["peak_mjd"] = placed.PeakMjd; p["peak_mag_r"] = m + mu; p["peak_abs_mag"] = m; p["rise_days"] = rise;
                    p["fade_days"] = fade; p["color_gr_peak"] = placed.ColourAtPeak; p["t_rise_tau"] = placed.TauRise;
                    p["plateau_days"] = placed.Gamma; p["t_fall_tau"] = placed.TauFall; p["distance_modulus"] = mu;
                    return placed;
                }
            case "AGN":
                {
                    double z = rng.Uniform(0.1, 2.5);
                    double mean = survey == Survey.Ztf ? rng.Uniform(17.0, 20.3) : rng.Uniform(18.0, 23.5);
                    var s = new DampedRandomWalk
                    {
                        ClassName = cls, Redshift = z, MeanMagR = mean, ColourGR = rng.Normal(0.2, 0.1),
                        TauRest = rng.LogNormal(200, 0.25), SfInf = rng.LogNormal(0.22, 0.15),
                        WindowStart = spanStart, WindowEnd = spanEnd,
                    };
                    s.Parameters["mean_mag_r"] = mean; s.Parameters["tau_days"] = s.TauRest; s.Parameters["sf_inf_mag"] = s.SfInf;
                    s.Parameters["distance_modulus"] = Cosmology.DistanceModulus(z);
                    return s;
                }
            case "RRL":
                {
                    bool rrab = rng.Chance(0.8);
                    double period = rrab ? rng.TruncNormal(0.57, 0.07, 0.42, 0.85) : rng.TruncNormal(0.32, 0.04, 0.22, 0.42);
                    // Bailey diagram: RRab amplitude falls with period (Sesar et al. 2010, SDSS Stripe 82).
                    double ampG = rrab ? Math.Clamp(rng.Normal(1.0 - 2.0 * (period - 0.57), 0.15), 0.3, 1.5) : rng.Uniform(0.25, 0.55);
                    double rise = rrab ? 0.15 : 0.4;
                    return Periodic(cls, rng, spanStart, spanEnd, period, ampG * 0.78, survey == Survey.Ztf ? (14.0, 20.0) : (16.0, 23.0),
                        rng.Normal(0.2, 0.08), b => AmpScale(b, 1.28, 0.62),
                        ph => ph < rise ? 1 - ph / rise : (ph - rise) / (1 - rise), 0.5);
                }
            case "Mira":
                {
                    double period = rng.LogUniform(150, 500);
                    // Longer-period Miras have larger amplitudes (Whitelock et al. 2008); r-band amplitudes 1.5–4.5 mag.
                    double ampR = Math.Clamp(1.5 + 2.2 * Math.Log10(period / 150) / Math.Log10(500 / 150.0) + rng.Normal(0, 0.4), 1.2, 4.8);
                    return Periodic(cls, rng, spanStart, spanEnd, period, ampR, survey == Survey.Ztf ? (12.5, 18.0) : (15.0, 21.0),
                        rng.Normal(1.8, 0.3), b => AmpScale(b, 1.3, 0.7),
                        ph => ph < 0.4 ? 1 - ph / 0.4 : (ph - 0.4) / 0.6, 0.5);
                }
            case "EB":
                {
                    double period = rng.LogUniform(0.25, 10);
                    double depth1 = rng.Uniform(0.1, 1.0);
                    double ratio = rng.Uniform(0.05, 0.9);
                    double width = Math.Clamp(0.06 * Math.Pow(period, -1.0 / 3), 0.015, 0.12); // (R1+R2)/a ∝ P^(-2/3)·…
                    double ellip = period < 1.5 ? rng.Uniform(0.0, 0.12) : 0;
                    double amp = depth1 + ellip;
                    Func<double, double> curve = ph =>
                    {
                        double d1 = Math.Min(ph, 1 - ph), d2 = Math.Abs(ph - 0.5);
                        double m = depth1 * Math.Exp(-0.5 * d1 * d1 / (width * width)) + depth1 * ratio * Math.Exp(-0.5 * d2 * d2 / (width * width));
                        m += ellip * 0.5 * (1 + Math.Cos(4 * Math.PI * ph));
                        return m / amp;
                    };
                    var s = Periodic(cls, rng, spanStart, spanEnd, period, amp, survey == Survey.Ztf ? (13.5, 20.0) : (16.0, 23.0),
                        rng.Normal(0.5, 0.3), b => AmpScale(b, 1.05, 0.97), curve, 0.1);
                    return s;
                }
            case "M-dwarf":
                {
                    double q = survey == Survey.Ztf ? rng.Uniform(15.5, 20.5) : rng.Uniform(17.0, 24.0);
                    var s = new FlareStar
                    {
                        ClassName = cls, QuiescentMagR = q, ColourGR = rng.Normal(1.45, 0.15), DutyCycle = rng.LogUniform(0.005, 0.04),
                        AmplitudeGMedian = rng.LogUniform(0.5, 8), WindowStart = spanStart, WindowEnd = spanEnd,
                    };
                    s.Parameters["mean_mag_r"] = q;
                    return s;
                }
            case "mu-Lens-Single":
                {
                    double tE = rng.LogNormal(25, 0.3); // OGLE-IV: Mróz et al. 2019, median tE ≈ 20–30 d
                    double t0 = rng.Uniform(spanStart, spanEnd);
                    double u0 = rng.Uniform(0.01, 1.0);
                    double baseline = survey == Survey.Ztf ? rng.Uniform(15.5, 20.5) : rng.Uniform(17, 24);
                    var s = new PaczynskiLens
                    {
                        ClassName = cls, T0 = t0, TE = tE, U0 = u0, BaselineMagR = baseline, ColourGR = rng.Normal(0.9, 0.3),
                        BlendFraction = rng.Uniform(0.3, 1.0), WindowStart = t0 - 4 * tE - 30, WindowEnd = t0 + 4 * tE + 30,
                    };
                    var p = s.Parameters;
                    p["peak_mjd"] = t0; p["t_e_days"] = tE; p["u0"] = u0; p["blend_fraction"] = s.BlendFraction; p["mean_mag_r"] = baseline;
                    p["amplitude_mag"] = 2.5 * Math.Log10(1 + s.BlendFraction * (PaczynskiLens.Magnification(u0) - 1));
                    p["rise_days"] = tE; p["fade_days"] = tE;
                    return s;
                }
            default:
                throw new ArgumentException($"Unknown class '{cls}'; expected one of {string.Join(", ", T2Classes.Names)}.", nameof(cls));
        }
    }

    private static double AmpScale(Band b, double g, double i) => b switch
    {
        Band.LsstU => g * 1.25, Band.ZtfG or Band.LsstG => g, Band.ZtfR or Band.LsstR => 1.0,
        Band.ZtfI or Band.LsstI => i, Band.LsstZ => i * 0.9, Band.LsstY => i * 0.85, _ => 1.0,
    };

    private static PeriodicVariable Periodic(string cls, Rng rng, double s0, double s1, double period, double ampR, (double lo, double hi) mag,
        double colour, Func<Band, double> scale, Func<double, double> curve, double curveMean)
    {
        double mean = rng.Uniform(mag.lo, mag.hi);
        var s = new PeriodicVariable
        {
            ClassName = cls, Period = period, Epoch = s0 + rng.Uniform(0, period), MeanMagR = mean, ColourGR = colour,
            AmplitudeR = ampR, AmplitudeScale = scale, PhaseCurve = curve, PhaseCurveMean = curveMean,
            WindowStart = s0, WindowEnd = s1,
        };
        s.Parameters["period_days"] = period; s.Parameters["amplitude_mag"] = ampR; s.Parameters["mean_mag_r"] = mean;
        return s;
    }

    /// <summary>Largest z at which absolute magnitude <paramref name="brightM"/> is still brighter than <paramref name="limit"/>.</summary>
    public static double RedshiftLimit(double brightM, double limit, double cap)
    {
        double lo = 1e-4, hi = cap;
        if (brightM + Cosmology.DistanceModulus(hi) < limit) return hi;
        for (int i = 0; i < 60; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (brightM + Cosmology.DistanceModulus(mid) < limit) lo = mid; else hi = mid;
        }
        return Math.Max(lo, 0.004);
    }
}
