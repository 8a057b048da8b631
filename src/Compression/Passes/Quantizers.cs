namespace Alerts.Compression.Passes;

/// <summary>How float weights become int8: plain round-to-nearest, or GPTQ's error-compensating order.</summary>
public enum WeightRounding { Nearest, Gptq }

/// <summary>Activation range estimation for static quantization.</summary>
public enum CalibrationMethod { MinMax, Percentile }

internal static class Quantizers
{
    /// <summary>
    /// Largest weight code. 63 ("reduce range", 7 bits) by default: x86 AVX2/AVX-512 (non-VNNI) u8 x s8 kernels add
    /// pairs of products in int16 with saturation (vpmaddubsw), and 255 x 127 x 2 overflows it. Full-range int8 weights
    /// gave wrong results on this machine's ORT (e.g. 20 % accuracy after head pruning); 7-bit weights cannot overflow.
    /// </summary>
    public const int DefaultWeightMax = 63;

    /// <summary>Symmetric per-column (output channel) int8 scales for W [K x N]: s_n = max|W[:, n]| / qmax.</summary>
    public static float[] SymmetricScales(ReadOnlySpan<float> w, int k, int n, bool perChannel, int qmax = DefaultWeightMax)
    {
        var s = new float[n];
        float all = 0;
        for (int c = 0; c < n; c++)
        {
            float m = 0;
            for (int r = 0; r < k; r++) m = Math.Max(m, Math.Abs(w[r * n + c]));
            s[c] = m;
            all = Math.Max(all, m);
        }
        for (int c = 0; c < n; c++)
        {
            float m = perChannel ? s[c] : all;
            s[c] = m > 0 ? m / qmax : 1f;
        }
        return s;
    }

    public static sbyte[] RoundNearest(ReadOnlySpan<float> w, int k, int n, float[] scales, int qmax = DefaultWeightMax)
    {
        var q = new sbyte[k * n];
        for (int r = 0; r < k; r++)
            for (int c = 0; c < n; c++)
                q[r * n + c] = (sbyte)Math.Clamp(MathF.Round(w[r * n + c] / scales[c], MidpointRounding.ToEven), -qmax, qmax);
        return q;
    }

    /// <summary>
    /// GPTQ (Frantar et al. 2023) for y = x W, W [K x N]: quantise the K input rows one at a time, and push each
    /// row's rounding error onto the rows not yet quantised, weighted by the inverse Hessian H^-1 of the layer
    /// loss ||x W - x Q||^2 (H = 2 X^T X / n from calibration inputs X [n x K]). Uses the upper Cholesky factor of
    /// H^-1 as in the paper; dampening adds <paramref name="damp"/> x mean(diag H) to the diagonal.
    /// </summary>
    public static sbyte[] Gptq(ReadOnlySpan<float> weight, int k, int n, float[] scales, ReadOnlySpan<float> x, int rows, double damp = 0.01, int qmax = DefaultWeightMax)
    {
        var q = new sbyte[k * n];
        GptqRows(weight, k, n, x, rows, damp, (v, i, c) =>
        {
            int qi = (int)Math.Clamp(Math.Round(v / scales[c], MidpointRounding.ToEven), -qmax, qmax);
            q[i * n + c] = (sbyte)qi;
            return qi * (double)scales[c];
        });
        return q;
    }

    /// <summary>
    /// The GPTQ error propagation shared by every weight format: rows of W [K x N] are quantised in order by
    /// <paramref name="quantize"/> (value, row, column) → the value the format represents (it records its own code),
    /// and each row's error, scaled by the upper Cholesky factor of the dampened H^-1, is pushed onto the later rows.
    /// </summary>
    internal static void GptqRows(ReadOnlySpan<float> weight, int k, int n, ReadOnlySpan<float> x, int rows, double damp, Func<double, int, int, double> quantize)
    {
        var h = LinearAlgebra.Gram(x, rows, k);
        var w = new double[k * n];
        for (int i = 0; i < w.Length; i++) w[i] = weight[i];
        double mean = 0;
        for (int i = 0; i < k; i++) mean += h[i, i];
        mean = Math.Max(mean / k, 1e-12);
        for (int i = 0; i < k; i++)
        {
            if (h[i, i] == 0) { h[i, i] = 1; for (int c = 0; c < n; c++) w[i * n + c] = 0; } // dead input
            h[i, i] += damp * mean;
        }
        var l = LinearAlgebra.Cholesky(LinearAlgebra.InverseSpd(h)); // H^-1 = L L^T, upper factor U = L^T
        var err = new double[n];
        for (int i = 0; i < k; i++)
        {
            double d = l[i, i];
            for (int c = 0; c < n; c++)
            {
                double v = w[i * n + c];
                err[c] = (v - quantize(v, i, c)) / d;
            }
            for (int j = i + 1; j < k; j++)
            {
                double u = l[j, i]; // U[i, j]
                if (u == 0) continue;
                for (int c = 0; c < n; c++) w[j * n + c] -= u * err[c];
            }
        }
    }

    /// <summary>uint8 asymmetric activation parameters covering [lo, hi] (extended to include 0, as ONNX requires).</summary>
    public static (float Scale, byte ZeroPoint) ActivationParameters(float lo, float hi)
    {
        lo = Math.Min(lo, 0); hi = Math.Max(hi, 0);
        float scale = (hi - lo) / 255f;
        if (scale <= 0) return (1f, 0);
        byte zp = (byte)Math.Clamp(MathF.Round(-lo / scale), 0, 255);
        return (scale, zp);
    }

    /// <summary>Range of calibration values: min/max, or the (100-p, p) percentiles to ignore outliers.</summary>
    public static (float Lo, float Hi) Range(float[] values, CalibrationMethod method, double percentile)
    {
        if (method == CalibrationMethod.MinMax)
        {
            float lo = float.MaxValue, hi = float.MinValue;
            foreach (var v in values) { if (v < lo) lo = v; if (v > hi) hi = v; }
            return (lo, hi);
        }
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        int last = sorted.Length - 1;
        int iHi = (int)Math.Round(last * percentile / 100.0);
        int iLo = (int)Math.Round(last * (100.0 - percentile) / 100.0);
        return (sorted[iLo], sorted[iHi]);
    }
}
