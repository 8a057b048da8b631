using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Alerts.Classifier;

/// <summary>Outcome of one GP fit: the fitted hyper-parameters and how the optimiser ended.</summary>
public readonly record struct GaussianProcessFit(
    double Amplitude,
    double TimeLengthScale,
    double NegativeLogLikelihood,
    int Iterations,
    int Evaluations,
    bool Converged);

/// <summary>
/// A 2-D Gaussian process over (time, effective wavelength), the t2/avocado/astronet light-curve interpolator.
/// <para>
/// Kernel: <c>k = A · Matérn32(r)</c>, <c>r² = dt²/l_t² + dλ²/l_λ²</c>, <c>Matérn32(r) = (1 + √3 r) e^{-√3 r}</c>
/// (george's <c>Matern32Kernel</c> with metric <c>[l_t², l_λ²]</c>). The flux errors are on the diagonal, the mean is 0
/// (george's default, as astronet uses it). <c>l_λ</c> is fixed (6000 Å); <c>A</c> and <c>l_t</c> are fitted by
/// maximum marginal likelihood on the log-parameters <c>p = (ln A, ln l_t²)</c> (george's parameter vector), with
/// astronet's bounds: <c>ln A</c> within ±10 of its start and <c>ln l_t² ∈ [0, ln 1000²]</c>.
/// </para>
/// <para>
/// Optimiser: a projected BFGS on the 2-D box with an analytic gradient and an Armijo backtracking line search
/// along the projected path. With two parameters the full inverse-Hessian approximation is a 2×2 matrix, so this is
/// what L-BFGS-B reduces to (no limited-memory bookkeeping, no Cauchy point search needed: at an active bound whose
/// gradient points outward the variable is frozen and its row/column of the inverse Hessian dropped). The stopping
/// rules are scipy's L-BFGS-B ones with astronet's <c>tol=1e-6</c>: a projected gradient below 1e-6 (sup norm, pgtol), or
/// a relative decrease of f below 1e-6 (ftol) provided the projected gradient is also below
/// <see cref="StationarityTolerance"/>·(1 + |f|) (scipy's ftol alone can stop short of a stationary point). If the fit fails (non-finite likelihood at the start) the initial guess is used,
/// as astronet does.
/// </para>
/// <para>
/// All work buffers belong to the instance and only grow: after warm-up a fit allocates nothing. Not thread-safe;
/// use one instance per worker.
/// </para>
/// </summary>
public sealed class GaussianProcessInterpolator
{
    private static readonly double Sqrt3 = Math.Sqrt(3.0);

    // Points.
    private double[] _t = new double[64];       // times (days, relative)
    private double[] _w = new double[64];       // effective wavelengths (Å)
    private double[] _y = new double[64];       // fluxes
    private double[] _var = new double[64];     // flux error² (diagonal)
    private double[] _alpha = new double[64];   // K⁻¹ y
    private double[] _scratch = new double[64];
    private double[] _invDiag = new double[64]; // 1 / L_ii
    // Prediction: the points at another wavelength than the predicted one (compact), the indices of those at it, step factors.
    private double[] _crossT = new double[64], _crossC = new double[64], _crossA = new double[64];
    private int[] _sameIdx = new int[64];
    private double[] _q = new double[128], _qTime = new double[128];
    private double _qA = double.NaN;
    private int _qCount;
    // Pairs i > j, packed row by row (index i(i−1)/2 + j) so every kernel pass is one contiguous SIMD span.
    private double[] _pDt2 = new double[2016];  // dt²
    private double[] _pBase = new double[2016]; // dλ²/l_λ²
    private double[] _pE = new double[2016];    // e^{−√3 r}
    private double[] _pM = new double[2016];    // Matérn32 = (1 + √3 r) e^{−√3 r}
    // K, then its Cholesky factor L: packed lower triangle with the diagonal (row i at i(i+1)/2).
    private double[] _l = new double[64 * 65 / 2];
    private double[] _u = new double[64 * 64];  // U = L⁻ᵀ, dense n×n (upper; row j holds column j of L⁻¹)
    private int _n;
    private double _lnAmp, _lnLt2;
    private bool _factorisedAtCurrent;
    private bool _pairsValid;

