using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Alerts.OrtKernels;

/// <summary>
/// Multi-head scaled dot-product self-attention in one pass per head: out = softmax(scale · Q Kᵀ) V, with Q, K, V and
/// the output in the projections' own layout [B, T, H·dh] (heads side by side in the last axis, as torch's
/// <c>nn.MultiheadAttention</c>-style code produces them before its head-split Reshape/Transpose).
/// <para>
/// Why it exists: on t2's shapes (T = 100, H = 4, dh = 8) ONNX Runtime's CPU kernels run the attention as five
/// separate ops (head Transposes, a Q·Kᵀ GEMM with an inner dimension of 8, Softmax, a P·V GEMM whose 8-wide output
/// MLAS pads to a 16-column panel, the merge Transpose), writing the [B, H, T, T] score tensor to memory and reading
/// it back twice; that was two thirds of the model's CPU time. Here a block of query rows keeps its scores in a
/// stack buffer: Kᵀ of one head is copied once (dh × T, padded to whole vectors), each block's scores are
/// Vector256 FMAs over time, the softmax is exp'd in place, and P·V accumulates straight into the output rows.
/// </para>
/// </summary>
public static class ScaledDotProductAttention
{
    /// <summary>Query rows processed together: their scores share each loaded Kᵀ/V vector.</summary>
    private const int RowBlock = 4;

    /// <summary>Above this many floats of scratch (Kᵀ + a block's scores) the buffers come from aligned native memory, not the stack.</summary>
    private const int StackFloats = 16 * 1024;

    /// <summary>
    /// Computes attention for <paramref name="batch"/> sequences of <paramref name="steps"/> rows. Spans hold
    /// [batch, steps, heads·headDim] floats; <paramref name="output"/> must not overlap the inputs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // straight to optimised code: tier-0 Vector256 is ~10× slower
    public static unsafe void Compute(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output,
                               int batch, int steps, int heads, int headDim, float scale)
    {
        if (batch < 0 || steps <= 0 || heads <= 0 || headDim <= 0)
            throw new ArgumentException($"attention shape batch {batch}, steps {steps}, heads {heads}, head width {headDim} is not positive");
        long width = (long)heads * headDim, n = batch * steps * width;
        if (q.Length != n || k.Length != n || v.Length != n || output.Length != n)
            throw new ArgumentException($"attention inputs hold {q.Length}/{k.Length}/{v.Length} floats and the output {output.Length}; [batch {batch}, steps {steps}, {width}] needs {n} each");
        if (batch == 0) return;

        int padded = (steps + Vector256<float>.Count - 1) & ~(Vector256<float>.Count - 1);
        // + one vector so the buffers can start on a 32-byte boundary: a Vector256 load that straddles two cache
        // lines costs twice, and Kᵀ/scores rows are whole vectors from an aligned start.
        int scratch = headDim * padded + RowBlock * padded + Vector256<float>.Count;
        float* heap = null;
        Span<float> buffer = scratch <= StackFloats ? stackalloc float[scratch]
            : new Span<float>(heap = (float*)NativeMemory.AlignedAlloc((nuint)scratch * sizeof(float), 32), scratch);
        try
        {
            fixed (float* bp = buffer)
            fixed (float* qp = q) fixed (float* kp = k) fixed (float* vp = v) fixed (float* op = output)
            {
                float* kt = (float*)(((nint)bp + 31) & ~(nint)31);
                float* scores = kt + headDim * padded;
                new Span<float>(kt, headDim * padded).Clear();   // the padding columns stay 0 for every head
                for (int b = 0; b < batch; b++)
                    for (int h = 0; h < heads; h++)
                    {
                        long offset = b * steps * width + h * headDim;
                        Head(qp + offset, kp + offset, vp + offset, op + offset, kt, scores, steps, padded, (int)width, headDim, scale);
                    }
            }
        }
        finally
        {
            if (heap is not null) NativeMemory.AlignedFree(heap);
        }
    }

