using CsCheck;

namespace Alerts.Classifier.Tests;

public class GaussianProcessInterpolatorTests
{
    private static double Matern32(double r2) { double r = Math.Sqrt(3 * r2); return (1 + r) * Math.Exp(-r); }

    [Fact]
    public void OnePoint_MeanAndVarianceAreTheClosedForm()
    {
        var gp = new GaussianProcessInterpolator();
        gp.SetData([0.0], [5000.0], [10.0], [2.0]);
        gp.SetHyperParameters(amplitude: 9.0, timeLengthScale: 20.0);
        Span<double> mean = stackalloc double[2];
        gp.PredictMean([0.0, 10.0], 5000.0, mean);
        // mean(x*) = A·M(r)·y / (A + σ²)
        Assert.Equal(9.0 * 10.0 / 13.0, mean[0], 12);
        Assert.Equal(9.0 * Matern32(100.0 / 400.0) * 10.0 / 13.0, mean[1], 12);
        // var(x) = A − A²/(A + σ²)
        Assert.Equal(9.0 - 81.0 / 13.0, gp.PredictVariance(0.0, 5000.0), 12);
        // NLL = ½ y²/(A+σ²) + ½ ln(A+σ²) + ½ ln 2π
        Assert.Equal(0.5 * 100.0 / 13.0 + 0.5 * Math.Log(13.0) + 0.5 * Math.Log(2 * Math.PI), gp.NegativeLogLikelihood(), 12);
    }

    [Fact]
    public void ConstantAtOneTime_MatchesTheShermanMorrisonClosedForm()
    {
        // n points at the same (t, λ): K = A·11ᵀ + σ²I exactly, so everything has a closed form.
        double[] y = [3.0, 3.5, 2.5, 3.2, 2.8];
        int n = y.Length; double a = 4.0, s2 = 0.25;
        var gp = new GaussianProcessInterpolator();
        gp.SetData(new double[n], Enumerable.Repeat(6000.0, n).ToArray(), y, Enumerable.Repeat(0.5, n).ToArray());
        gp.SetHyperParameters(a, 20.0);
        double sum = y.Sum(), sumSq = y.Sum(v => v * v);
        Span<double> mean = stackalloc double[1];
        gp.PredictMean([0.0], 6000.0, mean);
        Assert.Equal(a * sum / (s2 + n * a), mean[0], 12);
        double quad = (sumSq - a * sum * sum / (s2 + n * a)) / s2;
        double logDet = (n - 1) * Math.Log(s2) + Math.Log(s2 + n * a);
        Assert.Equal(0.5 * quad + 0.5 * logDet + 0.5 * n * Math.Log(2 * Math.PI), gp.NegativeLogLikelihood(), 10);
    }

    [Fact]
    public void FittedConstant_IsReproducedOnTheGrid()
    {
        // A flat light curve with small errors: the fitted GP mean is flat at that level between the points.
        var gp = new GaussianProcessInterpolator();
        for (int i = 0; i < 20; i++) gp.AddPoint(i * 3.0, i % 2 == 0 ? 4804.79 : 6436.92, 100.0, 1.0);
        var fit = gp.Fit();
        Assert.True(fit.Converged);
        Span<double> mean = stackalloc double[5];
        gp.PredictMean([5.0, 20.0, 30.0, 40.0, 55.0], 4804.79, mean);
        foreach (var m in mean) Assert.Equal(100.0, m, 0);
        Assert.InRange(fit.TimeLengthScale, 1.0, 1000.0);
    }

