using Alerts.Core;
using Alerts.Simulator.Physics;

namespace Alerts.Simulator;

/// <summary>
/// Simulates one object end to end: draws the source of a class, the survey visits, the true and measured fluxes.
/// Every object has its own random stream (seed, index), so object i is identical whatever else is simulated.
/// </summary>
public sealed class ObjectSimulator
{
    private readonly ulong _seed;
    private readonly SurveyModel _survey;
    private readonly double _spanStart, _spanEnd;
    private readonly List<Visit> _visits = new(512);

    public Survey Survey => _survey.Survey;

    public ObjectSimulator(Survey survey, ulong seed, double spanStartMjd, double spanDays)
    {
        _seed = seed;
        _survey = new SurveyModel(survey, seed);
        _spanStart = spanStartMjd;
        _spanEnd = spanStartMjd + spanDays;
    }

    /// <param name="attempt">Redraw number: each attempt uses its own random stream (used to keep only detected objects).</param>
    public SimulatedObject Simulate(long index, string className, int attempt = 0)
    {
        var rng = Rng.ForObject(_seed, index, stream: 100 + (ulong)attempt);
        var survey = _survey.Survey;
        double ra = rng.Uniform(0, 360);
        double dec = survey == Survey.Ztf
            ? Math.Asin(rng.Uniform(Math.Sin(-28 * Math.PI / 180), Math.Sin(88 * Math.PI / 180))) * 180 / Math.PI
            : Math.Asin(rng.Uniform(Math.Sin(-88 * Math.PI / 180), Math.Sin(10 * Math.PI / 180))) * 180 / Math.PI;
        var src = ClassCatalog.Draw(className, rng, survey, _spanStart, _spanEnd);
        double start = Math.Max(src.WindowStart, _spanStart - 90), end = Math.Min(src.WindowEnd, _spanEnd + 180);
        _survey.Visits(rng, ra, dec, start, end, _visits);

        int n = _visits.Count;
        var mjd = new double[n]; var band = new Band[n];
        for (int i = 0; i < n; i++) { mjd[i] = _visits[i].Mjd; band[i] = _visits[i].Band; }
        src.Prepare(rng, mjd, band);

        var obs = new Observation[n];
        for (int i = 0; i < n; i++)
        {
            var v = _visits[i];
            double f = src.Flux(v.Mjd, v.Band, i), fref = src.ReferenceFlux(v.Band);
            double diff = f - fref;
            double err = SurveyModel.FluxError(v.LimitingMag, f, fref, diff);
            double meas = diff + err * rng.Normal();
            bool det = Math.Abs(meas) >= 5 * err;
            ref var o = ref obs[i];
            o.Visit = v; o.TrueFlux = diff; o.Flux = meas; o.FluxErr = err; o.SourceFlux = f; o.Detected = det;
            if (det)
            {
                o.Mag = (float)Photometry.FluxToMag(Math.Abs(meas));
                o.MagErr = (float)(2.5 / Math.Log(10) * err / Math.Abs(meas));
            }
            else { o.Mag = float.NaN; o.MagErr = float.NaN; }
        }
        return new SimulatedObject
        {
            Index = index, Survey = survey, ClassName = className, ObjectId = ObjectName(survey, index, _spanStart),
            DiaObjectId = 3_000_000_000_000_000_000L + index, Ra = ra, Dec = dec, Source = src, Observations = obs,
        };
    }

    /// <summary>ZTF-style names ("ZTF26aaaaabc": year of the span start, then seven letters from the index);
    /// Rubin objects are named by their diaObjectId.</summary>
    public static string ObjectName(Survey survey, long index, double spanStart)
    {
        if (survey != Survey.Ztf) return (3_000_000_000_000_000_000L + index).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Span<char> s = stackalloc char[12];
        "ZTF".AsSpan().CopyTo(s);
        var yy = AlertIdentity.NightOf(spanStart).AsSpan(2, 2);
        yy.CopyTo(s[3..]);
        long x = index;
        for (int i = 11; i >= 5; i--) { s[i] = (char)('a' + x % 26); x /= 26; }
        return new string(s);
    }
}