    public GaussianProcessInterpolator(double wavelengthLengthScale = 6000.0)
    {
        WavelengthLengthScale = wavelengthLengthScale;
    }

    public double WavelengthLengthScale { get; }

    /// <summary>Initial time length scale in days (astronet/avocado: 20).</summary>
    public double InitialTimeLengthScale { get; init; } = 20.0;

    /// <summary>Amplitude start factor: A₀ = (factor · scale)², astronet 0.5, avocado 0.2.</summary>
    public double InitialAmplitudeFactor { get; init; } = 0.5;

    /// <summary>
    /// Maximum optimiser iterations (scipy's L-BFGS-B default maxiter is 15000). Most fits converge in ~10-30, but a
    /// likelihood that keeps falling slowly toward the l_t = 1000 d bound can take ~110 (CsCheck seed 9ppM94Z23yW2:
    /// 4 points, stopped at 100 with |∂f/∂ln l_t²| = 0.03 when the cap was 100).
    /// </summary>
    public int MaxIterations { get; init; } = 1000;

    /// <summary>Relative-decrease and projected-gradient tolerance (astronet passes tol=1e-6 to scipy: ftol and pgtol).</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>
    /// A relative-decrease stop is taken only when the projected gradient (sup norm) is also below
    /// <c>StationarityTolerance · (1 + |f|)</c>. scipy's ftol rule alone can end a fit where one step
    /// decreased f by less than 1e-6 relative while the gradient is still far from 0; this extra projected-gradient test
    /// keeps iterating there, so a converged fit is a stationary point or sits on a bound. 0 or less restores scipy's rule.
    /// </summary>
    public double StationarityTolerance { get; init; } = 1e-4;

    public int Count => _n;

    /// <summary>Number of points currently loaded.</summary>
    public double Amplitude => Math.Exp(_lnAmp);

    public double TimeLengthScale => Math.Sqrt(Math.Exp(_lnLt2));

    /// <summary>Loads the observations (copied into owned buffers). Errors are 1-σ flux errors.</summary>
    public void SetData(ReadOnlySpan<double> time, ReadOnlySpan<double> wavelength, ReadOnlySpan<double> flux, ReadOnlySpan<double> fluxError)
    {
        int n = time.Length;
        if (wavelength.Length != n || flux.Length != n || fluxError.Length != n)
            throw new ArgumentException("time, wavelength, flux and fluxError must have the same length");
        Reset();
        for (int i = 0; i < n; i++) AddPoint(time[i], wavelength[i], flux[i], fluxError[i]);
    }

    /// <summary>Starts a new data set without releasing buffers.</summary>
    public void Reset()
    {
        _n = 0;
        _factorisedAtCurrent = false;
        _pairsValid = false;
    }

    /// <summary>Adds one observation.</summary>
    public void AddPoint(double time, double wavelength, double flux, double fluxError)
    {
        if (_n == _t.Length) GrowPoints(_n * 2);
        _t[_n] = time; _w[_n] = wavelength; _y[_n] = flux; _var[_n] = fluxError * fluxError;
        _n++;
        _factorisedAtCurrent = false;
        _pairsValid = false;
    }

    /// <summary>Sets the hyper-parameters directly (no fit).</summary>
    public void SetHyperParameters(double amplitude, double timeLengthScale)
    {
        _lnAmp = Math.Log(amplitude);
        _lnLt2 = Math.Log(timeLengthScale * timeLengthScale);
        _factorisedAtCurrent = false;
    }

    /// <summary>astronet's amplitude scale: |flux| of the highest signal-to-noise point, with a 1% error floor.</summary>
    public double GuessScale()
    {
        double maxFlux = double.NegativeInfinity;
        for (int i = 0; i < _n; i++) maxFlux = Math.Max(maxFlux, _y[i]);
        double floor = 1e-2 * maxFlux;
        double best = double.NegativeInfinity; int arg = 0;
        for (int i = 0; i < _n; i++)
        {
            double snr = Math.Abs(_y[i]) / Math.Sqrt(_var[i] + floor * floor);
            if (snr > best) { best = snr; arg = i; }
        }
        return Math.Abs(_y[arg]);
    }

