namespace Alerts.Tests.Shared;

/// <summary>
/// Multi-head self-attention as the textbook writes it, in double precision: per head, the scores, a max-shifted
/// softmax, then P·V; tensors [batch, steps, heads·headDim]. The independent oracle for Alerts' fused kernel
/// (tests/OrtKernels.Tests on the kernel, tests/Compression.Tests on the op inside ONNX Runtime).
/// </summary>
public static class TextbookAttention
{
    public static float[] Compute(float[] q, float[] k, float[] v, int batch, int steps, int heads, int headDim, float scale)
    {
        int width = heads * headDim;
        var o = new float[q.Length];
        var s = new double[steps];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < steps; i++)
                {
                    int qi = (b * steps + i) * width + h * headDim;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < steps; j++)
                    {
                        int kj = (b * steps + j) * width + h * headDim;
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) dot += (double)q[qi + d] * k[kj + d];
                        s[j] = dot * scale;
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < steps; j++) sum += s[j] = Math.Exp(s[j] - max);
                    for (int d = 0; d < headDim; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < steps; j++) acc += s[j] * v[(b * steps + j) * width + h * headDim + d];
                        o[qi + d] = (float)(acc / sum);
                    }
                }
        return o;
    }
}
