namespace Alerts.Core;

/// <summary>What one light-curve point is.</summary>
public enum PointKind : byte
{
    /// <summary>A difference-image detection (ZTF candidate/prv_candidate with magpsf; Rubin diaSource).</summary>
    Detection = 0,
    /// <summary>An upper limit only: ZTF prv_candidate with only diffmaglim; Rubin prvDiaNondetectionLimits. Flux is 0, FluxErr is the 1-sigma limit.</summary>
    NonDetection = 1,
    /// <summary>Forced photometry at a known position: ZTF fp_hists; Rubin diaForcedSource.</summary>
    ForcedPhotometry = 2,
}

/// <summary>
/// Flux conventions. Every flux in Alerts is in nanojansky (nJy), Rubin's native unit, so the two surveys
/// share one scale. AB magnitude m maps to flux by f = 10^(-0.4 (m - 31.4)) nJy, since 3631 Jy = 10^(31.4*0.4) nJy.
/// </summary>
public static class Photometry
{
    /// <summary>AB zero point for fluxes in nJy.</summary>
    public const double NanojanskyZeroPoint = 31.4;

    /// <summary>SNANA FLUXCAL zero point (t2/FINK preprocessing).</summary>
    public const double FluxcalZeroPoint = 27.5;

    public static double MagToFlux(double mag, double zeroPoint = NanojanskyZeroPoint) => Math.Pow(10.0, -0.4 * (mag - zeroPoint));

    /// <summary>Propagates a magnitude error to a flux error: σf = f · σm · ln(10)/2.5.</summary>
    public static double MagErrToFluxErr(double flux, double magErr) => Math.Abs(flux) * magErr * (Math.Log(10.0) / 2.5);

    public static double FluxToMag(double flux, double zeroPoint = NanojanskyZeroPoint) => zeroPoint - 2.5 * Math.Log10(flux);

    /// <summary>Flux of the 5σ limiting magnitude turned into a 1σ error (used for non-detections).</summary>
    public static double LimitingMagToSigma(double limMag, double nSigma = 5.0) => MagToFlux(limMag) / nSigma;

    /// <summary>Converts a flux between zero points (e.g. nJy to FLUXCAL: factor 10^(-0.4 (31.4 - 27.5))).</summary>
    public static double Rescale(double flux, double fromZeroPoint, double toZeroPoint) => flux * Math.Pow(10.0, -0.4 * (fromZeroPoint - toZeroPoint));

    /// <summary>Modified Julian Date from Julian Date.</summary>
    public static double JdToMjd(double jd) => jd - 2400000.5;
}
