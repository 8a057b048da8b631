using Alerts.Core;

namespace Alerts.Classifier;

/// <summary>
/// Every knob of the t2 preprocessing in one record, so a recipe is a value: the shipped models name theirs
/// (<see cref="Ztf"/>, <see cref="Lsst"/>) and a new recipe (e.g. FINK's exact one) is one more preset.
/// The defaults follow astronet (<c>fit_2d_gp</c> / <c>generate_gp_all_objects</c>) and FINK's t2 module:
/// flux in SNANA FLUXCAL (zero point 27.5), detections only, time relative to the first kept point,
/// Matérn-3/2 2-D GP with l_λ = 6000 Å, start l_t = 20 d, start amplitude (0.5·scale)², the mean predicted on
/// <c>np.linspace(min(mjd), max(mjd), 100)</c> (first to last kept point inclusive, 100 steps) for each channel,
/// then scikit-learn RobustScaler (median, IQR 25-75, IQR of 0 treated as 1) per band column of the object, with the scale
/// floored (<see cref="MinScaleFractionOfWidestBand"/>, <see cref="MaxAbsFeature"/>) so no feature leaves ±100.
/// </summary>
public sealed record T2Preprocessing
{
    public required string Name { get; init; }

    /// <summary>Model input channels (bands) in order; points in other bands are ignored.</summary>
    public required Band[] Channels { get; init; }

    /// <summary>Time steps on the grid (t2: 100).</summary>
    public int Steps { get; init; } = 100;

    /// <summary>Zero point the model's fluxes are expressed in (SNANA FLUXCAL 27.5).</summary>
    public double ZeroPoint { get; init; } = Photometry.FluxcalZeroPoint;

    public bool IncludeNonDetections { get; init; }

    public bool IncludeForcedPhotometry { get; init; }

    /// <summary>Fewer kept points than this gives "too-few-points".</summary>
    public int MinPoints { get; init; } = 3;

    /// <summary>Each channel needs at least this many kept points, else "missing-band:&lt;name&gt;" (ZTF: g and r both needed).</summary>
    public int MinPointsPerChannel { get; init; } = 1;

    /// <summary>When &gt; 0, only the latest MaxPoints kept points are fitted (bounds the O(n³) cost for long histories).</summary>
    public int MaxPoints { get; init; }

    public double WavelengthLengthScale { get; init; } = 6000.0;

    public double InitialTimeLengthScale { get; init; } = 20.0;

    public double InitialAmplitudeFactor { get; init; } = 0.5;

    /// <summary>GP optimiser's relative-decrease and projected-gradient tolerance (<see cref="GaussianProcessInterpolator.Tolerance"/>; astronet: 1e-6).</summary>
    public double GpTolerance { get; init; } = 1e-6;

    /// <summary>GP optimiser's stationarity test for a relative-decrease stop (<see cref="GaussianProcessInterpolator.StationarityTolerance"/>).</summary>
    public double GpStationarityTolerance { get; init; } = 1e-4;

    /// <summary>Robust-scale each band column of the GP output (median, IQR).</summary>
    public bool RobustScale { get; init; } = true;

    /// <summary>
    /// Write the grid last-to-first. FINK's t2 processor computed times as jd[0] − jd (negative, reversed) where
    /// astronet trained with forward time; the GP is stationary, so that equals the forward input reversed in time.
    /// </summary>
    public bool ReverseTime { get; init; }

    /// <summary>
    /// Scale floor relative to the object's widest band: a band's scale is at least this fraction of the largest
    /// IQR among the object's bands. A band with no detection gets a nearly flat GP curve whose IQR is round-off-small
    /// (not 0, so scikit-learn's 0 → 1 rule misses it); dividing by it turned residue into features up to 7.7e13.
    /// A band varying less than 1 % of the object's main band carries no shape the model can use, so it is scaled as
    /// if it had 1 % of that spread (it stays near 0). Relative, so scaling all fluxes still leaves the output unchanged.
    /// 0 turns the floor off (scikit-learn's RobustScaler exactly).
    /// </summary>
    public double MinScaleFractionOfWidestBand { get; init; } = 0.01;

