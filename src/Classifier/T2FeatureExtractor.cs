using Alerts.Core;

namespace Alerts.Classifier;

/// <summary>
/// The t2 model input from a light curve: flux in the preset's zero point, GP fit over (time, wavelength),
/// mean on the time grid per channel, robust scaling per channel (see <see cref="T2Preprocessing"/>).
/// Bad light curves give a reason string (never an exception). Owns its buffers: one instance per worker,
/// no allocation per light curve once warmed up.
/// </summary>
public sealed class T2FeatureExtractor : IFeatureExtractor
{
    private readonly GaussianProcessInterpolator _gp;
    private readonly double[] _wavelengths;
    private readonly double[] _grid;
    private readonly double[] _columns;
    private readonly double[] _centers;
    private readonly double[] _scales;
    private readonly double[] _sorted;
    private readonly int[] _perChannel;
    private readonly string[] _missingReasons;
    private readonly string[] _tooFewReasons;
    private int[] _selected = new int[64];

    public T2FeatureExtractor(T2Preprocessing preset)
    {
        Preset = preset;
        if (preset.Channels.Length == 0) throw new ArgumentException("preset has no channels", nameof(preset));
        _gp = new GaussianProcessInterpolator(preset.WavelengthLengthScale)
        {
            InitialTimeLengthScale = preset.InitialTimeLengthScale,
            InitialAmplitudeFactor = preset.InitialAmplitudeFactor,
            Tolerance = preset.GpTolerance,
            StationarityTolerance = preset.GpStationarityTolerance,
        };
        _wavelengths = preset.Channels.Select(b => b.EffectiveWavelength()).ToArray();
        _grid = new double[preset.Steps];
        _columns = new double[preset.Steps * preset.Channels.Length];
        _centers = new double[preset.Channels.Length];
        _scales = new double[preset.Channels.Length];
        _sorted = new double[preset.Steps];
        _perChannel = new int[preset.Channels.Length];
        _missingReasons = preset.Channels.Select(b => "missing-band:" + b.Name()).ToArray();
        // Built once: a rejected alert costs no string. The span preset keeps the bare code its routing rules match.
        _tooFewReasons = Enumerable.Range(0, Math.Max(0, preset.MinPoints)).Select(k => preset.TimeGrid == T2TimeGrid.Span
            ? "too-few-points"
            : $"too-few-points: {k} detection{(k == 1 ? "" : "s")} in {string.Join(",", preset.Channels.Select(b => b.Name()))} within {preset.WindowEndDays:0} d of the first; need {preset.MinPoints}").ToArray();
        FluxFactor = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, preset.ZeroPoint);
        // The window grid is the same for every light curve (the span grid is laid per curve in Extract).
        if (preset.TimeGrid == T2TimeGrid.FirstDetection) WindowGrid(preset, _grid);
    }

    /// <summary>
    /// Fills <c>_selected</c> with the indices of the points the preset fits (kind and band kept, values finite, errors
    /// positive), in light-curve order, and clears <c>_perChannel</c> for the caller's count; a reason when a kept point is unusable.
    /// </summary>
    private string? SelectPoints(LightCurve lightCurve, out int n)
    {
        var mjd = lightCurve.Mjd; var band = lightCurve.Band; var flux = lightCurve.Flux; var err = lightCurve.FluxErr; var kind = lightCurve.Kind;
        if (_selected.Length < lightCurve.Count) _selected = new int[Math.Max(lightCurve.Count, _selected.Length * 2)];
        Array.Clear(_perChannel);
        n = 0;
        for (int i = 0; i < lightCurve.Count; i++)
        {
            var k = kind[i];
            if (k == PointKind.NonDetection && !Preset.IncludeNonDetections) continue;
            if (k == PointKind.ForcedPhotometry && !Preset.IncludeForcedPhotometry) continue;
            if (ChannelOf(band[i]) < 0) continue;
            if (!double.IsFinite(mjd[i])) return "bad-time";
            if (!float.IsFinite(flux[i])) return "bad-flux";
            if (!float.IsFinite(err[i]) || !(err[i] > 0)) return "bad-flux-error";
            _selected[n++] = i;
        }
        return null;
    }

    public T2Preprocessing Preset { get; }

    public int Steps => Preset.Steps;

    public IReadOnlyList<Band> Channels => Preset.Channels;

    /// <summary>Multiplies nJy into the preset's flux unit (FLUXCAL: 10^(-0.4·3.9) ≈ 0.02754).</summary>
    public double FluxFactor { get; }

    /// <summary>The last successful fit (diagnostics, tests).</summary>
    public GaussianProcessFit LastFit { get; private set; }

    /// <summary>Number of points the last fit used.</summary>
    public int LastPointCount { get; private set; }

    /// <summary>Time span (days) of the grid of the last successful extraction.</summary>
    public double LastSpanDays { get; private set; }

    public string? Extract(LightCurve lightCurve, Span<float> destination)
    {
        int channels = _wavelengths.Length, steps = Preset.Steps;
        if (destination.Length < steps * Preset.InputChannels)
            return "destination-too-small";
        if (Preset.TimeGrid == T2TimeGrid.FirstDetection)
            return ExtractWindow(lightCurve, destination);

        var mjd = lightCurve.Mjd; var band = lightCurve.Band; var flux = lightCurve.Flux; var err = lightCurve.FluxErr;
        if (SelectPoints(lightCurve, out int n) is { } bad) return bad;
        if (n < Preset.MinPoints) return _tooFewReasons[n];

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

    /// <summary>
    /// <see cref="T2TimeGrid.FirstDetection"/>: the GP fitted to the points of the window after the first detection, its
    /// mean on the stretched grid divided by the peak, then the proximity channels (see <see cref="T2Preprocessing"/>).
    /// </summary>
    private string? ExtractWindow(LightCurve lightCurve, Span<float> destination)
    {
        int channels = _wavelengths.Length, steps = Preset.Steps, width = Preset.InputChannels;
        var mjd = lightCurve.Mjd; var band = lightCurve.Band; var flux = lightCurve.Flux; var err = lightCurve.FluxErr;
        if (SelectPoints(lightCurve, out int n) is { } bad) return bad;
        double first = double.PositiveInfinity;
        for (int s = 0; s < n; s++) first = Math.Min(first, mjd[_selected[s]]);
        // The window: nothing after first + WindowEndDays is fitted (it is past the grid).
        int m = 0;
        for (int s = 0; s < n; s++)
            if (mjd[_selected[s]] - first <= Preset.WindowEndDays) _selected[m++] = _selected[s];
        n = m;
        if (n < Preset.MinPoints) return _tooFewReasons[n];
        var sel = _selected.AsSpan(0, n);
        SortIndicesByTime(sel, mjd);
        // Thin evenly in time order to MaxPoints: keeps the start (which sets the anchor) and the latest point.
        if (Preset.MaxPoints > 1 && n > Preset.MaxPoints)
        {
            int keep = Preset.MaxPoints;
            for (int q = 0; q < keep; q++) sel[q] = sel[(int)((long)q * (n - 1) / (keep - 1))];
            n = keep;
            sel = sel[..n];
        }
        double last = double.NegativeInfinity;
        foreach (int i in sel) { _perChannel[ChannelOf(band[i])]++; last = Math.Max(last, mjd[i]); }
        for (int c = 0; c < channels; c++)
            if (_perChannel[c] < Preset.MinPointsPerChannel) return _missingReasons[c];

        _gp.Reset();
        foreach (int i in sel)
            _gp.AddPoint(mjd[i] - first, _wavelengths[ChannelOf(band[i])], flux[i] * FluxFactor, err[i] * FluxFactor);
        LastFit = _gp.Fit();
        LastPointCount = n;
        LastSpanDays = last - first;

        double observedEnd = last - first, peak = 0, peakAbs = 0;
        for (int c = 0; c < channels; c++)
        {
            var column = _columns.AsSpan(c * steps, steps);
            _gp.PredictMean(_grid, _wavelengths[c], column);
            for (int j = 0; j < steps; j++)
            {
                if (!double.IsFinite(column[j])) return "gp-not-finite";
                peakAbs = Math.Max(peakAbs, Math.Abs(column[j]));
                if (_grid[j] >= 0 && _grid[j] <= observedEnd) peak = Math.Max(peak, column[j]);
            }
        }
        // A single epoch (or a fading-only curve sampled between grid steps) has no grid time inside [first, last]:
        // the largest |mean| anywhere stands in; an all-zero fit leaves the features at 0.
        if (!(peak > 0)) peak = peakAbs > 0 ? peakAbs : 1.0;
        double clamp = Preset.MaxAbsFeature > 0 ? Preset.MaxAbsFeature : double.PositiveInfinity;
        for (int c = 0; c < channels; c++)
        {
            var column = _columns.AsSpan(c * steps, steps);
            for (int j = 0; j < steps; j++)
                destination[(Preset.ReverseTime ? steps - 1 - j : j) * width + c] = (float)Math.Clamp(column[j] / peak, -clamp, clamp);
        }
        if (Preset.ProximityChannels)
        {
            double inv = 1.0 / Preset.ProximityScaleDays;
            for (int c = 0; c < channels; c++)
            {
                // sel is in time order: one merge-like sweep finds each grid time's nearest point of band c.
                int p = 0;
                double prev = double.NegativeInfinity;
                for (int j = 0; j < steps; j++)
                {
                    double t = _grid[j];
                    while (p < n && mjd[sel[p]] - first <= t)
                    {
                        if (ChannelOf(band[sel[p]]) == c) prev = mjd[sel[p]] - first;
                        p++;
                    }
                    double next = double.PositiveInfinity;
                    for (int q = p; q < n; q++)
                        if (ChannelOf(band[sel[q]]) == c) { next = mjd[sel[q]] - first; break; }
                    double d = Math.Min(t - prev, next - t);
                    destination[(Preset.ReverseTime ? steps - 1 - j : j) * width + channels + c] = (float)Math.Exp(-d * inv);
                }
            }
        }
        return null;
    }

    /// <summary>The grid times (days after the first detection) of a <see cref="T2TimeGrid.FirstDetection"/> preset.</summary>
    public static void WindowGrid(T2Preprocessing preset, Span<double> grid)
    {
        int steps = grid.Length;
        double tau = preset.GridStretchDays, ratio = 1 + (preset.WindowEndDays - preset.WindowStartDays) / tau;
        for (int j = 0; j < steps; j++)
            grid[j] = preset.WindowStartDays + tau * (Math.Pow(ratio, steps == 1 ? 0 : (double)j / (steps - 1)) - 1);
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

    /// <summary>
    /// Median and IQR (numpy linear percentiles), the IQR as is (0 stays 0). Only the six order statistics the three
    /// percentiles interpolate between are found (quickselect, the quartiles inside the halves the median leaves), not a
    /// full sort: the same values exactly, in ~1/3 of the comparisons. Non-finite input or short columns take the sort.
    /// </summary>
    public static void RobustCenterIqr(ReadOnlySpan<double> values, Span<double> scratch, out double center, out double iqr)
    {
        var s = scratch[..values.Length];
        values.CopyTo(s);
        int n = s.Length;
        bool finite = n >= 8;
        for (int i = 0; i < n && finite; i++) finite = double.IsFinite(s[i]);
        if (!finite)
        {
            s.Sort();
            center = Percentile(s, 0.5);
            iqr = Percentile(s, 0.75) - Percentile(s, 0.25);
            return;
        }
        // n ≥ 8: lo25 + 1 ≤ lo50 and lo50 + 1 ≤ lo75, so each quartile lies strictly inside one half.
        int lo50 = (int)Math.Floor(0.5 * (n - 1)), lo25 = (int)Math.Floor(0.25 * (n - 1)), lo75 = (int)Math.Floor(0.75 * (n - 1));
        Select(s, lo50, 0, n);                       // s[..lo50] ≤ s[lo50] ≤ s[lo50+1..]
        double m0 = s[lo50], m1 = lo50 + 1 < n ? Min(s[(lo50 + 1)..]) : m0;
        Select(s, lo25, 0, lo50);
        double a0 = s[lo25], a1 = lo25 + 1 < lo50 ? Min(s[(lo25 + 1)..lo50]) : m0;
        Select(s, lo75, lo50 + 1, n);
        double b0 = s[lo75], b1 = lo75 + 1 < n ? Min(s[(lo75 + 1)..]) : b0;
        center = Interpolate(m0, m1, 0.5 * (n - 1) - lo50);
        iqr = Interpolate(b0, b1, 0.75 * (n - 1) - lo75) - Interpolate(a0, a1, 0.25 * (n - 1) - lo25);
    }

    private static double Interpolate(double lo, double hi, double frac) => lo + (hi - lo) * frac;

    private static double Min(ReadOnlySpan<double> s)
    {
        double m = s[0];
        for (int i = 1; i < s.Length; i++) if (s[i] < m) m = s[i];
        return m;
    }

    /// <summary>
    /// Quickselect (Hoare partition, median-of-three pivot): rearranges s[from..to) — which must hold exactly the ranks
    /// from..to−1 of the whole — so that s[k] is the k-th smallest, everything before it ≤ and after it ≥. Finite values only.
    /// </summary>
    private static void Select(Span<double> s, int k, int from, int to)
    {
        int lo = from, hi = to - 1;
        while (hi - lo > 12)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (s[mid] < s[lo]) (s[mid], s[lo]) = (s[lo], s[mid]);
            if (s[hi] < s[lo]) (s[hi], s[lo]) = (s[lo], s[hi]);
            if (s[hi] < s[mid]) (s[hi], s[mid]) = (s[mid], s[hi]);
            double pivot = s[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (s[i] < pivot) i++;
                while (s[j] > pivot) j--;
                if (i <= j) { (s[i], s[j]) = (s[j], s[i]); i++; j--; }
            }
            // s[lo..j] ≤ pivot, s[i..hi] ≥ pivot, s[j+1..i−1] = pivot.
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return;
        }
        for (int a = lo + 1; a <= hi; a++)
        {
            double v = s[a]; int b = a - 1;
            while (b >= lo && s[b] > v) { s[b + 1] = s[b]; b--; }
            s[b + 1] = v;
        }
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
