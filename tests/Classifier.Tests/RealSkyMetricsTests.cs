using Alerts.Classifier.Calibration;
using Alerts.Core;
using CsCheck;

namespace Alerts.Classifier.Tests;

public class RealSkyMetricsTests
{
    private static int C(string name) => T2Classes.IndexOf(name);

    private static float[] P(params (string Class, float P)[] entries)
    {
        var v = new float[T2Classes.Count];
        foreach (var (c, p) in entries) v[C(c)] += p;
        return v;
    }

    [Fact]
    public void Families_GroupTheIaSubtypes_AndLeaveSevenClassesAsOther()
    {
        Assert.Equal(0, RealSkyMetrics.FamilyOf(C("SNIa")));
        Assert.Equal(0, RealSkyMetrics.FamilyOf(C("SNIax")));
        Assert.Equal(0, RealSkyMetrics.FamilyOf(C("SNIa-91bg")));
        Assert.Equal(new[] { 1, 2, 3, 4 }, new[] { "SNII", "SNIbc", "SLSN-I", "TDE" }.Select(n => RealSkyMetrics.FamilyOf(C(n))));
        Assert.Equal(7, Enumerable.Range(0, T2Classes.Count).Count(c => !RealSkyMetrics.IsScored(c)));
    }

    // Dyadic probabilities, so every sum and bin edge below is exact.
    private static RealSkyMetrics HandCase()
    {
        var m = new RealSkyMetrics();
        m.Add(C("SNIa"), P(("SNIa", .5f), ("SNIax", .25f), ("SNII", .25f)));        // Ia .75 → Ia, right, bin 11
        m.Add(C("SNIax"), P(("SNIax", .5f), ("SNIa", .375f), ("SNII", .125f)));     // Ia .875 → Ia, right (a subtype is Ia), bin 13
        m.Add(C("SNIa-91bg"), P(("SNII", .625f), ("SNIa-91bg", .375f)));           // II .625, wrong, bin 9
        m.Add(C("SNII"), P(("SNII", .75f), ("AGN", .25f)));                         // II .75, right, bin 11
        m.Add(C("SNIbc"), P(("SNIa", .5f), ("SNIbc", .25f), ("RRL", .25f)));        // Ia .5, wrong, bin 7
        m.Add(C("TDE"), P(("AGN", .625f), ("TDE", .375f)));                         // other .625, wrong, bin 9
        m.Add(C("AGN"), P(("SNIa", 1f)));                                           // not a scored family: ignored
        m.AddNotClassified(C("SNIa"));
        m.AddNotClassified(C("RRL"));
        return m;
    }

    [Fact]
    public void HandComputedCase_GivesExactValues()
    {
        var m = HandCase();
        Assert.Equal(6, m.Classified);
        Assert.Equal(1, m.NotClassified);
        Assert.Equal(2, m.Ignored);
        Assert.Equal(6.0 / 7, m.Coverage, 15);
        // Ia side: 2 of 3 called Ia; rest (II, Ibc, TDE): 2 of 3 not called Ia.
        Assert.Equal(2.0 / 3, m.SnIaBalancedAccuracy, 15);
        var f = m.PerFamily();
        Assert.Equal(["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"], f.Select(x => x.Name));
        Assert.Equal([3, 1, 1, 0, 1], f.Select(x => x.Support));
        Assert.Equal([3, 2, 0, 0, 0], f.Select(x => x.Predicted));
        Assert.Equal(2.0 / 3, f[0].Recall, 15);
        Assert.Equal(2.0 / 3, f[0].Precision, 15);
        Assert.Equal(2.0 / 3, f[0].F1, 15);
        Assert.Equal(1.0, f[1].Recall, 15);
        Assert.Equal(0.5, f[1].Precision, 15);
        Assert.Equal(2.0 / 3, f[1].F1, 15);
        Assert.Equal(0.0, f[2].F1);
        Assert.True(double.IsNaN(f[3].F1));   // SLSN-I has no object: out of the macro mean
        Assert.Equal(0.0, f[4].F1);
        Assert.Equal((2.0 / 3 + 2.0 / 3 + 0 + 0) / 4, m.MacroF1, 15);
        Assert.Equal((2 * .25 + .125 + 2 * .625 + .5) / 6, m.ExpectedCalibrationError, 15);
        var bins = m.Reliability();
        Assert.Equal(RealSkyMetrics.Bins, bins.Count);
        Assert.Equal(2, bins[11].Count);
        Assert.Equal(.75, bins[11].MeanConfidence, 15);
        Assert.Equal(1.0, bins[11].Accuracy, 15);
        Assert.Equal(2, bins[9].Count);
        Assert.Equal(0.0, bins[9].Accuracy);
        Assert.Equal(1, bins[7].Count);
        Assert.Equal(1, bins[13].Count);
        Assert.Equal(6, bins.Sum(b => b.Count));
        Assert.True(double.IsNaN(bins[0].MeanConfidence));
        Assert.Equal(2, m.Confusion(0, 0));
        Assert.Equal(1, m.Confusion(0, 1));
        Assert.Equal(1, m.Confusion(2, 0));
        Assert.Equal(1, m.Confusion(4, RealSkyMetrics.Other));
    }