    /// <summary>One (sequence, head): row t of Q/K/V/output starts at t·<paramref name="stride"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Head(float* q, float* k, float* v, float* output, float* kt, float* scores,
                                    int steps, int padded, int stride, int headDim, float scale)
    {
        // Kᵀ [headDim, padded]: one contiguous row per head feature, so a score block is FMAs along time. The
        // score scale is applied here, once per key element.
        int t = 0;
        if (Avx.IsSupported)
            for (; t + 8 <= steps; t += 8)
                for (int d = 0; d + 8 <= headDim; d += 8)
                    TransposeScaled8x8(k + t * stride + d, stride, kt + d * padded + t, padded, scale);
        int vectorised = Avx.IsSupported ? headDim & ~7 : 0;   // features whose rows the 8 × 8 blocks wrote up to t
        for (int d = 0; d < headDim; d++)
            for (int tt = d < vectorised ? t : 0; tt < steps; tt++)
                kt[d * padded + tt] = k[tt * stride + d] * scale;

        float* inverseSums = stackalloc float[RowBlock];
        for (int row = 0; row < steps; row += RowBlock)
        {
            int rows = Math.Min(RowBlock, steps - row);
            Scores(q + row * stride, kt, scores, rows, padded, stride, headDim);
            // padding columns score −inf: they drop out of the max, and their exp (≤ 1.2e-38 after the clamp) is
            // nothing against the row's largest numerator, 1; P·V stops at the last real key.
            for (int r = 0; r < rows; r++)
                for (int j = steps; j < padded; j++) scores[r * padded + j] = float.NegativeInfinity;
            for (int r = 0; r < rows; r++) inverseSums[r] = 1f / SoftmaxNumerators(scores + r * padded, steps, padded);
            WeightedValues(v, output + row * stride, scores, inverseSums, rows, steps, padded, stride, headDim);
        }
    }

    /// <summary>dst[i·dstStride + j] = scale · src[j·srcStride + i] for an 8 × 8 block, in registers (AVX shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposeScaled8x8(float* src, int srcStride, float* dst, int dstStride, float scale)
    {
        var sv = Vector256.Create(scale);
        var r0 = Vector256.Load(src) * sv; var r1 = Vector256.Load(src + srcStride) * sv;
        var r2 = Vector256.Load(src + 2 * srcStride) * sv; var r3 = Vector256.Load(src + 3 * srcStride) * sv;
        var r4 = Vector256.Load(src + 4 * srcStride) * sv; var r5 = Vector256.Load(src + 5 * srcStride) * sv;
        var r6 = Vector256.Load(src + 6 * srcStride) * sv; var r7 = Vector256.Load(src + 7 * srcStride) * sv;
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + dstStride);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2 * dstStride);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3 * dstStride);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4 * dstStride);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5 * dstStride);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6 * dstStride);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7 * dstStride);
    }

    /// <summary>scores[r, j] = q[r] · (scale · k[j]) for the block's rows (q points at the block's first row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Scores(float* q, float* kt, float* scores, int rows, int padded, int stride, int headDim)
    {
        const int c = 8;   // Vector256<float>.Count
        if (rows == RowBlock)
        {
            // 4 rows × 2 vectors of keys: eight independent FMA chains hide the FMA latency, and each broadcast q
            // element serves two key vectors. Pointers advance instead of indices being recomputed (the JIT spent
            // more instructions on index arithmetic than on FMAs).
            float* q1 = q + stride, q2 = q1 + stride, q3 = q2 + stride;
            int j = 0;
            for (; j + 2 * c <= padded; j += 2 * c)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
                float* kd = kt + j;
                for (int d = 0; d < headDim; d++, kd += padded)
                {
                    var k0 = Vector256.Load(kd);
                    var k1 = Vector256.Load(kd + c);
                    var x = Vector256.Create(q[d]);
                    a0 = Vector256.FusedMultiplyAdd(x, k0, a0); b0 = Vector256.FusedMultiplyAdd(x, k1, b0);
                    x = Vector256.Create(q1[d]);
                    a1 = Vector256.FusedMultiplyAdd(x, k0, a1); b1 = Vector256.FusedMultiplyAdd(x, k1, b1);
                    x = Vector256.Create(q2[d]);
                    a2 = Vector256.FusedMultiplyAdd(x, k0, a2); b2 = Vector256.FusedMultiplyAdd(x, k1, b2);
                    x = Vector256.Create(q3[d]);
                    a3 = Vector256.FusedMultiplyAdd(x, k0, a3); b3 = Vector256.FusedMultiplyAdd(x, k1, b3);
                }
                float* s = scores + j;
                a0.Store(s); b0.Store(s + c); s += padded;
                a1.Store(s); b1.Store(s + c); s += padded;
                a2.Store(s); b2.Store(s + c); s += padded;
                a3.Store(s); b3.Store(s + c);
            }
            for (; j < padded; j += c)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                float* kd = kt + j;
                for (int d = 0; d < headDim; d++, kd += padded)
                    Rank1Update4(Vector256.Load(kd), q[d], q1[d], q2[d], q3[d], ref a0, ref a1, ref a2, ref a3);
                float* s = scores + j;
                a0.Store(s); s += padded;
                a1.Store(s); s += padded;
                a2.Store(s); s += padded;
                a3.Store(s);
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* qr = q + r * stride;
            for (int j = 0; j < padded; j += c)
            {
                Vector256<float> a = default;
                float* kd = kt + j;
                for (int d = 0; d < headDim; d++, kd += padded)
                    a = Vector256.FusedMultiplyAdd(Vector256.Create(qr[d]), Vector256.Load(kd), a);
                a.Store(scores + r * padded + j);
            }
        }
    }

    /// <summary>a_r += x_r · v for four rows r: one vector of keys (or values) against four broadcast row elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rank1Update4(Vector256<float> v, float x0, float x1, float x2, float x3,
                                     ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        a0 = Vector256.FusedMultiplyAdd(Vector256.Create(x0), v, a0);
        a1 = Vector256.FusedMultiplyAdd(Vector256.Create(x1), v, a1);
        a2 = Vector256.FusedMultiplyAdd(Vector256.Create(x2), v, a2);
        a3 = Vector256.FusedMultiplyAdd(Vector256.Create(x3), v, a3);
    }

    /// <summary>Replaces one row's scores (padding = −inf, whole vectors) by exp(s − max) and returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe float SoftmaxNumerators(float* s, int steps, int padded)
    {
        const int c = 8;
        Vector256<float> m0 = Vector256.Create(float.NegativeInfinity), m1 = m0;
        int j = 0;
        for (; j + 2 * c <= padded; j += 2 * c)
        {
            m0 = Vector256.MaxNative(m0, Vector256.Load(s + j));
            m1 = Vector256.MaxNative(m1, Vector256.Load(s + j + c));
        }
        if (j < padded) m0 = Vector256.MaxNative(m0, Vector256.Load(s + j));
        // MaxNative is one vmaxps; Max's IEEE NaN/−0 rules cost nine instructions, and scores hold neither.
        // Horizontal max without leaving the vector unit: swap halves, then pairs, then neighbours.
        m0 = Vector256.MaxNative(m0, m1);
        m0 = Vector256.MaxNative(m0, Vector256.Shuffle(m0, Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3)));
        m0 = Vector256.MaxNative(m0, Vector256.Shuffle(m0, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)));
        var mv = Vector256.MaxNative(m0, Vector256.Shuffle(m0, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)));
        Vector256<float> sum = default, sum2 = default;
        for (j = 0; j + 2 * c <= padded; j += 2 * c)
        {
            // two independent exps per iteration: each is a ~12-deep dependent chain
            var e0 = Exp(Vector256.Load(s + j) - mv);
            var e1 = Exp(Vector256.Load(s + j + c) - mv);
            e0.Store(s + j);
            e1.Store(s + j + c);
            sum += e0;
            sum2 += e1;
        }
        if (j < padded)
        {
            var e = Exp(Vector256.Load(s + j) - mv);
            e.Store(s + j);
            sum += e;
        }
        return Vector256.Sum(sum + sum2);
    }

    /// <summary>
    /// eˣ for x ≤ 0 (softmax numerators after the max shift), 8 at a time in float: x = n·ln2 + r with |r| ≤ ln2/2,
    /// eʳ by its degree-7 Taylor polynomial (truncation ≤ 2e-8 relative, below float's 6e-8 rounding), 2ⁿ by
    /// building the exponent bits. ~15 instructions per vector; .NET's Vector256.Exp widens to double for
    /// full-range accuracy and costs ~5× that, which made it most of this kernel's time. Inputs below −87.3
    /// return e^−87.3 ≈ 1.2e-38 instead of a subnormal or 0: against the row's largest numerator (1) that is nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.MaxNative(x, Vector256.Create(-87.3f));
        // n = round(x / ln2): with AVX, one cvtps2dq (round to nearest) gives it as an integer; the portable form
        // rounds and converts with .NET's saturating semantics (more instructions, same values on this range).
        Vector256<int> ni;
        Vector256<float> n;
        if (Avx.IsSupported)
        {
            ni = Avx.ConvertToVector256Int32(x * Vector256.Create(1.44269504f));
            n = Avx.ConvertToVector256Single(ni);
        }
        else
        {
            n = Vector256.Round(x * Vector256.Create(1.44269504f));
            ni = Vector256.ConvertToInt32(n);
        }
        // r = x − n·ln2 with ln2 split in two so n·ln2_hi is exact
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1f / 5040);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 720));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var scale = ((ni + Vector256.Create(127)) << 23).AsSingle();
        return p * scale;
    }

    /// <summary>output[r] = (Σ_j p[r, j] v[j]) / Σ_j p[r, j] for the block's rows (output points at the block's first row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WeightedValues(float* v, float* output, float* p, float* inverseSums, int rows, int steps, int padded, int stride, int headDim)
    {
        const int c = 8;
        int d = 0;
        if (rows == RowBlock)
            for (; d + c <= headDim; d += c)
            {
                // even and odd keys in separate sums: eight FMA chains instead of four hide the FMA latency
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
                float* p0 = p, p1 = p + padded, p2 = p1 + padded, p3 = p2 + padded;
                float* vj = v + d;
                int j = 0;
                for (; j + 1 < steps; j += 2, vj += 2 * stride)
                {
                    var v0 = Vector256.Load(vj);
                    var v1 = Vector256.Load(vj + stride);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p0[j]), v0, a0);
                    b0 = Vector256.FusedMultiplyAdd(Vector256.Create(p0[j + 1]), v1, b0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[j]), v0, a1);
                    b1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[j + 1]), v1, b1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[j]), v0, a2);
                    b2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[j + 1]), v1, b2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[j]), v0, a3);
                    b3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[j + 1]), v1, b3);
                }
                if (j < steps) Rank1Update4(Vector256.Load(vj), p0[j], p1[j], p2[j], p3[j], ref a0, ref a1, ref a2, ref a3);
                float* o = output + d;
                ((a0 + b0) * inverseSums[0]).Store(o); o += stride;
                ((a1 + b1) * inverseSums[1]).Store(o); o += stride;
                ((a2 + b2) * inverseSums[2]).Store(o); o += stride;
                ((a3 + b3) * inverseSums[3]).Store(o);
            }
        // a partial row block, or head widths that are not whole vectors: one output element at a time
        for (int r = 0; r < rows; r++)
            for (int dd = rows == RowBlock ? d : 0; dd < headDim; dd++)
            {
                float acc = 0f;
                float* pr = p + r * padded;
                for (int j = 0; j < steps; j++) acc = MathF.FusedMultiplyAdd(pr[j], v[j * stride + dd], acc);
                output[r * stride + dd] = acc * inverseSums[r];
            }
    }
}
