using Alerts.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Alerts.Interop.TfLite;

/// <summary>How far an ONNX model's outputs are from reference outputs (TFLite's, from tools/tflite-referee).</summary>
public sealed record ReferenceComparison(int Rows, int Columns, double MaxAbsDiff, int WorstRow, double MeanAbsDiff, int ArgmaxAgreements)
{
    public bool Within(double tolerance) => MaxAbsDiff <= tolerance;
}

public static class ReferenceCheck
{
    /// <summary>Runs <paramref name="onnxBytes"/> on every row of <paramref name="inputs"/> (float32 [N, ...]) in one batch and compares with <paramref name="expected"/> [N, C].</summary>
    public static ReferenceComparison Compare(byte[] onnxBytes, NpyArray inputs, NpyArray expected)
    {
        if (inputs.Floats is null) throw new InvalidDataException("reference inputs must be float32");
        if (expected.Floats is null || expected.Shape.Length != 2) throw new InvalidDataException("reference outputs must be float32 [N, classes]");
        int n = inputs.Shape[0];
        if (expected.Shape[0] != n) throw new InvalidDataException($"reference inputs have {n} rows but outputs have {expected.Shape[0]}");
        var actual = Run(onnxBytes, inputs.Floats, inputs.Shape);
        int c = expected.Shape[1];
        if (actual.Length != n * c) throw new InvalidDataException($"the model gives {actual.Length / Math.Max(1, n)} values per row; the reference has {c}");
        double max = 0, sum = 0; int worst = -1, agree = 0;
        for (int r = 0; r < n; r++)
        {
            int am = 0, em = 0;
            for (int k = 0; k < c; k++)
            {
                double d = Math.Abs(actual[r * c + k] - expected.Floats[r * c + k]);
                if (!(d <= max)) { max = d; worst = r; }
                sum += d;
                if (actual[r * c + k] > actual[r * c + am]) am = k;
                if (expected.Floats[r * c + k] > expected.Floats[r * c + em]) em = k;
            }
            if (am == em) agree++;
        }
        return new ReferenceComparison(n, c, max, worst, sum / Math.Max(1, n * c), agree);
    }

    /// <summary>One single-threaded CPU session run over all rows.</summary>
    public static float[] Run(byte[] onnxBytes, float[] x, int[] shape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnxBytes, options);
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape.Select(d => (long)d).ToArray());
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [input], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
