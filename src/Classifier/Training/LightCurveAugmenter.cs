using Alerts.Core;

namespace Alerts.Classifier.Training;

/// <summary>Knobs of <see cref="LightCurveAugmenter"/>: the survey it imitates and how far it may move an object.</summary>
public sealed record AugmentationOptions
{
    /// <summary>The augmented redshift is drawn log-uniformly in [z, z·MaxRedshiftFactor] (capped at <see cref="MaxRedshift"/>).</summary>
    public double MaxRedshiftFactor { get; init; } = 2.5;

    public double MaxRedshift { get; init; } = 0.6;

    /// <summary>Probability of keeping the object's own redshift (only new cadence and noise).</summary>
    public double KeepRedshiftProbability { get; init; } = 0.25;

    /// <summary>Per-visit 5σ limiting magnitude: normal with this mean and spread, clipped to [Min, Max] (ZTF: ~20.4 ± 0.4).</summary>
    public double LimitingMagnitude { get; init; } = 20.4;

    public double LimitingMagnitudeSpread { get; init; } = 0.4;

    public double MinLimitingMagnitude { get; init; } = 19.0;

    public double MaxLimitingMagnitude { get; init; } = 21.2;

    /// <summary>Detections are points with flux / error at least this (the alert stream's 5σ).</summary>
    public double DetectionSigma { get; init; } = 5.0;

    /// <summary>Mean extra days between visit nights (gap = 1 + exponential of this mean).</summary>
    public double MeanGapDays { get; init; } = 1.5;

    /// <summary>Chance that a gap is a run of bad weather or a field change, 4 to 20 days.</summary>
    public double LongGapProbability { get; init; } = 0.06;

    /// <summary>Chance that a night observes each band (ZTF's public survey visits g and r most nights).</summary>
    public double[] BandVisitProbability { get; init; } = [0.65, 0.75];

    /// <summary>Days before the first and after the last source point that are sampled (the GP is not trusted further out).</summary>
    public double ExtrapolateBeforeDays { get; init; } = 3;

    public double ExtrapolateAfterDays { get; init; } = 10;

    /// <summary>Add the measurement noise and the GP's own uncertainty to the drawn fluxes (off: noise-free, for tests).</summary>
    public bool Noise { get; init; } = true;
}

