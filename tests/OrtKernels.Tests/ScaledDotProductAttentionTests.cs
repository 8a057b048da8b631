using Alerts.OrtKernels;
using Alerts.Tests.Shared;
using CsCheck;

namespace Alerts.OrtKernels.Tests;

public class ScaledDotProductAttentionTests
{
    private static float[] Random(int n, int seed, float range)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * range).ToArray();
    }

    [Theory]
    [InlineData(1, 100, 4, 8)]     // t2's shape (4 heads of width 8)
    [InlineData(3, 100, 16, 2)]    // FINK's shape (16 heads of width 2): the scalar P·V path
    [InlineData(2, 7, 2, 16)]      // fewer steps than one vector; two vectors per head row
    [InlineData(2, 13, 3, 5)]      // odd everything: partial row blocks and a padded tail
    [InlineData(1, 1, 1, 1)]       // one step: the output is V
    public void Matches_the_double_precision_textbook_attention(int batch, int steps, int heads, int headDim)
    {
        int n = batch * steps * heads * headDim;
        float[] q = Random(n, 1, 2f), k = Random(n, 2, 2f), v = Random(n, 3, 3f), o = new float[n];
        float scale = 1f / MathF.Sqrt(headDim);
        ScaledDotProductAttention.Compute(q, k, v, o, batch, steps, heads, headDim, scale);
        var expected = TextbookAttention.Compute(q, k, v, batch, steps, heads, headDim, scale);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(o[i] - expected[i]) <= 2e-6 + 2e-6 * Math.Abs(expected[i]), $"element {i}: {o[i]} vs {expected[i]}");
    }

    [Fact]
    public void Property_output_rows_are_convex_combinations_of_the_value_rows_and_match_the_reference()
    {
        // Any shape and any scores, including huge ones (the max shift must keep exp finite): every output element
        // lies within [min, max] of that head's value column. Where the scores are moderate (|s| ≤ ~50) it also
        // agrees with the double reference; beyond that float32 rounding of the score itself (1e-7 relative)
        // moves exp by more than any fixed tolerance, in ORT's kernels as in this one.
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 40], Gen.Int[1, 5], Gen.Int[1, 12], Gen.Float[0.01f, 30f], Gen.Int)
            .Sample((batch, steps, heads, headDim, range, seed) =>
            {
                int n = batch * steps * heads * headDim;
                float[] q = Random(n, seed, range), k = Random(n, seed + 1, range), v = Random(n, seed + 2, 5f), o = new float[n];
                ScaledDotProductAttention.Compute(q, k, v, o, batch, steps, heads, headDim, 1f / MathF.Sqrt(headDim));
                var expected = TextbookAttention.Compute(q, k, v, batch, steps, heads, headDim, 1f / MathF.Sqrt(headDim));
                int width = heads * headDim;
                bool moderate = range * range * headDim / MathF.Sqrt(headDim) <= 50;
                for (int i = 0; i < n; i++)
                {
                    if (!float.IsFinite(o[i]) || (moderate && Math.Abs(o[i] - expected[i]) > 1e-5 + 1e-5 * Math.Abs(expected[i]))) return false;
                    int b = i / (steps * width), col = i % width;
                    float lo = float.MaxValue, hi = float.MinValue;
                    for (int j = 0; j < steps; j++) { float x = v[(b * steps + j) * width + col]; lo = Math.Min(lo, x); hi = Math.Max(hi, x); }
                    if (o[i] < lo - 1e-5f || o[i] > hi + 1e-5f) return false;
                }
                return true;
            }, iter: 300);
    }

    [Fact]
    public void Property_vector_exp_is_within_two_float_ulps_of_exp_on_the_softmax_range()
    {
        Gen.Float[-87f, 0f].Array[8].Sample(xs =>
        {
            var e = ScaledDotProductAttention.Exp(System.Runtime.Intrinsics.Vector256.Create(xs));
            for (int i = 0; i < 8; i++)
            {
                double exact = Math.Exp(xs[i]);
                double ulp = MathF.BitIncrement((float)exact) - (float)exact;
                if (Math.Abs(e[i] - exact) > 2 * ulp) return false;
            }
            return true;
        }, iter: 2000);
        Assert.Equal(1f, ScaledDotProductAttention.Exp(System.Runtime.Intrinsics.Vector256<float>.Zero)[0]);
        Assert.InRange(ScaledDotProductAttention.Exp(System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity))[0], 0f, 1.3e-38f);
    }

    [Fact]
    public void Rejects_inputs_whose_length_does_not_match_the_shape()
    {
        var ex = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(new float[10], new float[10], new float[10], new float[10], 1, 5, 1, 3, 1f));
        Assert.Contains("needs 15", ex.Message);
    }
}

public class AlertsOperatorsTests
{
    [Fact]
    public void Sessions_built_at_once_on_many_threads_all_load_the_custom_domain()
    {
        // ORT's first-use registration of a custom domain is not thread-safe; Register does it once, up front.
        var model = AlertsOperators.WarmUpModel();
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            try
            {
                using var options = AlertsOperators.Register(new Microsoft.ML.OnnxRuntime.SessionOptions());
                using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model, options);
                using var x = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new float[] { 3f }, [1, 1, 1]);
                using var results = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["x"], [x], ["o"]);
                Assert.Equal(3f, results[0].GetTensorDataAsSpan<float>()[0]);   // one key: the output is its value
            }
            catch (Exception e) { errors.Add(e); }
        });
        Assert.Empty(errors);
    }
}