    /// <summary>Fits amplitude and time length scale by maximum marginal likelihood (see class remarks).</summary>
    public GaussianProcessFit Fit()
    {
        if (_n == 0) throw new InvalidOperationException("no data: call SetData/AddPoint first");
        PreparePairs();

        double scale = GuessScale();
        if (!(scale > 0) || !double.IsFinite(scale)) scale = 1.0;
        double a0 = InitialAmplitudeFactor * scale;
        double p0 = Math.Log(a0 * a0);
        double p1 = Math.Log(InitialTimeLengthScale * InitialTimeLengthScale);
        double lo0 = p0 - 10, hi0 = p0 + 10, lo1 = 0.0, hi1 = Math.Log(1000.0 * 1000.0);

        double x0 = p0, x1 = p1;
        double f = Value(x0, x1);
        if (!double.IsFinite(f))
        {
            SetRaw(p0, p1);
            return new GaussianProcessFit(Amplitude, TimeLengthScale, f, 0, 1, false);
        }
        Gradient(out double g0, out double g1);
        // Inverse Hessian approximation, started at the identity scaled by the first gradient (a unit first step in
        // log-space is the natural scale here; the scaling keeps the first trial step of order 1).
        double h00 = 1, h01 = 0, h11 = 1;
        int iterations = 0, evaluations = 1;
        bool converged = false;

        for (; iterations < MaxIterations; iterations++)
        {
            bool free0 = !((x0 <= lo0 && g0 > 0) || (x0 >= hi0 && g0 < 0));
            bool free1 = !((x1 <= lo1 && g1 > 0) || (x1 >= hi1 && g1 < 0));
            double pg0 = free0 ? g0 : 0, pg1 = free1 ? g1 : 0;
            if (Math.Max(Math.Abs(pg0), Math.Abs(pg1)) <= Tolerance) { converged = true; break; }

            // Search direction restricted to the free variables.
            double d0, d1;
            if (free0 && free1) { d0 = -(h00 * g0 + h01 * g1); d1 = -(h01 * g0 + h11 * g1); }
            else if (free0) { d0 = -h00 * g0; d1 = 0; }
            else { d0 = 0; d1 = -h11 * g1; }
            double slope = d0 * g0 + d1 * g1;
            if (!(slope < 0))
            {
                // Not a descent direction: reset to steepest descent.
                h00 = 1; h01 = 0; h11 = 1;
                d0 = -pg0; d1 = -pg1; slope = d0 * g0 + d1 * g1;
            }
            // Cap the step so one move never exceeds 5 units in log-space (e^5 ≈ 150× change).
            double dn = Math.Max(Math.Abs(d0), Math.Abs(d1));
            if (dn > 5) { d0 *= 5 / dn; d1 *= 5 / dn; slope *= 5 / dn; }

            double step = 1.0, fNew = double.NaN, n0 = x0, n1 = x1;
            bool accepted = false;
            for (int ls = 0; ls < 30; ls++)
            {
                n0 = Math.Clamp(x0 + step * d0, lo0, hi0);
                n1 = Math.Clamp(x1 + step * d1, lo1, hi1);
                fNew = Value(n0, n1);
                evaluations++;
                double decrease = (n0 - x0) * g0 + (n1 - x1) * g1;   // projected-path Armijo
                if (double.IsFinite(fNew) && fNew <= f + 1e-4 * Math.Min(decrease, 0)) { accepted = true; break; }
                step *= 0.5;
            }
            if (!accepted) { Value(x0, x1); evaluations++; break; }

            Gradient(out double ng0, out double ng1);
            double s0 = n0 - x0, s1 = n1 - x1, y0 = ng0 - g0, y1 = ng1 - g1;
            double relDecrease = (f - fNew) / Math.Max(Math.Max(Math.Abs(f), Math.Abs(fNew)), 1.0);
            x0 = n0; x1 = n1; f = fNew; g0 = ng0; g1 = ng1;
            if (relDecrease <= Tolerance && ProjectedGradientNorm(x0, x1, g0, g1, lo0, hi0, lo1, hi1) <= StationarityTolerance * (1 + Math.Abs(f)))
            {
                converged = true; iterations++; break;
            }

            double sy = s0 * y0 + s1 * y1;
            if (sy > 1e-12)
            {
                // BFGS inverse update: H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ.
                double rho = 1.0 / sy;
                double hy0 = h00 * y0 + h01 * y1, hy1 = h01 * y0 + h11 * y1;
                double yhy = y0 * hy0 + y1 * hy1;
                double c = (1 + rho * yhy) * rho;
                h00 += c * s0 * s0 - rho * 2 * hy0 * s0;
                h01 += c * s0 * s1 - rho * (hy0 * s1 + s0 * hy1);
                h11 += c * s1 * s1 - rho * 2 * hy1 * s1;
            }
        }
        // Leave the instance factorised at the optimum (Value() did it at the last accepted point).
        if (_lnAmp != x0 || _lnLt2 != x1 || !_factorisedAtCurrent) { Value(x0, x1); evaluations++; }
        return new GaussianProcessFit(Amplitude, TimeLengthScale, f, iterations, evaluations, converged);
    }