/// <summary>
/// Makes new, physical light curves from a real one, in the spirit of avocado (Boone 2019): a 2-D GP fitted over time and
/// wavelength carries the object to a higher redshift (time dilated by (1+z')/(1+z), each band read at the rest-frame
/// wavelength it now samples, flux dimmed by the squared ratio of luminosity distances), then a new survey cadence samples
/// it, with a new limiting magnitude per visit, noise drawn from the visit's sky error plus the flux's own photon noise
/// and the GP's uncertainty, and only the points above the detection threshold kept, as the alert stream keeps them.
/// The inputs are real curves that are few; the outputs are many, still of the same class. Deterministic for a seed.
/// Not thread-safe: one instance per worker.
/// </summary>
public sealed class LightCurveAugmenter
{
    private readonly GaussianProcessInterpolator _gp = new();
    private readonly double[] _one = new double[1], _mean = new double[1];
    private readonly Band[] _bands;
    private readonly double[] _wavelengths;
    private double _t0, _first, _last;
    private static readonly double FluxFactor = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, Photometry.FluxcalZeroPoint);

    public LightCurveAugmenter(IReadOnlyList<Band> bands, AugmentationOptions? options = null)
    {
        Options = options ?? new AugmentationOptions();
        _bands = [.. bands];
        _wavelengths = [.. bands.Select(b => b.EffectiveWavelength())];
        if (Options.BandVisitProbability.Length < _bands.Length)
            throw new ArgumentException($"AugmentationOptions.BandVisitProbability has {Options.BandVisitProbability.Length} entries for {_bands.Length} bands");
    }

    public AugmentationOptions Options { get; }

    /// <summary>
    /// Fits the source curve (its detections in the augmenter's bands). False when it has fewer than 3 such points or the
    /// fit is not finite: nothing to augment from.
    /// </summary>
    public bool Fit(LightCurve source)
    {
        _gp.Reset();
        _first = double.PositiveInfinity; _last = double.NegativeInfinity;
        for (int i = 0; i < source.Count; i++)
        {
            if (source.Kind[i] != PointKind.Detection) continue;
            int c = Array.IndexOf(_bands, source.Band[i]);
            if (c < 0 || !double.IsFinite(source.Mjd[i]) || !float.IsFinite(source.Flux[i]) || !(source.FluxErr[i] > 0)) continue;
            _first = Math.Min(_first, source.Mjd[i]); _last = Math.Max(_last, source.Mjd[i]);
        }
        if (!double.IsFinite(_first)) return false;
        _t0 = _first;
        for (int i = 0; i < source.Count; i++)
        {
            if (source.Kind[i] != PointKind.Detection) continue;
            int c = Array.IndexOf(_bands, source.Band[i]);
            if (c < 0 || !double.IsFinite(source.Mjd[i]) || !float.IsFinite(source.Flux[i]) || !(source.FluxErr[i] > 0)) continue;
            _gp.AddPoint(source.Mjd[i] - _t0, _wavelengths[c], source.Flux[i] * FluxFactor, source.FluxErr[i] * FluxFactor);
        }
        if (_gp.Count < 3) return false;
        var fit = _gp.Fit();
        return double.IsFinite(fit.NegativeLogLikelihood) && double.IsFinite(fit.Amplitude);
    }

    /// <summary>Observer-frame time stretch from redshift z to z' (time dilation).</summary>
    public static double TimeStretch(double z, double zNew) => (1 + zNew) / (1 + z);

    /// <summary>Flux factor from z to z': (d_L(z) / d_L(z'))² (flat ΛCDM, Ωm = 0.3; H0 cancels).</summary>
    public static double DimmingFactor(double z, double zNew)
    {
        double a = LuminosityDistance(z), b = LuminosityDistance(zNew);
        return a / b * (a / b);
    }

    /// <summary>Luminosity distance in units of c/H0 (flat ΛCDM, Ωm = 0.3), Simpson's rule over 64 steps.</summary>
    public static double LuminosityDistance(double z)
    {
        if (!(z > 0)) return 1e-12;
        const int n = 64;
        double h = z / n, s = 0;
        for (int i = 0; i <= n; i++)
        {
            double x = i * h, e = 1.0 / Math.Sqrt(0.3 * (1 + x) * (1 + x) * (1 + x) + 0.7);
            s += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * e;
        }
        return (1 + z) * s * h / 3;
    }

    /// <summary>
    /// The noise-free flux (nJy) the fitted object would show at observer time <paramref name="mjd"/> in band
    /// <paramref name="band"/> after moving from <paramref name="z"/> to <paramref name="zNew"/>, with the new curve's
    /// first source point kept at the same date. Also returns the GP's standard deviation scaled alike.
    /// </summary>
    public double ExpectedFlux(double mjd, int band, double z, double zNew, out double gpSigma)
    {
        double stretch = TimeStretch(z, zNew), dim = DimmingFactor(z, zNew);
        double tSource = (mjd - _t0) / stretch;               // days after the first source point, source frame
        double lambdaSource = _wavelengths[band] / stretch;   // what the band samples of the source's spectrum
        _one[0] = tSource;
        _gp.PredictMean(_one, lambdaSource, _mean);
        double var = Math.Max(0, _gp.PredictVariance(tSource, lambdaSource));
        gpSigma = Math.Sqrt(var) * dim / FluxFactor;
        return _mean[0] * dim / FluxFactor;
    }

    /// <summary>
    /// One augmented light curve of the fitted source (call <see cref="Fit"/> first) into <paramref name="target"/>
    /// (cleared): detections only, nJy. Returns the redshift drawn.
    /// </summary>
    public double Sample(double z, Random rng, LightCurve target)
    {
        target.Clear();
        if (!(z > 0)) z = 0.02;
        double zNew = z;
        if (rng.NextDouble() >= Options.KeepRedshiftProbability)
        {
            double hi = Math.Max(z, Math.Min(Options.MaxRedshift, z * Options.MaxRedshiftFactor));
            zNew = Math.Exp(Math.Log(z) + rng.NextDouble() * (Math.Log(hi) - Math.Log(z)));
        }
        double stretch = TimeStretch(z, zNew);
        double start = _t0 + (_first - _t0 - Options.ExtrapolateBeforeDays) * stretch;
        double end = _t0 + (_last - _t0 + Options.ExtrapolateAfterDays) * stretch;
        // The survey's first visit falls anywhere within a few days of the window's start.
        double t = start + rng.NextDouble() * 3;
        while (t <= end)
        {
            for (int c = 0; c < _bands.Length; c++)
            {
                if (rng.NextDouble() >= Options.BandVisitProbability[c]) continue;
                double limMag = Math.Clamp(Options.LimitingMagnitude + Options.LimitingMagnitudeSpread * Gaussian(rng),
                    Options.MinLimitingMagnitude, Options.MaxLimitingMagnitude);
                double visitMjd = t + 0.02 * c + 0.01 * rng.NextDouble();
                double f = ExpectedFlux(visitMjd, c, z, zNew, out var gpSigma);
                double err = VisitError(f, limMag, Options.DetectionSigma);
                double drawn = Options.Noise ? f + Gaussian(rng) * Math.Sqrt(err * err + gpSigma * gpSigma) : f;
                if (drawn / err >= Options.DetectionSigma)
                    target.Add(visitMjd, _bands[c], (float)drawn, (float)err, PointKind.Detection);
            }
            double gap = 1 + (Options.MeanGapDays > 0 ? -Options.MeanGapDays * Math.Log(1 - rng.NextDouble()) : 0);
            if (rng.NextDouble() < Options.LongGapProbability) gap += 4 + 16 * rng.NextDouble();
            t += Math.Round(gap);
        }
        return zNew;
    }

    /// <summary>
    /// A visit's flux error (nJy): the sky floor of its limiting magnitude (5σ at <paramref name="limitingMag"/>) and
    /// the source's photon noise, which grows as √flux: σ² = σ_sky² · (1 + max(f, 0) / f_lim).
    /// </summary>
    public static double VisitError(double flux, double limitingMag, double nSigma)
    {
        double fLim = Photometry.MagToFlux(limitingMag), sky = fLim / nSigma;
        return sky * Math.Sqrt(1 + Math.Max(flux, 0) / fLim);
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
