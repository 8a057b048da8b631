using Alerts.Core;

namespace Alerts.Simulator.Physics;

/// <summary>One exposure of the source's position.</summary>
public struct Visit
{
    public double Mjd;
    public Band Band;
    /// <summary>5σ limiting magnitude of the difference image (ZTF diffmaglim).</summary>
    public float LimitingMag;
    public int Field;
    public int Rcid;
    public long ExposureId;
}

/// <summary>
/// Where and how often a survey looks, and how deep. ZTF: g/r (i on 15% of nights) every 1–3 nights per field,
/// 5σ depth g 20.8 / r 20.6 / i 20.2 mag (Bellm et al. 2019; Masci et al. 2019). Rubin: ugrizy in visit pairs,
/// rolling cadence alternating 2–4 night revisits in the active half of the sky with 8–15 in the rest
/// (LSST Science Requirements; Ivezić et al. 2019; rolling baseline v3), depth u 23.7 … y 22.1.
/// Both: nights lost to weather shared by all objects (a hash of the night, with multi-night storms) and an
/// observing season set by the Sun: a field is observable while its RA is within 110° of the anti-solar RA.
/// </summary>
public sealed class SurveyModel
{
    public Survey Survey { get; }
    public Band[] Bands { get; }
    private readonly ulong _weatherSeed;

    public SurveyModel(Survey survey, ulong seed)
    {
        Survey = survey;
        Bands = survey == Survey.Ztf ? Core.Bands.Ztf : Core.Bands.Lsst;
        _weatherSeed = seed * 0x2545F4914F6CDD1DUL + 17;
    }

    public double MeanDepth(Band b) => b switch
    {
        Band.ZtfG => 20.8, Band.ZtfR => 20.6, Band.ZtfI => 20.2,
        Band.LsstU => 23.7, Band.LsstG => 24.5, Band.LsstR => 24.0, Band.LsstI => 23.5, Band.LsstZ => 22.9, Band.LsstY => 22.1,
        _ => 20,
    };

    /// <summary>Photon "gain" in nJy per detected photon-equivalent, tied to depth so that a source 5.5 mag above
    /// the limit has ≈0.4% Poisson error (ZTF: m=15 → σ ≈ 0.004 mag).</summary>
    public static double Gain(double limitingMag) => Photometry.MagToFlux(limitingMag) / 575.0;

    /// <summary>1σ flux error (nJy) of a difference-image measurement: sky noise from the 5σ limit, the source and
    /// reference photon noise, and a 0.5% calibration floor.</summary>
    public static double FluxError(double limitingMag, double sourceFlux, double referenceFlux, double diffFlux)
    {
        double f5 = Photometry.MagToFlux(limitingMag);
        double sky = f5 / 5.0;
        double poisson = Math.Max(sourceFlux, 0) + Math.Max(referenceFlux, 0) * 0.5;
        double floor = 0.005 * Math.Abs(diffFlux);
        return Math.Sqrt(sky * sky + poisson * Gain(limitingMag) + floor * floor);
    }

    private double Hash01(long a, long b)
    {
        ulong x = _weatherSeed ^ ((ulong)a * 0x9E3779B97F4A7C15UL) ^ ((ulong)b * 0xC2B2AE3D27D4EB4FUL);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL; x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL; x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>Weather: 15% of single nights lost, plus 4-night storms starting on 8% of blocks.</summary>
    public bool NightLost(long night) => Hash01(night, 1) < 0.15 || Hash01(night / 4, 2) < 0.08;

    /// <summary>True when a field at this RA is in season (within 110° of the anti-solar point at local midnight).</summary>
    public static bool InSeason(double ra, double mjd)
    {
        double sunRa = 360.0 * (mjd - 59293.4) / 365.2422; // March equinox 2021 ≈ MJD 59293.4
        double anti = sunRa + 180;
        double d = Math.Abs(((ra - anti) % 360 + 540) % 360 - 180);
        return d < 110;
    }

    /// <summary>Appends the visits of a source at (ra, dec) between start and end (MJD), in time order.</summary>
    public void Visits(Rng rng, double ra, double dec, double start, double end, List<Visit> output)
    {
        output.Clear();
        long n0 = (long)Math.Floor(start), n1 = (long)Math.Ceiling(end);
        int field = 200 + (int)(ra / 360 * 700) % 700 + (dec > 0 ? 0 : 700);
        int rcid = rng.NextInt(64);
        double midnight = Survey == Survey.Ztf ? 0.33 : 0.20; // local midnight in UTC day fraction (Palomar, Cerro Pachón)
        if (Survey == Survey.Ztf)
        {
            int cadence = rng.NextDouble() switch { < 0.25 => 1, < 0.75 => 2, _ => 3 };
            int phase = rng.NextInt(cadence);
            for (long night = n0; night <= n1; night++)
            {
                if ((night + phase) % cadence != 0 || NightLost(night) || !InSeason(ra, night + midnight)) continue;
                double t = night + midnight + rng.Uniform(-0.12, 0.12);
                if (rng.Chance(0.92)) Add(output, rng, t, Band.ZtfG, field, rcid, start, end);
                if (rng.Chance(0.95)) Add(output, rng, t + rng.Uniform(0.02, 0.06), Band.ZtfR, field, rcid, start, end);
                if (rng.Chance(0.2)) Add(output, rng, t + rng.Uniform(0.07, 0.12), Band.ZtfR, field, rcid, start, end);
                if (rng.Chance(0.15)) Add(output, rng, t + rng.Uniform(0.12, 0.16), Band.ZtfI, field, rcid, start, end);
            }
        }
        else
        {
            long nextNight = n0 + rng.NextInt(3);
            ReadOnlySpan<double> w = [0.07, 0.09, 0.22, 0.22, 0.20, 0.20];
            while (nextNight <= n1)
            {
                long night = nextNight;
                // Rolling cadence: the active stripe alternates each year between the north and south halves.
                bool active = ((int)Math.Floor((night - 60980) / 365.25) % 2 == 0) == (dec > -30);
                nextNight += active ? 2 + rng.NextInt(3) : 8 + rng.NextInt(8);
                if (NightLost(night) || !InSeason(ra, night + midnight)) continue;
                double t = night + midnight + rng.Uniform(-0.15, 0.15);
                var b1 = PickBand(rng, w);
                var b2 = PickBand(rng, w);
                Add(output, rng, t, b1, field, rcid, start, end);
                Add(output, rng, t + rng.Uniform(0.015, 0.035), b2, field, rcid, start, end);
            }
        }
    }

    private static Band PickBand(Rng rng, ReadOnlySpan<double> w)
    {
        double u = rng.NextDouble(), c = 0;
        for (int i = 0; i < w.Length; i++) { c += w[i]; if (u < c) return Core.Bands.Lsst[i]; }
        return Band.LsstY;
    }

    private void Add(List<Visit> output, Rng rng, double t, Band b, int field, int rcid, double start, double end)
    {
        if (t < start || t > end) return;
        double lim = Math.Clamp(rng.Normal(MeanDepth(b), 0.35), MeanDepth(b) - 2.0, MeanDepth(b) + 0.9);
        long exposure = (long)Math.Round((t - 58000) * 1440) * 100 + (long)b; // unique per minute and band
        output.Add(new Visit { Mjd = t, Band = b, LimitingMag = (float)lim, Field = field, Rcid = rcid, ExposureId = exposure });
    }
}