    [Fact]
    public void Empty_GivesNaN()
    {
        var m = new RealSkyMetrics();
        Assert.True(double.IsNaN(m.Coverage));
        Assert.True(double.IsNaN(m.SnIaBalancedAccuracy));
        Assert.True(double.IsNaN(m.MacroF1));
        Assert.True(double.IsNaN(m.ExpectedCalibrationError));
    }

    [Fact]
    public void BalancedAccuracy_WithOnlyIaObjects_IsTheIaRecall()
    {
        var m = new RealSkyMetrics();
        m.Add(C("SNIa"), P(("SNIa", 1f)));
        m.Add(C("SNIa"), P(("SNII", 1f)));
        Assert.Equal(0.5, m.SnIaBalancedAccuracy, 15);
    }

    [Fact]
    public void PerfectlyCalibratedBins_GiveZeroEce()
    {
        var m = new RealSkyMetrics();
        // Confidence .75: 3 of 4 right.
        for (int i = 0; i < 3; i++) m.Add(C("SNIa"), P(("SNIa", .75f), ("SNII", .25f)));
        m.Add(C("SNII"), P(("SNIa", .75f), ("SNII", .25f)));
        // Confidence .625: 5 of 8 right.
        for (int i = 0; i < 5; i++) m.Add(C("SNII"), P(("SNII", .625f), ("SNIbc", .375f)));
        for (int i = 0; i < 3; i++) m.Add(C("SNIbc"), P(("SNII", .625f), ("SNIbc", .375f)));
        Assert.Equal(0.0, m.ExpectedCalibrationError, 15);
        Assert.Equal(0.75, m.Reliability()[11].Accuracy, 15);
        Assert.Equal(0.625, m.Reliability()[9].Accuracy, 15);
    }

    [Fact]
    public void ConfidenceOfOne_LandsInTheLastBin()
    {
        Assert.Equal(RealSkyMetrics.Bins - 1, RealSkyMetrics.BinOf(1.0));
        Assert.Equal(0, RealSkyMetrics.BinOf(0.0));
        Assert.Equal(1, RealSkyMetrics.BinOf(1.0 / 15 + 1e-12));
    }

    private static readonly Gen<(int Class, float[] P)> Row =
        Gen.Select(Gen.Int[0, T2Classes.Count - 1], Gen.Float[0.001f, 1f].Array[T2Classes.Count]);

    private static RealSkyMetrics Score(IEnumerable<(int Class, float[] P, bool Classified)> rows)
    {
        var m = new RealSkyMetrics();
        foreach (var (c, p, ok) in rows)
            if (ok) m.Add(c, p); else m.AddNotClassified(c);
        return m;
    }

    [Fact]
    public void Metrics_AreInTheUnitInterval()
    {
        Gen.Select(Row, Gen.Bool).Array[0, 60].Sample(rows =>
        {
            var m = Score(rows.Select(r => (r.Item1.Class, r.Item1.P, r.Item2)));
            foreach (var v in new[] { m.Coverage, m.SnIaBalancedAccuracy, m.MacroF1, m.ExpectedCalibrationError })
                Assert.True(double.IsNaN(v) || v is >= 0 and <= 1, $"{v} outside [0, 1]");
            Assert.Equal(m.Classified, m.Reliability().Sum(b => b.Count));
            Assert.Equal(rows.Length, m.Objects + m.Ignored);
        });
    }

