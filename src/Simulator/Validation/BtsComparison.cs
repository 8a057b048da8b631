using System.Globalization;
using Alerts.Core;

namespace Alerts.Simulator.Validation;

/// <summary>
/// Compares simulated ZTF light curves with the ZTF Bright Transient Survey (BTS; Fremling et al. 2020, Perley et al. 2020)
/// light curves of spectroscopically typed transients: per class, the two-sample Kolmogorov–Smirnov statistic of
/// peak magnitude, rise and fade time (BTS table values; simulated: the same half-maximum definitions measured on the
/// simulated detections in the peak band), number of detections and g−r at peak (both measured on light curves).
/// The simulated side mimics the BTS selection: brightest detection &lt; 18.5 mag.
/// </summary>
public static class BtsComparison
{
    public static readonly string[] Quantities = ["peak_mag", "rise", "fade", "n_points", "g_r_peak"];
    public static readonly string[] Classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    public const double PeakLimit = 18.5;

    public sealed record Row(string Class, int NSim, int NReal, Dictionary<string, double> Ks);
    public sealed record Report(IReadOnlyList<Row> Rows)
    {
        public bool PassesSnIaSnII => Rows.Where(r => r.Class is "SNIa" or "SNII").All(r => r.Ks.Values.All(k => double.IsNaN(k) || k <= 0.25));
    }

    /// <summary>Maps a BTS `type` to a t2 class (null when the type is not one of the compared classes).</summary>
    public static string? ClassOfBtsType(string type) => type.Trim() switch
    {
        "SN Ia" or "SN Ia-91T" or "SN Ia-pec" => "SNIa",
        "SN II" or "SN IIP" or "SN II-pec" => "SNII",
        "SN Ib" or "SN Ic" or "SN Ic-BL" or "SN Ib/c" or "SN Ib-pec" => "SNIbc",
        "SLSN-I" => "SLSN-I",
        "TDE" => "TDE",
        _ => null,
    };

    public static Report Run(string btsDir, SimulationOptions baseOptions, int targetPerClass = 400, int maxObjectsPerClass = 30000)
    {
        var real = LoadReal(btsDir);
        var rows = new List<Row>();
        foreach (var cls in Classes)
        {
            var sim = Simulate(cls, baseOptions, targetPerClass, maxObjectsPerClass);
            var realCls = real.Where(r => r.Class == cls).ToList();
            var ks = new Dictionary<string, double>();
            foreach (var q in Quantities)
                ks[q] = KolmogorovSmirnov(sim.Select(s => s[q]).Where(double.IsFinite).ToArray(), realCls.Select(s => s.Values[q]).Where(double.IsFinite).ToArray());
            rows.Add(new Row(cls, sim.Count, realCls.Count, ks));
        }
        return new Report(rows);
    }

    public sealed record RealObject(string Id, string Class, Dictionary<string, double> Values);

    public static List<RealObject> LoadReal(string btsDir)
    {
        var table = Path.Combine(btsDir, "ZTF_BTS_02_02__02_04_2021.csv");
        var lcDir = Path.Combine(btsDir, "light-curves");
        if (!File.Exists(table)) throw new FileNotFoundException($"{table} not found: --compare-real expects the ztf-bts-antares folder (BTS table + light-curves/).", table);
        var lines = File.ReadAllLines(table);
        var cols = SplitCsv(lines[0]);
        int I(string n) => Array.IndexOf(cols, n);
        int cId = I("ZTFID"), cType = I("type"), cPeak = I("peakmag"), cRise = I("rise"), cFade = I("fade");
        var list = new List<RealObject>();
        foreach (var line in lines.Skip(1))
        {
            var p = SplitCsv(line);
            if (p.Length <= cType) continue;
            var cls = ClassOfBtsType(p[cType]);
            if (cls is null) continue;
            var lcPath = Path.Combine(lcDir, p[cId] + ".csv");
            if (!File.Exists(lcPath)) continue;
            var v = new Dictionary<string, double> { ["peak_mag"] = Num(p[cPeak]), ["rise"] = Num(p[cRise]), ["fade"] = Num(p[cFade]) };
            var pts = ReadAntares(lcPath);
            v["n_points"] = pts.Count;
            v["g_r_peak"] = ColourAtPeak(pts);
            list.Add(new RealObject(p[cId], cls, v));
        }
        return list;
    }

