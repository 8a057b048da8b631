using Alerts.Core;
using Alerts.Simulator.Physics;

namespace Alerts.Simulator;

/// <summary>One measured epoch of a simulated object: the survey visit plus the difference-image measurement.</summary>
public struct Observation
{
    public Visit Visit;
    public double TrueFlux;       // true difference flux (source − reference), nJy
    public double Flux;           // measured difference flux, nJy
    public double FluxErr;        // 1σ, nJy
    public double SourceFlux;     // true total source flux (for the science-image magnitude), nJy
    public bool Detected;         // |Flux| / FluxErr ≥ 5
    /// <summary>For detections: the PSF magnitude of |Flux| and its error, rounded to float as an alert carries them.</summary>
    public float Mag, MagErr;
    public double Mjd => Visit.Mjd;
    public Band Band => Visit.Band;
}

/// <summary>A simulated object: its label and true parameters, and every observation in time order.</summary>
public sealed class SimulatedObject
{
    public required long Index { get; init; }
    public required Survey Survey { get; init; }
    public required string ClassName { get; init; }
    public required string ObjectId { get; init; }
    public required long DiaObjectId { get; init; }
    public required double Ra { get; init; }
    public required double Dec { get; init; }
    public required SourceModel Source { get; init; }
    public required Observation[] Observations { get; init; }

    public double Redshift => Source.Redshift;
    public int DetectionCount { get { int n = 0; foreach (ref readonly var o in Observations.AsSpan()) if (o.Detected) n++; return n; } }

    /// <summary>The unique id of the alert issued for observation <paramref name="i"/> (ZTF candid or Rubin diaSourceId).</summary>
    public long AlertId(int i) => (Survey == Survey.Ztf ? 2_000_000_000_000_000_000L : 4_000_000_000_000_000_000L) + Index * 1_000_000L + i;

    /// <summary>The whole light curve (detections and forced photometry) as a Core <see cref="LightCurve"/>.</summary>
    public LightCurve ToLightCurve(LightCurve? into = null)
    {
        var lc = into ?? new LightCurve(Math.Max(Observations.Length, 1));
        lc.Clear();
        foreach (ref readonly var o in Observations.AsSpan())
            lc.Add(o.Mjd, o.Band, (float)o.Flux, (float)o.FluxErr, o.Detected ? PointKind.Detection : PointKind.ForcedPhotometry);
        return lc;
    }
}
