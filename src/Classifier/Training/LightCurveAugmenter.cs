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

    /// <summary>
    /// Bands of the new curve, when they are not the fitted ones (null: the same bands). A band the source never observed
    /// is read off the GP's wavelength kernel at its effective wavelength (see <see cref="LightCurveAugmenter.ExpectedFlux"/>).
    /// </summary>
    public Band[]? TargetBands { get; init; }

    /// <summary>How visits are laid out: ZTF-like nights (default) or Rubin-like paired visits with seasons.</summary>
    public SurveyCadence Cadence { get; init; } = SurveyCadence.NightlyBands;

    /// <summary>
    /// Per target band, the mean 5σ single-visit depth (null: <see cref="LimitingMagnitude"/> for every band, clipped to
    /// [<see cref="MinLimitingMagnitude"/>, <see cref="MaxLimitingMagnitude"/>]). With it a visit's depth is normal with
    /// this mean and <see cref="LimitingMagnitudeSpread"/>, clipped at ±3 spreads.
    /// </summary>
    public double[]? BandLimitingMagnitude { get; init; }

    /// <summary><see cref="SurveyCadence.PairedVisits"/>: the share of visits in each target band (normalised).</summary>
    public double[]? BandMix { get; init; }

    /// <summary><see cref="SurveyCadence.PairedVisits"/>: visits per visit night, each in a different band.</summary>
    public int VisitsPerNight { get; init; } = 2;

    /// <summary><see cref="SurveyCadence.PairedVisits"/>: days of each year the field is observable (0: all year).</summary>
    public double SeasonDays { get; init; }

    /// <summary>
    /// Draw the new redshift up to where the source's peak falls to the survey's mean depth in
    /// <see cref="DepthBand"/> (capped at <see cref="MaxRedshift"/>), instead of up to z·<see cref="MaxRedshiftFactor"/>.
    /// For a deeper survey than the source's: a ZTF object seen by Rubin can lie much further away.
    /// </summary>
    public bool DepthLimitedRedshift { get; init; }

    /// <summary>Index in the target bands of the band whose depth bounds the redshift (Rubin: r).</summary>
    public int DepthBand { get; init; }

    /// <summary>
    /// Rubin (LSST WFD-like): u g r i z y; a field revisited every ~3 d (1 + exponential of mean 2) with two visits a
    /// night in different bands (mix u 7 %, g 9 %, r 22 %, i 22 %, z 20 %, y 20 %); ~6 months observable a year; 5σ
    /// single-visit depths u 23.7, g 24.9, r 24.4, i 23.9, z 23.3, y 22.5 (±0.3 a visit); redshift drawn up to where the
    /// peak reaches the r depth, at most 0.8. A new instance each time (its arrays are not shared).
    /// </summary>
    public static AugmentationOptions Rubin => new()
    {
        TargetBands = [.. Bands.Lsst],
        Cadence = SurveyCadence.PairedVisits,
        BandMix = [0.07, 0.09, 0.22, 0.22, 0.20, 0.20],
        BandVisitProbability = [0.07, 0.09, 0.22, 0.22, 0.20, 0.20],
        BandLimitingMagnitude = [23.7, 24.9, 24.4, 23.9, 23.3, 22.5],
        LimitingMagnitudeSpread = 0.3,
        VisitsPerNight = 2,
        MeanGapDays = 2,
        LongGapProbability = 0.06,
        SeasonDays = 182,
        DepthLimitedRedshift = true,
        DepthBand = 2,
        MaxRedshift = 0.8,
        KeepRedshiftProbability = 0.1,
    };
}

/// <summary>How <see cref="LightCurveAugmenter"/> lays out the visits of a new curve.</summary>
public enum SurveyCadence
{
    /// <summary>ZTF-like: visit nights 1 + Exp(<see cref="AugmentationOptions.MeanGapDays"/>) apart, each band observed
    /// on a night with its <see cref="AugmentationOptions.BandVisitProbability"/>.</summary>
    NightlyBands,