    /// <summary>
    /// Bound on |feature|: a band's scale is at least its largest deviation from the median / this, so every value
    /// is within ±MaxAbsFeature whatever the light curve, and a column already inside the bound is untouched.
    /// 100 sits above normal inputs (0.26 % of ZTF training rows went beyond it, up to 6e8); 0 turns it off.
    /// </summary>
    public double MaxAbsFeature { get; init; } = 100.0;

    /// <summary>
    /// How the time grid is laid. <see cref="T2TimeGrid.Span"/> is t2's: <c>np.linspace(first, last, Steps)</c>, so a
    /// 3-year curve and a 3-day alert both fill the grid and the model cannot tell a day from a year.
    /// <see cref="T2TimeGrid.FirstDetection"/> anchors a fixed window on the first detection: grid time j is
    /// <c>WindowStartDays + τ·((1 + (WindowEndDays − WindowStartDays)/τ)^(j/(Steps−1)) − 1)</c> days after it
    /// (τ = <see cref="GridStretchDays"/>), dense early (0.3 d a step before the first detection, 0.6 d at it,
    /// 1.2 d at +30 d, 6.5 d at the end), so a 3-day alert and the whole curve share one time axis.
    /// </summary>
    public T2TimeGrid TimeGrid { get; init; } = T2TimeGrid.Span;

    /// <summary>First grid time, days relative to the first kept detection (<see cref="T2TimeGrid.FirstDetection"/>).</summary>
    public double WindowStartDays { get; init; } = -5;

    /// <summary>Last grid time, days after the first kept detection; later points are not fitted.</summary>
    public double WindowEndDays { get; init; } = 195;

    /// <summary>τ of the stretched grid: below τ days the steps are nearly even, beyond it they grow geometrically.</summary>
    public double GridStretchDays { get; init; } = 10;

    /// <summary>
    /// Divide every band's GP mean by the object's peak (the largest mean over the bands between the first and the last
    /// fitted detection) instead of robust-scaling each band on its own. Keeps colour and the rise/decline shape in the
    /// features (per-band scaling removes the g − r colour, which is what separates most SN types early) while staying
    /// independent of distance. Replaces <see cref="RobustScale"/> when set.
    /// </summary>
    public bool PeakScale { get; init; }

    /// <summary>
    /// After the band means, one channel per band: exp(−d/<see cref="ProximityScaleDays"/>) with d the days from the grid
    /// time to the band's nearest fitted point. Tells the model where the curve is measured and where the GP only
    /// extrapolates (an alert's future, a band not yet seen).
    /// </summary>
    public bool ProximityChannels { get; init; }

    public double ProximityScaleDays { get; init; } = 5;

    /// <summary>Channels of the model input: the bands, and with <see cref="ProximityChannels"/> one proximity channel per band.</summary>
    public int InputChannels => Channels.Length * (ProximityChannels ? 2 : 1);

    /// <summary>Names of the input channels, in order (band names; proximity channels as "&lt;band&gt;:near").</summary>
    public IReadOnlyList<string> InputChannelNames =>
        [.. Channels.Select(b => b.Name()), .. ProximityChannels ? Channels.Select(b => b.Name() + ":near") : []];

    /// <summary>ZTF g and r (the bands FINK's t2 uses for ZTF).</summary>
    public static readonly T2Preprocessing Ztf = new() { Name = "t2-ztf", Channels = [Band.ZtfG, Band.ZtfR] };

    /// <summary>
    /// Rubin ugrizy. A band with no detection is still predicted: the 2-D GP carries the light curve across wavelength
    /// (as avocado does for PLAsTiCC); requiring all six bands would reject most objects (u is rarely detected).
    /// </summary>
    public static readonly T2Preprocessing Lsst = new() { Name = "t2-lsst", Channels = [.. Bands.Lsst], MinPointsPerChannel = 0 };