    private static double Num(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN; // ">12.3" (limits) → NaN

    private static string[] SplitCsv(string line)
    {
        var res = new List<string>(); var cur = new System.Text.StringBuilder(); bool q = false;
        foreach (var ch in line)
        {
            if (ch == '"') q = !q;
            else if (ch == ',' && !q) { res.Add(cur.ToString()); cur.Clear(); }
            else cur.Append(ch);
        }
        res.Add(cur.ToString());
        return res.ToArray();
    }

    /// <summary>Detections (mjd, band g=1/r=2, mag) from an ANTARES CSV (ant_mjd, ant_passband g/R, ant_mag).</summary>
    public static List<(double Mjd, int Band, double Mag)> ReadAntares(string path)
    {
        var lines = File.ReadAllLines(path);
        var cols = lines[0].Split(',');
        int cm = Array.IndexOf(cols, "ant_mjd"), cb = Array.IndexOf(cols, "ant_passband"), cg = Array.IndexOf(cols, "ant_mag");
        var pts = new List<(double, int, double)>();
        foreach (var l in lines.Skip(1))
        {
            var p = l.Split(',');
            if (p.Length <= Math.Max(cm, Math.Max(cb, cg))) continue;
            int b = p[cb] is "g" ? 1 : p[cb] is "R" or "r" ? 2 : 0;
            double mag = Num(p[cg]), mjd = Num(p[cm]);
            if (b == 0 || !double.IsFinite(mag) || !double.IsFinite(mjd)) continue;
            pts.Add((mjd, b, mag));
        }
        pts.Sort((a, c) => a.Item1.CompareTo(c.Item1));
        return pts;
    }

    /// <summary>g−r from the g and r detections nearest to the brightest point (each within 3 days), else NaN.</summary>
    public static double ColourAtPeak(List<(double Mjd, int Band, double Mag)> pts)
    {
        if (pts.Count == 0) return double.NaN;
        var peak = pts.MinBy(p => p.Mag);
        double Nearest(int band)
        {
            double best = double.NaN, dt = 3.0;
            foreach (var p in pts) if (p.Band == band && Math.Abs(p.Mjd - peak.Mjd) <= dt) { dt = Math.Abs(p.Mjd - peak.Mjd); best = p.Mag; }
            return best;
        }
        return Nearest(1) - Nearest(2);
    }

    /// <summary>Measured quantities of a simulated object's g/r detections, or null if it fails the BTS selection.</summary>
    public static Dictionary<string, double>? Measure(SimulatedObject obj)
    {
        var pts = new List<(double Mjd, int Band, double Mag)>();
        foreach (var o in obj.Observations)
            if (o.Detected && o.Flux > 0 && o.Band is Band.ZtfG or Band.ZtfR) pts.Add((o.Mjd, o.Band == Band.ZtfG ? 1 : 2, o.Mag));
        if (pts.Count == 0) return null;
        var peak = pts.MinBy(p => p.Mag);
        if (peak.Mag >= PeakLimit) return null;
        var band = pts.Where(p => p.Band == peak.Band).ToList();
        int ip = band.FindIndex(p => p.Mjd == peak.Mjd);
        double half = peak.Mag + 2.5 * Math.Log10(2);
        double rise = double.NaN, fade = double.NaN;
        for (int j = ip - 1; j >= 0; j--)
            if (band[j].Mag > half) { rise = peak.Mjd - Cross(band[j], band[j + 1], half); break; }
        for (int j = ip + 1; j < band.Count; j++)
            if (band[j].Mag > half) { fade = Cross(band[j - 1], band[j], half) - peak.Mjd; break; }
        return new Dictionary<string, double>
        {
            ["peak_mag"] = peak.Mag, ["rise"] = rise, ["fade"] = fade, ["n_points"] = pts.Count, ["g_r_peak"] = ColourAtPeak(pts),
        };
    }

    private static double Cross((double Mjd, int Band, double Mag) a, (double Mjd, int Band, double Mag) b, double level)
    {
        // Linear interpolation in flux between two detections.
        double fa = Math.Pow(10, -0.4 * a.Mag), fb = Math.Pow(10, -0.4 * b.Mag), fl = Math.Pow(10, -0.4 * level);
        if (fa == fb) return 0.5 * (a.Mjd + b.Mjd);
        return a.Mjd + (fl - fa) / (fb - fa) * (b.Mjd - a.Mjd);
    }

    public static List<Dictionary<string, double>> Simulate(string cls, SimulationOptions baseOptions, int target, int maxObjects)
    {
        var sim = new AlertSimulator(baseOptions with { Survey = Survey.Ztf, Classes = [cls], Balanced = true, Objects = maxObjects });
        var res = new List<Dictionary<string, double>>();
        for (long i = 0; i < maxObjects && res.Count < target; i++)
        {
            var m = Measure(sim.SimulateObject(i));
            if (m is not null) res.Add(m);
        }
        return res;
    }

    /// <summary>Two-sample KS statistic D = sup |F1 − F2| (NaN when a sample is empty).</summary>
    public static double KolmogorovSmirnov(double[] a, double[] b)
    {
        if (a.Length == 0 || b.Length == 0) return double.NaN;
        Array.Sort(a); Array.Sort(b);
        int i = 0, j = 0; double d = 0;
        while (i < a.Length && j < b.Length)
        {
            double x = Math.Min(a[i], b[j]);
            while (i < a.Length && a[i] <= x) i++;
            while (j < b.Length && b[j] <= x) j++;
            d = Math.Max(d, Math.Abs((double)i / a.Length - (double)j / b.Length));
        }
        return d;
    }
}