    /// <summary>Rubin-like: a field revisited 1 + Exp(<see cref="AugmentationOptions.MeanGapDays"/>) days apart within its
    /// observing season, <see cref="AugmentationOptions.VisitsPerNight"/> visits a night in distinct bands drawn from
    /// <see cref="AugmentationOptions.BandMix"/>, ~33 minutes apart.</summary>
    PairedVisits,
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
    private const double Year = 365.25;
    private readonly GaussianProcessInterpolator _gp = new();
    private readonly double[] _one = new double[1], _mean = new double[1];
    private readonly double[] _grid = new double[64], _gridMean = new double[64];
    private readonly Band[] _bands, _targetBands;
    private readonly double[] _wavelengths, _targetWavelengths, _mix;
    private double _t0, _first, _last;
    private double _depthZSource = double.NaN, _depthZ;
    private static readonly double FluxFactor = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, Photometry.FluxcalZeroPoint);

    /// <summary>
    /// An augmenter that fits the source's points in <paramref name="bands"/> and writes new curves in
    /// <see cref="AugmentationOptions.TargetBands"/> (default: the same bands).
    /// </summary>
    public LightCurveAugmenter(IReadOnlyList<Band> bands, AugmentationOptions? options = null)
    {
        Options = options ?? new AugmentationOptions();
        _bands = [.. bands];
        _wavelengths = [.. bands.Select(b => b.EffectiveWavelength())];
        _targetBands = Options.TargetBands is { } tb ? [.. tb] : _bands;
        _targetWavelengths = [.. _targetBands.Select(b => b.EffectiveWavelength())];
        if (Options.Cadence == SurveyCadence.NightlyBands && Options.BandVisitProbability.Length < _targetBands.Length)
            throw new ArgumentException($"AugmentationOptions.BandVisitProbability has {Options.BandVisitProbability.Length} entries for {_targetBands.Length} bands");
        if (Options.BandLimitingMagnitude is { } depths && depths.Length < _targetBands.Length)
            throw new ArgumentException($"AugmentationOptions.BandLimitingMagnitude has {depths.Length} entries for {_targetBands.Length} bands");
        _mix = new double[_targetBands.Length];
        if (Options.Cadence == SurveyCadence.PairedVisits)
        {
            if (Options.BandMix is not { } mix || mix.Length < _targetBands.Length || mix.Take(_targetBands.Length).Any(m => !(m >= 0)) || !(mix.Take(_targetBands.Length).Sum() > 0))
                throw new ArgumentException($"AugmentationOptions.BandMix needs a non-negative share for each of the {_targetBands.Length} bands");
            if (Options.VisitsPerNight < 1 || Options.VisitsPerNight > mix.Take(_targetBands.Length).Count(m => m > 0))
                throw new ArgumentException($"AugmentationOptions.VisitsPerNight {Options.VisitsPerNight}: must be 1 to the number of bands with a share");
            for (int c = 0; c < _mix.Length; c++) _mix[c] = mix[c];
        }
        if (Options.DepthLimitedRedshift && (Options.DepthBand < 0 || Options.DepthBand >= _targetBands.Length))
            throw new ArgumentException($"AugmentationOptions.DepthBand {Options.DepthBand}: not one of the {_targetBands.Length} target bands");
    }

    public AugmentationOptions Options { get; }

    /// <summary>The bands of the curves <see cref="Sample"/> writes (band index c of <see cref="ExpectedFlux"/> is into these).</summary>
    public IReadOnlyList<Band> TargetBands => _targetBands;

    /// <summary>
    /// Fits the source curve (its detections in the augmenter's bands). False when it has fewer than 3 such points or the
    /// fit is not finite: nothing to augment from.
    /// </summary>
    public bool Fit(LightCurve source)
    {
        _gp.Reset();
        _depthZSource = double.NaN;
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
    /// The noise-free flux (nJy) the fitted object would show at observer time <paramref name="mjd"/> in target band
    /// <paramref name="band"/> (an index into <see cref="TargetBands"/>) after moving from <paramref name="z"/> to
    /// <paramref name="zNew"/>, with the new curve's first source point kept at the same date. Also returns the GP's
    /// standard deviation scaled alike.
    /// <para>
    /// The band is read at the rest-frame wavelength it samples, λ_eff / ((1+z')/(1+z)), through the GP's wavelength
    /// kernel (Matérn 3/2, l_λ = 6000 Å), also when the source never observed there. Between and near the source's bands
    /// (ZTF g 4805 Å, r 6437 Å: Rubin g, r, i) that is an interpolation of the colour. Rubin u (3671 Å, bluer still once
    /// moved) and y (9710 Å) lie 1100–3300 Å outside ZTF g–r: there the kernel's correlation with the data falls (≈ 0.96
    /// at 1100 Å, ≈ 0.75 at 3300 Å), so the mean reverts toward the GP's zero prior mean (u and y come out fainter and
    /// flatter than the nearest measured band, not an extrapolated colour) and the variance grows toward the GP's
    /// amplitude. The returned σ carries that growth and <see cref="Sample"/> adds it to the noise, so u and y points are
    /// scattered by how little the source says about them.
    /// </para>
    /// </summary>
    public double ExpectedFlux(double mjd, int band, double z, double zNew, out double gpSigma)
    {
        double stretch = TimeStretch(z, zNew), dim = DimmingFactor(z, zNew);
        double tSource = (mjd - _t0) / stretch;                     // days after the first source point, source frame
        double lambdaSource = _targetWavelengths[band] / stretch;   // what the band samples of the source's spectrum
        _one[0] = tSource;
        _gp.PredictMean(_one, lambdaSource, _mean);
        double var = Math.Max(0, _gp.PredictVariance(tSource, lambdaSource));
        gpSigma = Math.Sqrt(var) * dim / FluxFactor;
        return _mean[0] * dim / FluxFactor;
    }

    /// <summary>
    /// The brightest noise-free flux (nJy) of the fitted object in target band <paramref name="band"/> after moving from
    /// <paramref name="z"/> to <paramref name="zNew"/>, over the sampled window (64 epochs).
    /// </summary>
    public double PeakFlux(int band, double z, double zNew)
    {
        double stretch = TimeStretch(z, zNew), dim = DimmingFactor(z, zNew);
        double a = _first - _t0 - Options.ExtrapolateBeforeDays, b = _last - _t0 + Options.ExtrapolateAfterDays;
        for (int k = 0; k < _grid.Length; k++) _grid[k] = a + (b - a) * k / (_grid.Length - 1);
        _gp.PredictMean(_grid, _targetWavelengths[band] / stretch, _gridMean);
        double peak = double.NegativeInfinity;
        for (int k = 0; k < _grid.Length; k++) peak = Math.Max(peak, _gridMean[k]);
        return peak * dim / FluxFactor;
    }

    /// <summary>
    /// The redshift at which the fitted object's peak in <see cref="AugmentationOptions.DepthBand"/> falls to that
    /// band's mean 5σ depth (bisection; at most <see cref="AugmentationOptions.MaxRedshift"/>, at least
    /// <paramref name="z"/>). The band is read where it lands in the source's spectrum at each trial redshift, so the
    /// colour (a K-correction of the GP's making) is part of the bound.
    /// </summary>
    public double DepthRedshift(double z)
    {
        if (z == _depthZSource) return _depthZ;
        double fLim = Photometry.MagToFlux(Options.BandLimitingMagnitude?[Options.DepthBand] ?? Options.LimitingMagnitude);
        double lo = z, hi = Math.Max(z, Options.MaxRedshift), result;
        if (!(PeakFlux(Options.DepthBand, z, lo) > fLim)) result = lo;
        else if (PeakFlux(Options.DepthBand, z, hi) >= fLim) result = hi;
        else
        {
            for (int it = 0; it < 40 && hi - lo > 1e-4; it++)
            {
                double mid = 0.5 * (lo + hi);
                if (PeakFlux(Options.DepthBand, z, mid) >= fLim) lo = mid; else hi = mid;
            }
            result = lo;
        }
        _depthZSource = z; _depthZ = result;
        return result;
    }

    /// <summary>
    /// One augmented light curve of the fitted source (call <see cref="Fit"/> first) into <paramref name="target"/>
    /// (cleared): detections only, nJy, in <see cref="TargetBands"/>. Returns the redshift drawn.
    /// </summary>
    public double Sample(double z, Random rng, LightCurve target)
    {
        target.Clear();
        if (!(z > 0)) z = 0.02;
        double zNew = z;
        if (rng.NextDouble() >= Options.KeepRedshiftProbability)
        {
            double hi = Options.DepthLimitedRedshift ? DepthRedshift(z) : Math.Max(z, Math.Min(Options.MaxRedshift, z * Options.MaxRedshiftFactor));
            zNew = Math.Exp(Math.Log(z) + rng.NextDouble() * (Math.Log(hi) - Math.Log(z)));
        }
        double stretch = TimeStretch(z, zNew);
        double start = _t0 + (_first - _t0 - Options.ExtrapolateBeforeDays) * stretch;
        double end = _t0 + (_last - _t0 + Options.ExtrapolateAfterDays) * stretch;
        if (Options.Cadence == SurveyCadence.PairedVisits) SamplePaired(z, zNew, start, end, rng, target);
        else
        {
            // The survey's first visit falls anywhere within a few days of the window's start.
            double t = start + rng.NextDouble() * 3;
            while (t <= end)
            {
                for (int c = 0; c < _targetBands.Length; c++)
                {
                    if (rng.NextDouble() >= Options.BandVisitProbability[c]) continue;
                    Visit(c, t + 0.02 * c, z, zNew, rng, target);
                }
                t += Gap(rng);
            }
        }
        return zNew;
    }

    /// <summary>
    /// Rubin-like visits: the field's season starts at a random phase of the year; within it, visit nights are
    /// <see cref="Gap"/> apart and each holds <see cref="AugmentationOptions.VisitsPerNight"/> visits in distinct bands
    /// drawn from the band mix; outside it nothing is observed and the next visit is early in the next season.
    /// </summary>
    private void SamplePaired(double z, double zNew, double start, double end, Random rng, LightCurve target)
    {
        double season = Options.SeasonDays > 0 && Options.SeasonDays < Year ? Options.SeasonDays : Year;
        double phase = rng.NextDouble() * Year;   // when the field's season begins, relative to the window's start
        Span<bool> used = stackalloc bool[_targetBands.Length];
        double t = start + rng.NextDouble() * 3;
        while (t <= end)
        {
            double into = ((t - start - phase) % Year + Year) % Year;
            if (into >= season) { t += Math.Ceiling(Year - into + 3 * rng.NextDouble()); continue; }
            used.Clear();
            for (int v = 0; v < Options.VisitsPerNight; v++)
            {
                double total = 0;
                for (int c = 0; c < _mix.Length; c++) if (!used[c]) total += _mix[c];
                double u = rng.NextDouble() * total;
                int band = -1;
                for (int c = 0; c < _mix.Length; c++)
                {
                    if (used[c] || _mix[c] <= 0) continue;
                    band = c;
                    if ((u -= _mix[c]) < 0) break;
                }
                used[band] = true;
                Visit(band, t + 0.023 * v, z, zNew, rng, target);   // paired visits ~33 min apart
            }
            t += Gap(rng);
        }
    }

    /// <summary>One visit in target band <paramref name="c"/> near <paramref name="mjd"/>: kept when its drawn flux is a detection.</summary>
    private void Visit(int c, double mjd, double z, double zNew, Random rng, LightCurve target)
    {
        double limMag = Options.BandLimitingMagnitude is { } depths
            ? depths[c] + Options.LimitingMagnitudeSpread * Math.Clamp(Gaussian(rng), -3, 3)
            : Math.Clamp(Options.LimitingMagnitude + Options.LimitingMagnitudeSpread * Gaussian(rng), Options.MinLimitingMagnitude, Options.MaxLimitingMagnitude);
        double visitMjd = mjd + 0.01 * rng.NextDouble();
        double f = ExpectedFlux(visitMjd, c, z, zNew, out var gpSigma);
        double err = VisitError(f, limMag, Options.DetectionSigma);
        // The GP's own uncertainty is noise too: large where the source says little (far outside its bands, long gaps).
        double drawn = Options.Noise ? f + Gaussian(rng) * Math.Sqrt(err * err + gpSigma * gpSigma) : f;
        if (drawn / err >= Options.DetectionSigma)
            target.Add(visitMjd, _targetBands[c], (float)drawn, (float)err, PointKind.Detection);
    }

    /// <summary>Days to the next visit night: 1 + exponential of the mean gap, plus now and then a 4–20 d run of bad weather.</summary>
    private double Gap(Random rng)
    {
        double gap = 1 + (Options.MeanGapDays > 0 ? -Options.MeanGapDays * Math.Log(1 - rng.NextDouble()) : 0);
        if (rng.NextDouble() < Options.LongGapProbability) gap += 4 + 16 * rng.NextDouble();
        return Math.Round(gap);
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