    [Fact]
    public void Metrics_DoNotDependOnObjectOrder()
    {
        Gen.Select(Gen.Select(Row, Gen.Bool).Array[0, 60], Gen.Int).Sample((rows, seed) =>
        {
            var a = Score(rows.Select(r => (r.Item1.Class, r.Item1.P, r.Item2)));
            var shuffled = rows.ToArray();
            new Random(seed).Shuffle(shuffled);
            var b = Score(shuffled.Select(r => (r.Item1.Class, r.Item1.P, r.Item2)));
            Assert.Equal(a.Coverage, b.Coverage);
            Assert.Equal(a.SnIaBalancedAccuracy, b.SnIaBalancedAccuracy);
            Assert.Equal(a.MacroF1, b.MacroF1);
            Assert.Equal(a.ExpectedCalibrationError, b.ExpectedCalibrationError, 12);
        });
    }

    // A fixed synthetic model: labels drawn from softmax(z), the model reports softmax(3 z), i.e. it is overconfident.
    // Classes outside the scored families get z = -8, so (almost) every label is scored and the ECE sees them all.
    private static (List<float[]> Reported, List<int> Labels) Overconfident(int n, int seed)
    {
        var rng = new Random(seed);
        var reported = new List<float[]>(n);
        var labels = new List<int>(n);
        var z = new double[T2Classes.Count];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < z.Length; k++) z[k] = RealSkyMetrics.IsScored(k) ? 1.2 * Normal(rng) : -8;
            var p = Softmax(z, 1);
            double u = rng.NextDouble(), acc = 0;
            int label = p.Length - 1;
            for (int k = 0; k < p.Length; k++) { acc += p[k]; if (u < acc) { label = k; break; } }
            labels.Add(label);
            reported.Add(Softmax(z, 3).Select(x => (float)x).ToArray());
        }
        return (reported, labels);
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double[] Softmax(double[] z, double scale)
    {
        double max = z.Max();
        var e = z.Select(x => Math.Exp(scale * (x - max))).ToArray();
        double s = e.Sum();
        return e.Select(x => x / s).ToArray();
    }

    private static double Ece(IReadOnlyList<float[]> p, IReadOnlyList<int> labels)
    {
        var m = new RealSkyMetrics();
        for (int i = 0; i < p.Count; i++) m.Add(labels[i], p[i]);
        return m.ExpectedCalibrationError;
    }

    [Fact]
    public void TemperatureScaling_LowersEce_OnAnOverconfidentModel()
    {
        var (p, labels) = Overconfident(4000, 20260101);
        var t = TemperatureScaling.Fit(p, labels);
        Assert.InRange(t.Temperature, 2.6, 3.4);   // the model's logits were multiplied by 3
        var scaled = p.Select(r => t.Apply(r)).ToList();
        double before = Ece(p, labels), after = Ece(scaled, labels);
        Assert.True(after < before / 2, $"ECE {before:F4} → {after:F4}");
        Assert.True(TemperatureScaling.NegativeLogLikelihood(scaled, labels, 1) < TemperatureScaling.NegativeLogLikelihood(p, labels, 1));
    }

    [Fact]
    public void TemperatureScaling_FitsTheMinimumOfTheNll_AndKeepsTheTopClass()
    {
        var (p, labels) = Overconfident(500, 7);
        var t = TemperatureScaling.Fit(p, labels);
        double at = TemperatureScaling.NegativeLogLikelihood(p, labels, t.Temperature);
        Assert.True(at <= TemperatureScaling.NegativeLogLikelihood(p, labels, t.Temperature * 1.01));
        Assert.True(at <= TemperatureScaling.NegativeLogLikelihood(p, labels, t.Temperature / 1.01));
        foreach (var row in p.Take(50))
        {
            var q = t.Apply(row);
            Assert.Equal(Array.IndexOf(row, row.Max()), Array.IndexOf(q, q.Max()));
            Assert.Equal(1.0, q.Sum(x => (double)x), 5);
        }
        Assert.Equal(p[0], TemperatureScaling.Identity.Apply(p[0]), (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TemperatureScaling(0));
    }
}