    /// <summary>Sup norm of the gradient with the components that push against an active bound zeroed (L-BFGS-B's projected gradient).</summary>
    private static double ProjectedGradientNorm(double x0, double x1, double g0, double g1, double lo0, double hi0, double lo1, double hi1)
    {
        bool free0 = !((x0 <= lo0 && g0 > 0) || (x0 >= hi0 && g0 < 0));
        bool free1 = !((x1 <= lo1 && g1 > 0) || (x1 >= hi1 && g1 < 0));
        return Math.Max(free0 ? Math.Abs(g0) : 0, free1 ? Math.Abs(g1) : 0);
    }

    /// <summary>Negative log marginal likelihood at the current hyper-parameters (factorises K).</summary>
    public double NegativeLogLikelihood()
    {
        PreparePairs();
        return Value(_lnAmp, _lnLt2);
    }

    /// <summary>Analytic gradient of the negative log-likelihood w.r.t. (ln A, ln l_t²) at the current hyper-parameters.</summary>
    public (double dLnAmplitude, double dLnTimeScaleSquared) NegativeLogLikelihoodGradient()
    {
        PreparePairs();
        Value(_lnAmp, _lnLt2);
        Gradient(out double g0, out double g1);
        return (g0, g1);
    }

    /// <summary>
    /// Predicts the posterior mean at (time[j], wavelength) for every j into <paramref name="mean"/>. Uses the current
    /// hyper-parameters (after <see cref="Fit"/> or <see cref="SetHyperParameters"/>).
    /// </summary>
    /// <remarks>
    /// Points at another wavelength: one fused SIMD pass, four grid times at a time, Σᵢ αᵢ·Matérn32(rᵢⱼ) accumulated in
    /// registers (the m×n kernel matrix is never stored). Points at exactly this wavelength (a band predicted at its own
    /// wavelength: half the points for ZTF's g and r) when <paramref name="time"/> is ascending: r = √3|t − tᵢ|/l_t, so
    /// e^{−r} along the grid is a running product of the m − 1 step factors e^{−√3 (t_{j+1} − t_j)/l_t}, computed once
    /// per call: one exp per point instead of one per grid time (relative error ≤ m ulp ≈ 1e-14).
    /// </remarks>
    public void PredictMean(ReadOnlySpan<double> time, double wavelength, Span<double> mean)
    {
        EnsureFactorised();
        int n = _n, m = time.Length;
        if (mean.Length < m) throw new ArgumentException("mean is shorter than time", nameof(mean));
        if (m == 0) return;
        double amp = Math.Exp(_lnAmp), invLt2 = Math.Exp(-_lnLt2), invLw2 = 1.0 / (WavelengthLengthScale * WavelengthLengthScale);
        bool ascending = true;
        for (int j = 1; j < m && ascending; j++) ascending = time[j] >= time[j - 1];
        // Split the points: other wavelengths → compact (t, c, α) arrays for the SIMD pass; this wavelength → running products.
        int cross = 0, same = 0;
        for (int i = 0; i < n; i++)
        {
            double d = _w[i] - wavelength;
            if (d == 0 && ascending) { _sameIdx[same++] = i; continue; }
            _crossT[cross] = _t[i]; _crossC[cross] = d * d * invLw2; _crossA[cross] = _alpha[i]; cross++;
        }
        ref double ct = ref MemoryMarshal.GetArrayDataReference(_crossT);
        ref double cc = ref MemoryMarshal.GetArrayDataReference(_crossC);
        ref double ca = ref MemoryMarshal.GetArrayDataReference(_crossA);
        int jv = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vInv = Vector256.Create(invLt2);
            var vS3 = Vector256.Create(Sqrt3);
            var one = Vector256<double>.One;
            for (; jv <= m - 4; jv += 4)
            {
                var tj = Vector256.Create(time.Slice(jv, 4));
                var acc = Vector256<double>.Zero;
                for (int i = 0; i < cross; i++)
                {
                    var d = tj - Vector256.Create(Unsafe.Add(ref ct, i));
                    var r = Vector256.Sqrt(Vector256.FusedMultiplyAdd(d * d, vInv, Vector256.Create(Unsafe.Add(ref cc, i)))) * vS3;
                    var k = (one + r) * Vector256.Exp(-r);
                    acc = Vector256.FusedMultiplyAdd(k, Vector256.Create(Unsafe.Add(ref ca, i)), acc);
                }
                acc.CopyTo(mean.Slice(jv, 4));
            }
        }
        for (; jv < m; jv++)
        {
            double acc = 0, tj = time[jv];
            for (int i = 0; i < cross; i++)
            {
                double d = tj - _crossT[i];
                acc += Matern32(d * d * invLt2 + _crossC[i]) * _crossA[i];
            }
            mean[jv] = acc;
        }
        if (same > 0)
        {
            double a = Sqrt3 * Math.Sqrt(invLt2);
            var q = StepFactors(time, a);
            for (int s = 0; s < same; s++)
            {
                int i = _sameIdx[s];
                double ti = _t[i], ai = _alpha[i];
                int j0 = time.BinarySearch(ti);   // first grid time ≥ tᵢ
                if (j0 < 0) j0 = ~j0;
                else while (j0 > 0 && time[j0 - 1] == ti) j0--;
                if (j0 < m)
                {
                    double e = Math.Exp(-a * (time[j0] - ti));
                    for (int j = j0; ; j++)
                    {
                        double r = a * (time[j] - ti);
                        mean[j] += (1 + r) * e * ai;
                        if (j + 1 >= m) break;
                        e *= q[j];
                    }
                }
                if (j0 > 0)
                {
                    double e = Math.Exp(-a * (ti - time[j0 - 1]));
                    for (int j = j0 - 1; ; j--)
                    {
                        double r = a * (ti - time[j]);
                        mean[j] += (1 + r) * e * ai;
                        if (j == 0) break;
                        e *= q[j - 1];
                    }
                }
            }
        }
        for (int j = 0; j < m; j++) mean[j] *= amp;
    }

    /// <summary>
    /// q[j] = e^{−a (t_{j+1} − t_j)} for the grid, cached: the extractor predicts every band on the same grid with the
    /// same l_t, so the second band reuses the first band's factors (the grid is compared value by value).
    /// </summary>
    private double[] StepFactors(ReadOnlySpan<double> time, double a)
    {
        int m = time.Length;
        if (_qA == a && _qCount == m && time.SequenceEqual(_qTime.AsSpan(0, m))) return _q;
        if (_q.Length < m) { _q = new double[Math.Max(m, _q.Length * 2)]; _qTime = new double[_q.Length]; }
        time.CopyTo(_qTime);
        var q = _q;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(-a);
            for (; j + 4 < m; j += 4)
                Vector256.Exp(va * (Vector256.Create(time.Slice(j + 1, 4)) - Vector256.Create(time.Slice(j, 4)))).CopyTo(q.AsSpan(j, 4));
        }
        for (; j + 1 < m; j++) q[j] = Math.Exp(-a * (time[j + 1] - time[j]));
        _qA = a; _qCount = m;
        return q;
    }

    /// <summary>Posterior variance at one point (diagnostics and tests; allocates nothing).</summary>
    public double PredictVariance(double time, double wavelength)
    {
        EnsureFactorised();
        double amp = Math.Exp(_lnAmp), invLt2 = Math.Exp(-_lnLt2), invLw2 = 1.0 / (WavelengthLengthScale * WavelengthLengthScale);
        var v = _scratch.AsSpan(0, _n);
        for (int i = 0; i < _n; i++)
        {
            double dt = _t[i] - time, dw = _w[i] - wavelength;
            v[i] = amp * Matern32(dt * dt * invLt2 + dw * dw * invLw2);
        }
        ForwardSubstitute(v);
        double s = 0;
        foreach (var x in v) s += x * x;
        return amp - s;
    }

    private static double Matern32(double r2)
    {
        double r = Sqrt3 * Math.Sqrt(r2);
        return (1 + r) * Math.Exp(-r);
    }

    private void SetRaw(double lnAmp, double lnLt2)
    {
        _lnAmp = lnAmp; _lnLt2 = lnLt2; _factorisedAtCurrent = false;
    }

    private void EnsureFactorised()
    {
        if (_n == 0) throw new InvalidOperationException("no data");
        if (_factorisedAtCurrent) return;
        PreparePairs();
        Value(_lnAmp, _lnLt2);
    }

    /// <summary>Start of row i in the strictly-lower packed pair arrays (pairs j &lt; i).</summary>
    private static int Packed(int i) => i * (i - 1) / 2;

    /// <summary>Start of row i in the packed lower triangle with its diagonal (L): row i holds L[i, 0..i].</summary>
    private static int Tri(int i) => i * (i + 1) / 2;

    private void PreparePairs()
    {
        int n = _n;
        if (_pairsValid) return;
        int pairs = Packed(n);
        if (_pDt2.Length < pairs) GrowPairs(pairs);
        if (_l.Length < Tri(n)) _l = new double[Math.Max(Tri(n), _l.Length * 2)];
        if (_u.Length < n * n) _u = new double[Math.Max(n * n, _u.Length * 2)];
        double invLw2 = 1.0 / (WavelengthLengthScale * WavelengthLengthScale);
        for (int i = 1; i < n; i++)
        {
            int row = Packed(i);
            for (int j = 0; j < i; j++)
            {
                double dt = _t[i] - _t[j], dw = _w[i] - _w[j];
                _pDt2[row + j] = dt * dt;
                _pBase[row + j] = dw * dw * invLw2;
            }
        }
        _pairsValid = true;
    }

    /// <summary>Builds K at (p0, p1), factorises it and returns the NLL (∞ when K is not positive definite).</summary>
    private double Value(double lnAmp, double lnLt2)
    {
        _lnAmp = lnAmp; _lnLt2 = lnLt2; _factorisedAtCurrent = false;
        int n = _n, pairs = Packed(n);
        double amp = Math.Exp(lnAmp), invLt2 = Math.Exp(-lnLt2);
        KernelPairs(pairs, invLt2);
        // K (packed lower with diagonal) = A·M off the diagonal, A + σᵢ² on it.
        var l = _l; var m = _pM;
        for (int i = 0; i < n; i++)
        {
            int rl = Tri(i), rp = Packed(i);
            for (int j = 0; j < i; j++) l[rl + j] = amp * m[rp + j];
            l[rl + i] = amp + _var[i];
        }
        if (!CholeskyInPlace(l, _invDiag, n)) return double.PositiveInfinity;

        var alpha = _alpha.AsSpan(0, n);
        _y.AsSpan(0, n).CopyTo(alpha);
        ForwardSubstitute(alpha);
        double quad = 0, logDet = 0;
        for (int i = 0; i < n; i++) { quad += alpha[i] * alpha[i]; logDet += Math.Log(l[Tri(i) + i]); }
        BackSubstitute(alpha);
        _factorisedAtCurrent = true;
        return 0.5 * quad + logDet + 0.5 * n * Math.Log(2 * Math.PI);
    }

    /// <summary>
    /// For every pair: E = e^{−√3 r} and M = (1 + √3 r) E with r² = dt²/l_t² + dλ²/l_λ², in one fused SIMD pass
    /// (the five TensorPrimitives passes it replaces each paid a call and a sweep over memory).
    /// </summary>
    private void KernelPairs(int pairs, double invLt2)
    {
        ref double dt2 = ref MemoryMarshal.GetArrayDataReference(_pDt2);
        ref double bas = ref MemoryMarshal.GetArrayDataReference(_pBase);
        ref double e = ref MemoryMarshal.GetArrayDataReference(_pE);
        ref double m = ref MemoryMarshal.GetArrayDataReference(_pM);
        int p = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vInv = Vector256.Create(invLt2);
            var vS3 = Vector256.Create(Sqrt3);
            for (; p <= pairs - 4; p += 4)
            {
                var r = Vector256.Sqrt(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref dt2, (nuint)p), vInv, Vector256.LoadUnsafe(ref bas, (nuint)p))) * vS3;
                var ex = Vector256.Exp(-r);
                ex.StoreUnsafe(ref e, (nuint)p);
                ((Vector256<double>.One + r) * ex).StoreUnsafe(ref m, (nuint)p);
            }
        }
        for (; p < pairs; p++)
        {
            double r = Sqrt3 * Math.Sqrt(Unsafe.Add(ref dt2, p) * invLt2 + Unsafe.Add(ref bas, p));
            double ex = Math.Exp(-r);
            Unsafe.Add(ref e, p) = ex;
            Unsafe.Add(ref m, p) = (1 + r) * ex;
        }
    }

    /// <summary>
    /// ∂NLL/∂p = −½ tr((ααᵀ − K⁻¹) ∂K/∂p) at the point last factorised by <see cref="Value"/> (reuses its E, M).
    /// ∂K/∂lnA = A·M (off the noise diagonal); ∂K/∂ln l_t² = A · 1.5 e^{−√3 r} · dt²/l_t² (Matérn-3/2: dM/d(r²) = −1.5 e^{−√3 r}).
    /// K⁻¹ is formed once per gradient from U = L⁻ᵀ (n³/6 + n³/6 multiply-adds), its entries consumed as they are made.
    /// </summary>
    private void Gradient(out double g0, out double g1)
    {
        int n = _n;
        InvertFactor(n);
        double amp = Math.Exp(_lnAmp), invLt2 = Math.Exp(-_lnLt2);
        var u = _u; var a = _alpha; var mm = _pM; var ee = _pE; var dt2 = _pDt2;
        double diag = 0, sumM = 0, sumE = 0;
        for (int i = 0; i < n; i++)
        {
            int len = n - i, ri = i * n + i, row = Packed(i);
            ref double ui = ref u[ri];
            for (int j = 0; j < i; j++)
            {
                double w = a[i] * a[j] - Dot(ref ui, ref u[j * n + i], len);
                sumM += w * mm[row + j];
                sumE += w * ee[row + j] * dt2[row + j];
            }
            diag += a[i] * a[i] - Dot(ref ui, ref ui, len);
        }
        g0 = -0.5 * amp * (2 * sumM + diag);
        g1 = -0.5 * amp * (2 * 1.5 * invLt2 * sumE);
    }

    /// <summary>Σ a[k]·b[k] for k &lt; len, four lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Dot(ref double a, ref double b, int len)
    {
        int k = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated && len >= 4)
        {
            var acc = Vector256<double>.Zero;
            for (; k <= len - 4; k += 4)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)k), Vector256.LoadUnsafe(ref b, (nuint)k), acc);
            s = Vector256.Sum(acc);
        }
        for (; k < len; k++) s += Unsafe.Add(ref a, k) * Unsafe.Add(ref b, k);
        return s;
    }

    /// <summary>
    /// In-place lower Cholesky of the packed lower triangle (row i = K[i, 0..i]); every dot product is a prefix of two
    /// contiguous rows. Column by column (left-looking): the n − j − 1 dot products of column j are independent, so the
    /// CPU overlaps them (row by row, each entry waited for the one before it: at the service's ~12 points that latency
    /// chain, not arithmetic, was the cost). Same products in the same order: bit-for-bit the row-by-row result.
    /// Stores 1/L_jj in <paramref name="invDiag"/>. False if not positive definite.
    /// </summary>
    private static bool CholeskyInPlace(double[] l, double[] invDiag, int n)
    {
        for (int j = 0; j < n; j++)
        {
            int rj = Tri(j);
            ref double rowJ = ref l[rj];
            double d = l[rj + j] - Dot(ref rowJ, ref rowJ, j);
            if (!(d > 0) || !double.IsFinite(d)) return false;
            double s = Math.Sqrt(d);
            l[rj + j] = s;
            double inv = 1.0 / s;
            invDiag[j] = inv;
            for (int i = j + 1; i < n; i++)
            {
                int ri = Tri(i);
                l[ri + j] = (l[ri + j] - Dot(ref l[ri], ref rowJ, j)) * inv;
            }
        }
        return true;
    }

    /// <summary>Solves L x = b in place.</summary>
    private void ForwardSubstitute(Span<double> b)
    {
        int n = _n; var l = _l;
        ref double b0 = ref MemoryMarshal.GetReference(b);
        for (int i = 0; i < n; i++)
        {
            int ri = Tri(i);
            b[i] = (b[i] - Dot(ref l[ri], ref b0, i)) / l[ri + i];
        }
    }

    /// <summary>Solves Lᵀ x = b in place, column-oriented so each update is a contiguous row of the packed L.</summary>
    private void BackSubstitute(Span<double> b)
    {
        int n = _n; var l = _l;
        for (int i = n - 1; i >= 0; i--)
        {
            int ri = Tri(i);
            double x = b[i] * _invDiag[i];
            b[i] = x;
            for (int k = 0; k < i; k++) b[k] -= l[ri + k] * x;
        }
    }

    /// <summary>
    /// U = L⁻ᵀ (dense n×n, upper): row j of U is column j of L⁻¹, found by forward substitution of e_j, so both operands
    /// of every dot product are contiguous. Then (K⁻¹)_ij = Σ_{k ≥ max(i,j)} U_ik U_jk, again contiguous. The k loop is
    /// outside so the j dot products of one k are independent (latency overlapped, as in <see cref="CholeskyInPlace"/>).
    /// </summary>
    private void InvertFactor(int n)
    {
        var l = _l; var u = _u;
        for (int k = 0; k < n; k++)
        {
            int rk = Tri(k);
            double inv = _invDiag[k];
            u[k * n + k] = inv;
            for (int j = 0; j < k; j++)
            {
                int rj = j * n;
                u[rj + k] = -Dot(ref l[rk + j], ref u[rj + j], k - j) * inv;
            }
        }
    }

    private void GrowPoints(int capacity)
    {
        Array.Resize(ref _t, capacity);
        Array.Resize(ref _w, capacity);
        Array.Resize(ref _y, capacity);
        Array.Resize(ref _var, capacity);
        Array.Resize(ref _alpha, capacity);
        Array.Resize(ref _scratch, capacity);
        Array.Resize(ref _invDiag, capacity);
        Array.Resize(ref _crossT, capacity);
        Array.Resize(ref _crossC, capacity);
        Array.Resize(ref _crossA, capacity);
        Array.Resize(ref _sameIdx, capacity);
    }

    private void GrowPairs(int pairs)
    {
        int cap = Math.Max(pairs, _pDt2.Length * 2);
        _pDt2 = new double[cap]; _pBase = new double[cap]; _pE = new double[cap]; _pM = new double[cap];
    }
}
