using System.Numerics.Tensors;

// The GP of commit 1ce159c (before the fused SIMD kernel, packed Cholesky and fused prediction), kept verbatim as the reference the fast
// GaussianProcessInterpolator is checked against (GpReferenceAgreementTests). Do not optimise this copy.

namespace Alerts.Classifier.Tests;

/// <summary>Outcome of one GP fit: the fitted hyper-parameters and how the optimiser ended.</summary>
public readonly record struct ReferenceGaussianProcessFit(
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
public sealed class ReferenceGaussianProcessInterpolator
{
    private static readonly double Sqrt3 = Math.Sqrt(3.0);

    // Points.
    private double[] _t = new double[64];       // times (days, relative)
    private double[] _w = new double[64];       // effective wavelengths (Å)
    private double[] _y = new double[64];       // fluxes
    private double[] _var = new double[64];     // flux error² (diagonal)
    private double[] _alpha = new double[64];   // K⁻¹ y
    private double[] _scratch = new double[64];
    // Pairs i > j, packed row by row (index i(i−1)/2 + j) so every kernel pass is one contiguous SIMD span.
    private double[] _pDt2 = new double[2016];  // dt²
    private double[] _pBase = new double[2016]; // dλ²/l_λ²
    private double[] _pR = new double[2016];    // √3 r
    private double[] _pE = new double[2016];    // e^{−√3 r}
    private double[] _pM = new double[2016];    // Matérn32 = (1 + √3 r) e^{−√3 r}
    private double[] _pW = new double[2016];    // gradient weights α_i α_j − (K⁻¹)_ij
    // Dense n×n, row-major with stride n.
    private double[] _k = new double[64 * 64];  // K, then its lower Cholesky factor L
    private double[] _u = new double[64 * 64];  // U = L⁻ᵀ (upper; row j holds column j of L⁻¹)
    // Prediction: grid × points.
    private double[] _pred = new double[100 * 64];
    private int _n;
    private double _lnAmp, _lnLt2;
    private bool _factorisedAtCurrent;
    private bool _pairsValid;

    public ReferenceGaussianProcessInterpolator(double wavelengthLengthScale = 6000.0)
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
    public ReferenceGaussianProcessFit Fit()
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
            return new ReferenceGaussianProcessFit(Amplitude, TimeLengthScale, f, 0, 1, false);
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
        return new ReferenceGaussianProcessFit(Amplitude, TimeLengthScale, f, iterations, evaluations, converged);
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
    public void PredictMean(ReadOnlySpan<double> time, double wavelength, Span<double> mean)
    {
        EnsureFactorised();
        int n = _n, m = time.Length;
        if (_pred.Length < m * n) _pred = new double[Math.Max(m * n, _pred.Length * 2)];
        double amp = Math.Exp(_lnAmp), invLt2 = Math.Exp(-_lnLt2), invLw2 = 1.0 / (WavelengthLengthScale * WavelengthLengthScale);
        var t = _t.AsSpan(0, n);
        var dw = _scratch.AsSpan(0, n);
        for (int i = 0; i < n; i++) { double d = _w[i] - wavelength; dw[i] = d * d * invLw2; }
        var all = _pred.AsSpan(0, m * n);
        for (int j = 0; j < m; j++)
        {
            var row = all.Slice(j * n, n);
            TensorPrimitives.Subtract(t, time[j], row);
            TensorPrimitives.Multiply(row, row, row);
            TensorPrimitives.MultiplyAdd(row, invLt2, dw, row);
        }
        MaternInPlace(all);
        var a = _alpha.AsSpan(0, n);
        for (int j = 0; j < m; j++) mean[j] = amp * TensorPrimitives.Dot<double>(all.Slice(j * n, n), a);
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
        return amp - TensorPrimitives.Dot<double>(v, v);
    }

    private static double Matern32(double r2)
    {
        double r = Sqrt3 * Math.Sqrt(r2);
        return (1 + r) * Math.Exp(-r);
    }

    /// <summary>r² → (1 + √3 r) e^{−√3 r}, in place, vectorised.</summary>
    private void MaternInPlace(Span<double> r2)
    {
        TensorPrimitives.Sqrt(r2, r2);
        TensorPrimitives.Multiply(r2, -Sqrt3, r2);              // −√3 r
        // (1 + √3 r) e^{−√3 r} = (1 − x) e^{x} with x = −√3 r: needs e^{x} and x; compute in chunks through _scratch-free trick:
        // e^{x}·(1 − x) = e^{x} − x e^{x}.
        for (int s = 0; s < r2.Length; s += ChunkSize)
        {
            var x = r2.Slice(s, Math.Min(ChunkSize, r2.Length - s));
            var e = _chunk.AsSpan(0, x.Length);
            TensorPrimitives.Exp(x, e);
            TensorPrimitives.Multiply(x, e, x);                 // x e^{x}
            TensorPrimitives.Subtract(e, x, x);                 // e^{x} − x e^{x}
        }
    }

    private const int ChunkSize = 1024;
    private readonly double[] _chunk = new double[ChunkSize];

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

    private static int Packed(int i) => i * (i - 1) / 2;

    private void PreparePairs()
    {
        int n = _n;
        if (_pairsValid) return;
        int pairs = Packed(n);
        if (_pDt2.Length < pairs) GrowPairs(pairs);
        if (_k.Length < n * n) GrowMatrices(n);
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
        var r = _pR.AsSpan(0, pairs); var e = _pE.AsSpan(0, pairs); var m = _pM.AsSpan(0, pairs);
        TensorPrimitives.MultiplyAdd(_pDt2.AsSpan(0, pairs), invLt2, _pBase.AsSpan(0, pairs), r);   // r²
        TensorPrimitives.Sqrt(r, r);
        TensorPrimitives.Multiply(r, Sqrt3, r);                       // √3 r
        TensorPrimitives.Negate(r, e);
        TensorPrimitives.Exp(e, e);                                   // e^{−√3 r}
        TensorPrimitives.AddMultiply(r, 1.0, e, m);                   // (√3 r + 1) e^{−√3 r}
        var k = _k;
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Multiply(m.Slice(Packed(i), i), amp, k.AsSpan(i * n, i));
            k[i * n + i] = amp + _var[i];
        }
        if (!CholeskyInPlace(k, n)) return double.PositiveInfinity;

        var alpha = _alpha.AsSpan(0, n);
        _y.AsSpan(0, n).CopyTo(alpha);
        ForwardSubstitute(alpha);
        double quad = TensorPrimitives.Dot<double>(alpha, alpha), logDet = 0;
        for (int i = 0; i < n; i++) logDet += Math.Log(k[i * n + i]);
        BackSubstitute(alpha);
        _factorisedAtCurrent = true;
        return 0.5 * quad + logDet + 0.5 * n * Math.Log(2 * Math.PI);
    }

    /// <summary>
    /// ∂NLL/∂p = −½ tr((ααᵀ − K⁻¹) ∂K/∂p) at the point last factorised by <see cref="Value"/> (reuses its r, e, M).
    /// ∂K/∂lnA = A·M (off the noise diagonal); ∂K/∂ln l_t² = A · 1.5 e^{−√3 r} · dt²/l_t² (Matérn-3/2: dM/d(r²) = −1.5 e^{−√3 r}).
    /// </summary>
    private void Gradient(out double g0, out double g1)
    {
        int n = _n, pairs = Packed(n);
        InvertFactor(n);
        double amp = Math.Exp(_lnAmp), invLt2 = Math.Exp(-_lnLt2);
        var u = _u; var a = _alpha; var w = _pW;
        double diag = 0;
        for (int i = 0; i < n; i++)
        {
            var ui = u.AsSpan(i * n + i, n - i);
            int row = Packed(i);
            for (int j = 0; j < i; j++)
                w[row + j] = a[i] * a[j] - TensorPrimitives.Dot<double>(ui, u.AsSpan(j * n + i, n - i));
            diag += a[i] * a[i] - TensorPrimitives.Dot<double>(ui, ui);
        }
        var wp = w.AsSpan(0, pairs);
        double t0 = 2 * TensorPrimitives.Dot<double>(wp, _pM.AsSpan(0, pairs)) + diag;
        // Σ w · e · dt²: reuse _pR as scratch (r is not needed after this point).
        var tmp = _pR.AsSpan(0, pairs);
        TensorPrimitives.Multiply(_pE.AsSpan(0, pairs), _pDt2.AsSpan(0, pairs), tmp);
        double t1 = 2 * 1.5 * invLt2 * TensorPrimitives.Dot<double>(wp, tmp);
        g0 = -0.5 * amp * t0;
        g1 = -0.5 * amp * t1;
    }

    /// <summary>In-place lower Cholesky of the row-major n×n matrix (lower triangle used). False if not positive definite.</summary>
    private static bool CholeskyInPlace(double[] a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            int rj = j * n;
            var rowJ = a.AsSpan(rj, j);
            double d = a[rj + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(d > 0) || !double.IsFinite(d)) return false;
            double l = Math.Sqrt(d);
            a[rj + j] = l;
            double inv = 1.0 / l;
            for (int i = j + 1; i < n; i++)
            {
                int ri = i * n;
                a[ri + j] = (a[ri + j] - TensorPrimitives.Dot<double>(a.AsSpan(ri, j), rowJ)) * inv;
            }
        }
        return true;
    }

    /// <summary>Solves L x = b in place.</summary>
    private void ForwardSubstitute(Span<double> b)
    {
        int n = _n; var l = _k;
        for (int i = 0; i < n; i++)
        {
            int ri = i * n;
            b[i] = (b[i] - TensorPrimitives.Dot<double>(l.AsSpan(ri, i), b[..i])) / l[ri + i];
        }
    }

    /// <summary>Solves Lᵀ x = b in place.</summary>
    private void BackSubstitute(Span<double> b)
    {
        int n = _n; var l = _k;
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
            b[i] = s / l[i * n + i];
        }
    }

    /// <summary>
    /// U = L⁻ᵀ: row j of U is column j of L⁻¹, found by forward substitution of e_j, so both operands of every dot
    /// product are contiguous. Then (K⁻¹)_ij = Σ_{k ≥ max(i,j)} U_ik U_jk, again contiguous.
    /// </summary>
    private void InvertFactor(int n)
    {
        var l = _k; var u = _u;
        for (int j = 0; j < n; j++)
        {
            int rj = j * n;
            u[rj + j] = 1.0 / l[rj + j];
            for (int k = j + 1; k < n; k++)
            {
                int rk = k * n;
                u[rj + k] = -TensorPrimitives.Dot<double>(l.AsSpan(rk + j, k - j), u.AsSpan(rj + j, k - j)) / l[rk + k];
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
    }

    private void GrowPairs(int pairs)
    {
        int cap = Math.Max(pairs, _pDt2.Length * 2);
        _pDt2 = new double[cap]; _pBase = new double[cap]; _pR = new double[cap];
        _pE = new double[cap]; _pM = new double[cap]; _pW = new double[cap];
    }

    private void GrowMatrices(int n)
    {
        int cap = Math.Max(n, (int)Math.Sqrt(_k.Length) * 2);
        _k = new double[cap * cap];
        _u = new double[cap * cap];
    }
}
