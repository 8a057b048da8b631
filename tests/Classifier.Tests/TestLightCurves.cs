using Alerts.Core;

namespace Alerts.Classifier.Tests;

/// <summary>Synthetic light curves with known shape (Bazin-like rise and fall), in nJy.</summary>
internal static class TestLightCurves
{
    /// <summary>A supernova-like transient sampled alternately in the given bands every <paramref name="cadence"/> days.</summary>
    public static LightCurve Transient(Band[] bands, int points = 30, double peakNjy = 50_000, double cadence = 2.0, double t0 = 59000, int seed = 1, double noise = 0.03)
    {
        var rng = new Random(seed);
        var lc = new LightCurve(points);
        for (int i = 0; i < points; i++)
        {
            double t = t0 + i * cadence + rng.NextDouble() * 0.3;
            var band = bands[i % bands.Length];
            double colour = 1.0 - 0.1 * Array.IndexOf(bands, band);
            double x = t - (t0 + 20);
            double f = peakNjy * colour * Math.Exp(-x / 30) / (1 + Math.Exp(-x / 4));
            double err = noise * peakNjy + 200;
            lc.Add(t, band, (float)(f + err * Gaussian(rng)), (float)err, PointKind.Detection);
        }
        return lc;
    }

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static DecodedAlert Alert(LightCurve lc, long id, Survey survey = Survey.Ztf) =>
        new(new AlertIdentity(survey, id, "OBJ" + id, 10, 20, lc.Count > 0 ? lc.Mjd[^1] : 0, "test"), lc,
            new RawAlert(ReadOnlyMemory<byte>.Empty, SourcePosition.File("test", id), DateTimeOffset.UnixEpoch));
}