    /// <summary>An independent dense implementation (Gauss-Jordan inverse) of the same model.</summary>
    private static (double nll, double[] mean) Reference(double[] t, double[] w, double[] y, double[] e, double a, double lt, double[] tq, double wq)
    {
        int n = t.Length;
        var k = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                k[i, j] = a * Matern32((t[i] - t[j]) * (t[i] - t[j]) / (lt * lt) + (w[i] - w[j]) * (w[i] - w[j]) / 36e6) + (i == j ? e[i] * e[i] : 0);
        // Gauss-Jordan with partial pivoting; determinant from the pivots.
        var m = (double[,])k.Clone(); var inv = new double[n, n];
        for (int i = 0; i < n; i++) inv[i, i] = 1;
        double logDet = 0;
        for (int c = 0; c < n; c++)
        {
            int p = c; for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[p, c])) p = r;
            if (p != c) for (int j = 0; j < n; j++) { (m[c, j], m[p, j]) = (m[p, j], m[c, j]); (inv[c, j], inv[p, j]) = (inv[p, j], inv[c, j]); }
            double d = m[c, c]; logDet += Math.Log(Math.Abs(d));
            for (int j = 0; j < n; j++) { m[c, j] /= d; inv[c, j] /= d; }
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double f = m[r, c];
                for (int j = 0; j < n; j++) { m[r, j] -= f * m[c, j]; inv[r, j] -= f * inv[c, j]; }
            }
        }
        var alpha = new double[n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) alpha[i] += inv[i, j] * y[j];
        double quad = 0; for (int i = 0; i < n; i++) quad += y[i] * alpha[i];
        var mean = new double[tq.Length];
        for (int q = 0; q < tq.Length; q++)
            for (int i = 0; i < n; i++)
                mean[q] += a * Matern32((t[i] - tq[q]) * (t[i] - tq[q]) / (lt * lt) + (w[i] - wq) * (w[i] - wq) / 36e6) * alpha[i];
        return (0.5 * quad + 0.5 * logDet + 0.5 * n * Math.Log(2 * Math.PI), mean);
    }

    private static readonly Gen<(double[] t, double[] w, double[] y, double[] e, double a, double lt)> Problems =
        Gen.Int[1, 25].SelectMany(n => Gen.Select(
            Gen.Double[0, 100].Array[n], Gen.OneOf(4804.79, 6436.92, 7968.22).Array[n],
            Gen.Double[-50, 200].Array[n], Gen.Double[0.5, 10].Array[n], Gen.Double[1, 1e4], Gen.Double[1, 300]));

    [Fact]
    public void LikelihoodAndMean_MatchAnIndependentDenseImplementation()
    {
        Problems.Sample(p =>
        {
            var gp = new GaussianProcessInterpolator();
            gp.SetData(p.t, p.w, p.y, p.e);
            gp.SetHyperParameters(p.a, p.lt);
            double[] tq = [0, 13.3, 50, 99];
            var (nll, mean) = Reference(p.t, p.w, p.y, p.e, p.a, p.lt, tq, 6436.92);
            var got = new double[tq.Length];
            gp.PredictMean(tq, 6436.92, got);
            double tol = 1e-7 * (1 + Math.Abs(nll));
            if (Math.Abs(gp.NegativeLogLikelihood() - nll) > tol) return false;
            for (int i = 0; i < tq.Length; i++) if (Math.Abs(got[i] - mean[i]) > 1e-6 * (1 + Math.Abs(mean[i]))) return false;
            return true;
        }, iter: 200);
    }

    [Fact]
    public void AnalyticGradient_MatchesCentralDifferences()
    {
        // Seed 9UTDsJqbtl11: three points at t ≈ 0 in one band with fluxes 191, 0, -0.14 give a likelihood of 20,834,
        // whose rounding error (~1e-8 absolute, from the cancelling solve) divided by a step of 1e-5 made the central
        // difference 0.2 % off; the analytic gradient matched numpy's to 1e-7. The step is 1e-4 and the tolerance
        // allows for that rounding, scaled by |f|.
        AnalyticGradientMatches(Problems, "9UTDsJqbtl11", 1);
        AnalyticGradientMatches(Problems, null, 200);
    }

    private static void AnalyticGradientMatches(Gen<(double[] t, double[] w, double[] y, double[] e, double a, double lt)> problems, string? seed, int iter)
    {
        problems.Sample(p =>
        {
            var gp = new GaussianProcessInterpolator();
            gp.SetData(p.t, p.w, p.y, p.e);
            double la = Math.Log(p.a), lt2 = Math.Log(p.lt * p.lt), h = 1e-4;
            double F(double x0, double x1) { gp.SetHyperParameters(Math.Exp(x0), Math.Sqrt(Math.Exp(x1))); return gp.NegativeLogLikelihood(); }
            double n0 = (F(la + h, lt2) - F(la - h, lt2)) / (2 * h);
            double n1 = (F(la, lt2 + h) - F(la, lt2 - h)) / (2 * h);
            gp.SetHyperParameters(p.a, p.lt);
            double rounding = 1e-12 * (1 + Math.Abs(gp.NegativeLogLikelihood())) / h;
            var (g0, g1) = gp.NegativeLogLikelihoodGradient();
            return Math.Abs(g0 - n0) <= 1e-4 * (1 + Math.Abs(n0)) + rounding && Math.Abs(g1 - n1) <= 1e-4 * (1 + Math.Abs(n1)) + rounding;
        }, seed: seed, iter: iter);
    }

    [Fact]
    public void Fit_ReachesAStationaryPointNoWorseThanTheStart()
    {
        // A fixed, seeded set of 100 problems drawn like Problems (n in [3,25]); the random-seed version is below.
        var random = new Random(20261129);
        double[] bands = [4804.79, 6436.92, 7968.22];
        for (int k = 0; k < 100; k++)
        {
            int n = random.Next(3, 26);
            var p = (t: Draw(n, 0, 100), w: Enumerable.Range(0, n).Select(_ => bands[random.Next(3)]).ToArray(),
                     y: Draw(n, -50, 200), e: Draw(n, 0.5, 10));
            Assert.True(Stationary(p.t, p.w, p.y, p.e), $"problem {k}: t=[{string.Join(", ", p.t)}] y=[{string.Join(", ", p.y)}]");
        }

        double[] Draw(int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * random.NextDouble()).ToArray();
    }

    [Fact]
    public void Fit_ReachesAStationaryPoint_OnRandomProblems()
    {
        // This CsCheck seed's problem (4 points, likelihood falling slowly toward l_t = 1000 d) stopped at the old
        // 100-iteration cap with |∂f/∂ln l_t²| = 0.03; it needs ~107 iterations to reach the bound.
        Problems.Where(p => p.t.Length >= 3).Sample(p => Stationary(p.t, p.w, p.y, p.e), seed: "9ppM94Z23yW2", iter: 1);
        // All-zero fluxes (CsCheck seed 84vZI1n4cHr1): GuessScale is 0 and Fit starts from scale 1; the check must too.
        Problems.Where(p => p.t.Length >= 3).Sample(p => Stationary(p.t, p.w, p.y, p.e), seed: "84vZI1n4cHr1", iter: 1);
        Problems.Where(p => p.t.Length >= 3).Sample(p => Stationary(p.t, p.w, p.y, p.e), iter: 100);
    }

    private static bool Stationary(double[] t, double[] w, double[] y, double[] e)
    {
        {
            var p = (t, w, y, e);
            var gp = new GaussianProcessInterpolator();
            gp.SetData(p.t, p.w, p.y, p.e);
            double scale = gp.GuessScale();
            if (!(scale > 0) || !double.IsFinite(scale)) scale = 1.0;   // as Fit does: all-zero fluxes give no scale to guess
            gp.SetHyperParameters(0.25 * scale * scale, 20);
            double start = gp.NegativeLogLikelihood();
            var fit = gp.Fit();
            if (!(fit.NegativeLogLikelihood <= start + 1e-9)) return false;
            if (Math.Abs(gp.NegativeLogLikelihood() - fit.NegativeLogLikelihood) > 1e-9 * (1 + Math.Abs(start))) return false;
            // Stationary unless a bound is active: l_t ∈ [1, 1000] days, amplitude within e^±10 of the start.
            var (g0, g1) = gp.NegativeLogLikelihoodGradient();
            bool ltAtBound = fit.TimeLengthScale <= 1.0 + 1e-9 || fit.TimeLengthScale >= 1000 - 1e-6;
            double ampRatio = Math.Log(fit.Amplitude / (0.25 * scale * scale));
            bool ampAtBound = Math.Abs(Math.Abs(ampRatio) - 10) < 1e-6;
            double gTol = 1e-3 * (1 + Math.Abs(start));
            return (ampAtBound || Math.Abs(g0) < gTol) && (ltAtBound || Math.Abs(g1) < gTol);
        }
    }

    [Fact]
    public void Fit_AllocatesNothingOnceWarm()
    {
        var gp = new GaussianProcessInterpolator();
        var lc = TestLightCurves.Transient([Alerts.Core.Band.ZtfG, Alerts.Core.Band.ZtfR], 40);
        void Run()
        {
            gp.Reset();
            for (int i = 0; i < lc.Count; i++) gp.AddPoint(lc.Mjd[i] - lc.Mjd[0], lc.Band[i] == Alerts.Core.Band.ZtfG ? 4804.79 : 6436.92, lc.Flux[i], lc.FluxErr[i]);
            gp.Fit();
        }
        Run(); Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