    /// <summary>
    /// FINK's recipe for its published ZTF t2 (fink-science t2 + astronet): FLUXCAL zero point 27.5, detections only,
    /// both bands required, 100-step grid, RobustScaler per band, columns (ztfg, ztfr), forward time as astronet
    /// trained. FINK took the columns in Python-set order (<c>set(ZTF_PB_WAVELENGTHS) &amp; set(columns)</c>), which is
    /// not fixed from one process to the next; we fix (ztfg, ztfr). FINK keeps objects with at least 2 valid magnitudes.
    /// Its scaling is scikit-learn's RobustScaler exactly, so our scale floors are off.
    /// </summary>
    public static readonly T2Preprocessing FinkT2 = new() { Name = "fink-t2", Channels = [Band.ZtfG, Band.ZtfR], MinPoints = 2, MinPointsPerChannel = 1, MinScaleFractionOfWidestBand = 0, MaxAbsFeature = 0 };

    /// <summary><see cref="FinkT2"/> with FINK's production time sign (jd[0] − jd), i.e. the grid reversed in time.</summary>
    public static readonly T2Preprocessing FinkT2Production = FinkT2 with { Name = "fink-t2-production", ReverseTime = true };

    /// <summary><see cref="FinkT2"/> with the columns in the other Python-set order, (ztfr, ztfg): what FINK's t2 saw in some processes.</summary>
    public static readonly T2Preprocessing FinkT2BandsSwapped = FinkT2 with { Name = "fink-t2-rg", Channels = [Band.ZtfR, Band.ZtfG] };

    /// <summary>
    /// The shipped ZTF models' recipe: g and r on a window anchored at the first detection (−5 to +195 d, stretched),
    /// means divided by the peak, a proximity channel per band; 2 detections suffice (the 2-D GP carries one band to
    /// the other across wavelength, so a single-band start is classified, its other band marked as unmeasured); at
    /// most 200 points fitted, thinned evenly in time when a curve has more (bounds the O(n³) fit of long histories).
    /// </summary>
    public static readonly T2Preprocessing ZtfWindow = new()
    {
        Name = "t2-ztf-window", Channels = [Band.ZtfG, Band.ZtfR], TimeGrid = T2TimeGrid.FirstDetection,
        RobustScale = false, PeakScale = true, ProximityChannels = true, MinPoints = 2, MinPointsPerChannel = 0, MaxPoints = 200,
        MaxAbsFeature = 20,
    };

    /// <summary><see cref="ZtfWindow"/> for Rubin ugrizy.</summary>
    public static readonly T2Preprocessing LsstWindow = ZtfWindow with { Name = "t2-lsst-window", Channels = [.. Bands.Lsst] };

    /// <summary>The recipe of the shipped model of a survey (models/t2-&lt;survey&gt;: the window presets).</summary>
    public static T2Preprocessing ForSurvey(Survey survey) => survey == Survey.Ztf ? ZtfWindow : LsstWindow;

    public static T2Preprocessing ByName(string name) => name.ToLowerInvariant() switch
    {
        "t2-ztf-window" => ZtfWindow,
        "t2-lsst-window" => LsstWindow,
        "t2-ztf" or "ztf" => Ztf,
        "t2-lsst" or "lsst" or "elasticc" => Lsst,
        "fink-t2" => FinkT2,
        "fink-t2-production" => FinkT2Production,
        "fink-t2-rg" => FinkT2BandsSwapped,
        _ => throw new ArgumentException($"unknown preprocessing preset '{name}': use t2-ztf-window, t2-lsst-window, t2-ztf, t2-lsst, fink-t2, fink-t2-production or fink-t2-rg"),
    };
}

/// <summary>How <see cref="T2Preprocessing"/> lays its time grid.</summary>
public enum T2TimeGrid
{
    /// <summary>t2's: Steps points from the first to the last fitted point.</summary>
    Span,

    /// <summary>A fixed, stretched window anchored on the first fitted detection.</summary>
    FirstDetection,
}
