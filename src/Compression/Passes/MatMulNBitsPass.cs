using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;

namespace Alerts.Compression.Passes;

/// <summary>
/// 4-bit block-wise weights on ONNX Runtime's contrib operator com.microsoft.MatMulNBits: every MatMul with a constant
/// W [K x N] (and Gemm, rewritten to MatMul + Add) becomes MatMulNBits(x, B, scales, zero_points) with
/// B uint8 [N, ceil(K / block), block / 2] (two codes per byte, the lower K index in the low nibble),
/// scales float [N * blocks] and zero points uint8 [N * ceil(blocks / 2)] (4 bits each, packed the same way):
/// w = (code - zero_point) * scale, asymmetric over each block's [min, max] (extended to include 0).
/// Unlike a codebook or a DequantizeLinear chain, the packed codes are an input of a node with a run-time input, so
/// ORT's constant folding cannot turn them back into float weights: the 4-bit storage survives into the .ort file,
/// and ORT's MLAS kernel dequantises block by block at run time.
/// GPTQ rounding (calibration data) quantises K rows in order and spreads each row's error over the rows left,
/// with the block scales fixed beforehand from the float weights ("static groups").
/// </summary>
public sealed class MatMulNBitsPass(int blockSize = 32, WeightRounding rounding = WeightRounding.Nearest, int accuracyLevel = 0) : ICompressionPass
{
    public const string ContribDomain = "com.microsoft";

    public string Name => $"int4-matmulnbits-b{blockSize}" + (rounding == WeightRounding.Gptq ? "-gptq" : "") + (accuracyLevel != 0 ? $"-acc{accuracyLevel}" : "");

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "MatMulNBits needs a power-of-two block size of at least 16");
        var model = source.Clone();
        LinearLayers.GemmToMatMul(model);
        var layers = LinearLayers.Find(model);
        if (layers.Count == 0) throw new InvalidOperationException("no MatMul with a constant 2-D float weight to quantise to 4 bits");
        Dictionary<string, (float[] Data, long[] Shape)>? inputs = null;
        if (rounding == WeightRounding.Gptq)
        {
            if (calibration is null) throw new ArgumentException("GPTQ rounding needs calibration data (--data provides it).");
            inputs = OrtModelRunner.CaptureActivations(model, calibration, layers.Select(l => l.InputName).Distinct().ToList());
        }
        model.EnsureOpset(ContribDomain, 1);
        foreach (var l in layers)
        {
            var w = Tensors.ToFloats(model.Initializer(l.WeightName)!);
            var q = Int4BlockQuantizer.Quantize(w, l.K, l.N, blockSize, inputs is null ? null : inputs[l.InputName].Data);
            string stem = model.UniqueName(l.WeightName + "_q4");
            model.SetInitializer(Tensors.FromUint8s(stem, q.Packed, l.N, q.Blocks, blockSize / 2));
            model.SetInitializer(Tensors.FromFloats(stem + "_scales", q.Scales, q.Scales.Length));
            model.SetInitializer(Tensors.FromUint8s(stem + "_zero_points", q.ZeroPoints, q.ZeroPoints.Length));
            var node = OnnxModel.Node("MatMulNBits", l.Node.Name + "_MatMulNBits", [l.InputName, stem, stem + "_scales", stem + "_zero_points"], [l.Node.Output[0]], ContribDomain,
                OnnxModel.IntAttribute("K", l.K), OnnxModel.IntAttribute("N", l.N), OnnxModel.IntAttribute("bits", 4),
                OnnxModel.IntAttribute("block_size", blockSize), OnnxModel.IntAttribute("accuracy_level", accuracyLevel));
            model.Replace(l.Node, node);
        }
        model.RemoveUnusedInitializers();
        return model;
    }
}

/// <summary>4-bit asymmetric block quantisation of W [K x N] along K, in MatMulNBits' layout.</summary>
internal static class Int4BlockQuantizer
{
    public sealed record Result(byte[] Packed, float[] Scales, byte[] ZeroPoints, int Blocks, byte[] Codes);

