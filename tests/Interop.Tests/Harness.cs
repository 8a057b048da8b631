using Alerts.Interop.TfLite;

namespace Alerts.Interop.Tests;

internal static class Harness
{
    /// <summary>Parses the flatbuffer, converts it, and runs the ONNX graph in ONNX Runtime on one input.</summary>
    public static float[] Run(byte[] tflite, float[] x, int[] shape, HybridArithmetic hybrid = HybridArithmetic.TfLiteKernel, bool sequentialSums = true)
    {
        var onnx = TfLiteToOnnx.Convert(TfLiteModel.Parse(tflite), new TfLiteImportOptions { Hybrid = hybrid, SequentialSums = sequentialSums });
        return ReferenceCheck.Run(onnx.ToBytes(), x, shape);
    }

    public static float[] Seq(int n, float start = 0, float step = 1) => Enumerable.Range(0, n).Select(i => start + step * i).ToArray();

    public static float[] Random(int n, int seed, float scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray();
    }

    public static void Close(float[] expected, float[] actual, double tol = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>
    /// TFLite's hybrid FULLY_CONNECTED written out in plain loops from kernels/fully_connected.cc and
    /// portable_tensor_utils.cc (Symmetric/AsymmetricQuantizeFloats, MatrixBatchVectorMultiplyAccumulate), as an
    /// independent reference for the ONNX expression of it.
    /// </summary>
    public static float[] HybridFullyConnected(float[] x, int rows, int k, sbyte[] w, int units, float[] wScale, float[]? bias, bool asymmetric)
    {
        var y = new float[rows * units];
        var q = new sbyte[k];
        for (int b = 0; b < rows; b++)
        {
            var v = x.AsSpan(b * k, k);
            float sf; int offset = 0;
            if (!asymmetric)
            {
                float mn = float.MaxValue, mx = float.MinValue;
                foreach (var f in v) { mn = Math.Min(mn, f); mx = Math.Max(mx, f); }
                float range = Math.Max(Math.Abs(mn), Math.Abs(mx));
                if (range == 0) { Array.Clear(q); sf = 1; }
                else
                {
                    sf = range / 127; float inv = 127 / range;
                    for (int i = 0; i < k; i++) q[i] = (sbyte)Math.Min(127, Math.Max(-127, (int)MathF.Round(v[i] * inv, MidpointRounding.AwayFromZero)));
                }
            }
            else
            {
                float mn = float.MaxValue, mx = float.MinValue;
                foreach (var f in v) { mn = Math.Min(mn, f); mx = Math.Max(mx, f); }
                double rmin = Math.Min(0f, mn), rmax = Math.Max(0f, mx);
                if (rmin == rmax) { Array.Clear(q); sf = 1; offset = 0; }
                else
                {
                    double scale = (rmax - rmin) / 255.0;
                    double zMin = -128 - rmin / scale, zMax = 127 - rmax / scale;
                    double eMin = 128 + Math.Abs(rmin / scale), eMax = 127 + Math.Abs(rmax / scale);
                    double zd = eMin < eMax ? zMin : zMax;
                    offset = zd <= -128 ? -128 : zd >= 127 ? 127 : (int)Math.Round(zd, MidpointRounding.AwayFromZero);
                    sf = (float)scale;
                    float inv = (float)(1.0 / sf);
                    for (int i = 0; i < k; i++) q[i] = (sbyte)Math.Min(127, Math.Max(-128, (int)MathF.Round(offset + v[i] * inv, MidpointRounding.AwayFromZero)));
                }
            }
            for (int u = 0; u < units; u++)
            {
                int dot = 0, rowSum = 0;
                for (int i = 0; i < k; i++) { dot += q[i] * w[u * k + i]; rowSum += w[u * k + i]; }
                dot -= offset * rowSum;
                float s = sf * (wScale.Length == 1 ? wScale[0] : wScale[u]);
                y[b * units + u] = (bias?[u] ?? 0) + dot * s;
            }
        }
        return y;
    }
}
