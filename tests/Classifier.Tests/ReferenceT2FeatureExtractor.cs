using Alerts.Core;

// T2FeatureExtractor of commit 1ce159c (on the reference GP), verbatim but for the GP type:
// the reference the fast extractor is checked against (GpReferenceAgreementTests) and timed against (bench GpBenchmarks).

namespace Alerts.Classifier.Tests;

/// <summary>
/// The t2 model input from a light curve: flux in the preset's zero point, GP fit over (time, wavelength),
/// mean on the time grid per channel, robust scaling per channel (see <see cref="T2Preprocessing"/>).
/// Bad light curves give a reason string (never an exception). Owns its buffers: one instance per worker,
/// no allocation per light curve once warmed up.
/// </summary>
public sealed class ReferenceT2FeatureExtractor : IFeatureExtractor
{
    private readonly ReferenceGaussianProcessInterpolator _gp;
    private readonly double[] _wavelengths;
    private readonly double[] _grid;
    private readonly double[] _columns;
    private readonly double[] _centers;
    private readonly double[] _scales;
    private readonly double[] _sorted;
    private readonly int[] _perChannel;
    private readonly string[] _missingReasons;
    private int[] _selected = new int[64];

    public ReferenceT2FeatureExtractor(T2Preprocessing preset)
    {
        Preset = preset;
        if (preset.Channels.Length == 0) throw new ArgumentException("preset has no channels", nameof(preset));
        _gp = new ReferenceGaussianProcessInterpolator(preset.WavelengthLengthScale)
        {
            InitialTimeLengthScale = preset.InitialTimeLengthScale,
            InitialAmplitudeFactor = preset.InitialAmplitudeFactor,
        };
        _wavelengths = preset.Channels.Select(b => b.EffectiveWavelength()).ToArray();
        _grid = new double[preset.Steps];
        _columns = new double[preset.Steps * preset.Channels.Length];
        _centers = new double[preset.Channels.Length];
        _scales = new double[preset.Channels.Length];
        _sorted = new double[preset.Steps];
        _perChannel = new int[preset.Channels.Length];
        _missingReasons = preset.Channels.Select(b => "missing-band:" + b.Name()).ToArray();
        FluxFactor = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, preset.ZeroPoint);
    }

    public T2Preprocessing Preset { get; }

    public int Steps => Preset.Steps;

    public IReadOnlyList<Band> Channels => Preset.Channels;

    /// <summary>Multiplies nJy into the preset's flux unit (FLUXCAL: 10^(-0.4·3.9) ≈ 0.02754).</summary>
    public double FluxFactor { get; }

    /// <summary>The last successful fit (diagnostics, tests).</summary>
    public ReferenceGaussianProcessFit LastFit { get; private set; }

    /// <summary>Number of points the last fit used.</summary>
    public int LastPointCount { get; private set; }

    /// <summary>Time span (days) of the grid of the last successful extraction.</summary>
    public double LastSpanDays { get; private set; }

    public string? Extract(LightCurve lightCurve, Span<float> destination)
    {
        int channels = _wavelengths.Length, steps = Preset.Steps;
        if (destination.Length < steps * channels)
            return "destination-too-small";

        var mjd = lightCurve.Mjd; var band = lightCurve.Band; var flux = lightCurve.Flux; var err = lightCurve.FluxErr; var kind = lightCurve.Kind;
        if (_selected.Length < lightCurve.Count) _selected = new int[Math.Max(lightCurve.Count, _selected.Length * 2)];
        Array.Clear(_perChannel);
        int n = 0;
        for (int i = 0; i < lightCurve.Count; i++)
        {
            var k = kind[i];
            if (k == PointKind.NonDetection && !Preset.IncludeNonDetections) continue;
            if (k == PointKind.ForcedPhotometry && !Preset.IncludeForcedPhotometry) continue;
            int c = ChannelOf(band[i]);
            if (c < 0) continue;
            if (!double.IsFinite(mjd[i])) return "bad-time";
            if (!float.IsFinite(flux[i])) return "bad-flux";
            if (!float.IsFinite(err[i]) || !(err[i] > 0)) return "bad-flux-error";
            _selected[n++] = i;
        }
        if (n < Preset.MinPoints) return "too-few-points";

        // Keep the latest MaxPoints (by time) when bounded; the light curve may be unsorted, so pick by time.
        int start = 0;
        if (Preset.MaxPoints > 0 && n > Preset.MaxPoints)
        {
            var sel = _selected.AsSpan(0, n);
            SortIndicesByTime(sel, mjd);
            start = n - Preset.MaxPoints;
        }
        double t0 = double.PositiveInfinity, t1 = double.NegativeInfinity;
        for (int s = start; s < n; s++)
        {
            int i = _selected[s];
            _perChannel[ChannelOf(band[i])]++;
            t0 = Math.Min(t0, mjd[i]); t1 = Math.Max(t1, mjd[i]);
        }
        for (int c = 0; c < channels; c++)
            if (_perChannel[c] < Preset.MinPointsPerChannel) return _missingReasons[c];

        _gp.Reset();
        for (int s = start; s < n; s++)
        {
            int i = _selected[s];
            _gp.AddPoint(mjd[i] - t0, _wavelengths[ChannelOf(band[i])], flux[i] * FluxFactor, err[i] * FluxFactor);
        }
        var fit = _gp.Fit();
        LastFit = fit;
        LastPointCount = n - start;
        double span = t1 - t0;
        LastSpanDays = span;

        // np.linspace(0, span, steps): endpoint included.
        for (int j = 0; j < steps; j++) _grid[j] = steps == 1 ? 0 : span * j / (steps - 1);
        // Predict every band first: the scale floor of a band depends on the other bands' spread.
        double widest = 0;
        for (int c = 0; c < channels; c++)
        {
            var column = _columns.AsSpan(c * steps, steps);
            _gp.PredictMean(_grid, _wavelengths[c], column);
            _centers[c] = 0; _scales[c] = 1;
            if (Preset.RobustScale)
            {
                RobustCenterIqr(column, _sorted, out _centers[c], out var iqr);
                _scales[c] = iqr;
                if (double.IsFinite(iqr)) widest = Math.Max(widest, iqr);
            }
        }
        for (int c = 0; c < channels; c++)
        {
            var column = _columns.AsSpan(c * steps, steps);
            double center = _centers[c], scale = _scales[c];
            if (Preset.RobustScale)
                scale = FlooredScale(scale, widest, column, center, Preset.MinScaleFractionOfWidestBand, Preset.MaxAbsFeature);
            for (int j = 0; j < steps; j++)
            {
                double v = (column[j] - center) / scale;
                if (!double.IsFinite(v)) return "gp-not-finite";
                if (Preset.RobustScale && Preset.MaxAbsFeature > 0) v = Math.Clamp(v, -Preset.MaxAbsFeature, Preset.MaxAbsFeature); // rounding only
                destination[(Preset.ReverseTime ? steps - 1 - j : j) * channels + c] = (float)v;
            }
        }
        return null;
    }

    private int ChannelOf(Band b)
    {
        var ch = Preset.Channels;
        for (int c = 0; c < ch.Length; c++) if (ch[c] == b) return c;
        return -1;
    }

    private static void SortIndicesByTime(Span<int> idx, ReadOnlySpan<double> mjd)
    {
        for (int a = 1; a < idx.Length; a++)
        {
            int v = idx[a]; double t = mjd[v]; int b = a - 1;
            while (b >= 0 && mjd[idx[b]] > t) { idx[b + 1] = idx[b]; b--; }
            idx[b + 1] = v;
        }
    }

    /// <summary>scikit-learn RobustScaler: center = median, scale = q75 − q25 (numpy linear percentiles); 0 → 1.</summary>
    public static void RobustCenterScale(ReadOnlySpan<double> values, Span<double> scratch, out double center, out double scale)
    {
        RobustCenterIqr(values, scratch, out center, out scale);
        if (scale < 10 * 2.220446049250313e-16 || !double.IsFinite(scale)) scale = 1.0; // sklearn _handle_zeros_in_scale
    }

    /// <summary>Median and IQR (numpy linear percentiles), the IQR as is (0 stays 0).</summary>
    public static void RobustCenterIqr(ReadOnlySpan<double> values, Span<double> scratch, out double center, out double iqr)
    {
        var s = scratch[..values.Length];
        values.CopyTo(s);
        s.Sort();
        center = Percentile(s, 0.5);
        iqr = Percentile(s, 0.75) - Percentile(s, 0.25);
    }

    /// <summary>
    /// The robust scale with its floors (see <see cref="T2Preprocessing.MinScaleFractionOfWidestBand"/> and
    /// <see cref="T2Preprocessing.MaxAbsFeature"/>): max(IQR, fraction · widest band's IQR, max|value − center| / maxAbs).
    /// Equal to the IQR whenever the IQR is above both floors, so normal light curves keep scikit-learn's output;
    /// the second floor only acts on a column that would otherwise leave ±maxAbs.
    /// </summary>
    public static double FlooredScale(double iqr, double widestIqr, ReadOnlySpan<double> column, double center, double fractionOfWidest, double maxAbs)
    {
        double scale = iqr;
        if (fractionOfWidest > 0 && double.IsFinite(widestIqr)) scale = Math.Max(scale, fractionOfWidest * widestIqr);
        if (maxAbs > 0)
        {
            double deviation = 0;
            foreach (var v in column) deviation = Math.Max(deviation, Math.Abs(v - center));
            if (double.IsFinite(deviation)) scale = Math.Max(scale, deviation / maxAbs);
        }
        // sklearn _handle_zeros_in_scale: a constant column (all floors 0) is divided by 1.
        if (scale < 10 * 2.220446049250313e-16 || !double.IsFinite(scale)) scale = 1.0;
        return scale;
    }

    private static double Percentile(ReadOnlySpan<double> sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        double frac = pos - lo;
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    }
}