    /// <param name="x">Calibration inputs [rows x K] for GPTQ rounding, or null for round-to-nearest.</param>
    public static Result Quantize(float[] w, int k, int n, int blockSize, float[]? x, double damp = 0.01)
    {
        int blocks = (k + blockSize - 1) / blockSize;
        var scales = new float[n * blocks];
        var zps = new byte[n * blocks];
        for (int c = 0; c < n; c++)
            for (int b = 0; b < blocks; b++)
            {
                float lo = 0, hi = 0;
                for (int r = b * blockSize; r < Math.Min(k, (b + 1) * blockSize); r++) { lo = Math.Min(lo, w[r * n + c]); hi = Math.Max(hi, w[r * n + c]); }
                float s = (hi - lo) / 15f;
                if (s <= 0) { scales[c * blocks + b] = 1f; zps[c * blocks + b] = 8; continue; }
                scales[c * blocks + b] = s;
                zps[c * blocks + b] = (byte)Math.Clamp(MathF.Round(-lo / s), 0, 15);
            }
        int Code(double v, int r, int c)
        {
            int i = c * blocks + r / blockSize;
            return (int)Math.Clamp(Math.Round(v / scales[i] + zps[i], MidpointRounding.ToEven), 0, 15);
        }
        double Value(int code, int r, int c) { int i = c * blocks + r / blockSize; return (code - zps[i]) * (double)scales[i]; }

        var codes = new byte[k * n];
        if (x is null)
        {
            for (int r = 0; r < k; r++) for (int c = 0; c < n; c++) codes[r * n + c] = (byte)Code(w[r * n + c], r, c);
        }
        else Gptq(w, k, n, x, x.Length / k, damp, codes, Code, Value);

        // MatMulNBits layout: B[c, block, j] = code(K index 2j) | code(K index 2j + 1) << 4 within the block;
        // rows past K (padding of the last block) hold the zero point, i.e. weight 0.
        var packed = new byte[n * blocks * blockSize / 2];
        for (int c = 0; c < n; c++)
            for (int b = 0; b < blocks; b++)
                for (int j = 0; j < blockSize / 2; j++)
                {
                    int r0 = b * blockSize + 2 * j, r1 = r0 + 1;
                    int zp = zps[c * blocks + b];
                    int lo = r0 < k ? codes[r0 * n + c] : zp, hi = r1 < k ? codes[r1 * n + c] : zp;
                    packed[(c * blocks + b) * (blockSize / 2) + j] = (byte)(lo | hi << 4);
                }
        int zpBytesPerColumn = (blocks + 1) / 2;
        var packedZps = new byte[n * zpBytesPerColumn];
        for (int c = 0; c < n; c++)
            for (int b = 0; b < blocks; b++)
                packedZps[c * zpBytesPerColumn + b / 2] |= (byte)(zps[c * blocks + b] << (b % 2 == 0 ? 0 : 4));
        return new Result(packed, scales, packedZps, blocks, codes);
    }

    /// <summary>
    /// GPTQ over K rows with fixed (static-group) scales: the same error propagation as <see cref="Quantizers.Gptq"/>
    /// (upper Cholesky factor of the dampened inverse Hessian of X^T X), with 4-bit block codes.
    /// </summary>
    private static void Gptq(float[] weight, int k, int n, float[] x, int rows, double damp, byte[] codes, Func<double, int, int, int> code, Func<int, int, int, double> value) =>
        Quantizers.GptqRows(weight, k, n, x, rows, damp, (v, i, c) =>
        {
            int q = code(v, i, c);
            codes[i * n + c] = (byte)q;
            return value(q, i, c);
        });

    /// <summary>The float weights W [K x N] that MatMulNBits computes with (for tests and error bounds).</summary>
    public static float[] Dequantize(Result q, int k, int n, int blockSize)
    {
        var w = new float[k * n];
        for (int r = 0; r < k; r++)
            for (int c = 0; c < n; c++)
            {
                int i = c * q.Blocks + r / blockSize;
                w[r * n + c] = (q.Codes[r * n + c] - ZeroPoint(q, c, r / blockSize)) * q.Scales[i];
            }
        return w;
    }

    public static int ZeroPoint(Result q, int column, int block) => (q.ZeroPoints[column * ((q.Blocks + 1) / 2) + block / 2] >> (block % 2 == 0 ? 0 : 4)) & 0xF;
}
