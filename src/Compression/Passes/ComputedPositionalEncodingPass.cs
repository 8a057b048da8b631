using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;

namespace Alerts.Compression.Passes;

/// <summary>
/// Replaces a stored sinusoidal positional encoding PE [T x d] (PE[t, 2i] = sin(t ω_i), PE[t, 2i+1] = cos(t ω_i),
/// ω_i = 10000^(-2i/d)) by the few nodes that compute it: t = Range(0, T) with T read from the graph input's shape,
/// PE = Sin(t ω' + φ) with ω'[j] = ω_(j/2) and φ[j] = 0 or π/2 (cos x = sin(x + π/2)); 2 x d floats instead of T x d.
/// In t2 that is 12,800 B of 71,639 (3,200 B after int8 storage). T comes from Shape(input) so that ORT's constant
/// folding, which would write the float table back into an .ort, cannot evaluate it (the batch dimension is symbolic).
/// Only tensors that match the formula to 1e-5 are replaced; a model without one is left unchanged.
/// </summary>
public sealed class ComputedPositionalEncodingPass(double tolerance = 1e-5) : ICompressionPass
{
    public string Name => "pe-computed";

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        var model = source.Clone();
        var input = model.Graph.Input.FirstOrDefault(i => !model.IsInitializer(i.Name));
        var dims = input?.Type?.TensorType?.Shape?.Dim;
        foreach (var t in model.Graph.Initializer.ToList())
        {
            if (t.DataType != Tensors.Float || t.Dims.Count != 2 || t.Dims[1] % 2 != 0) continue;
            int steps = (int)t.Dims[0], width = (int)t.Dims[1];
            int axis = dims is null ? -1 : dims.ToList().FindIndex(d => d.HasDimValue && d.DimValue == steps);
            if (axis < 0 || !IsSinusoidal(Tensors.ToFloats(t), steps, width)) continue;
            var (omega, phase) = Frequencies(width);
            string p = model.UniqueName(t.Name + "_computed");
            model.RemoveInitializer(t.Name);
            model.SetInitializer(Tensors.FromInt64s(p + "_axis", [axis]));
            model.SetInitializer(Tensors.ScalarFloat(p + "_zero", 0f));
            model.SetInitializer(Tensors.ScalarFloat(p + "_one", 1f));
            model.SetInitializer(Tensors.FromInt64s(p + "_column", [-1, 1], 2));
            model.SetInitializer(Tensors.FromFloats(p + "_omega", omega, width));
            model.SetInitializer(Tensors.FromFloats(p + "_phase", phase, width));
            NodeProto[] nodes =
            [
                OnnxModel.Node("Shape", p + "_Shape", [input!.Name], [p + "_shape"]),
                OnnxModel.Node("Gather", p + "_Steps", [p + "_shape", p + "_axis"], [p + "_steps_int"], null, OnnxModel.IntAttribute("axis", 0)),
                OnnxModel.Node("Cast", p + "_Cast", [p + "_steps_int"], [p + "_steps_1"], null, OnnxModel.IntAttribute("to", Tensors.Float)),
                OnnxModel.Node("Squeeze", p + "_Squeeze", [p + "_steps_1"], [p + "_steps"]),
                OnnxModel.Node("Range", p + "_Range", [p + "_zero", p + "_steps", p + "_one"], [p + "_t"]),
                OnnxModel.Node("Reshape", p + "_Column", [p + "_t", p + "_column"], [p + "_t_column"]),
                OnnxModel.Node("Mul", p + "_Angle", [p + "_t_column", p + "_omega"], [p + "_angle"]),
                OnnxModel.Node("Add", p + "_Phase", [p + "_angle", p + "_phase"], [p + "_shifted"]),
                OnnxModel.Node("Sin", p + "_Sin", [p + "_shifted"], [t.Name]),
            ];
            for (int i = 0; i < nodes.Length; i++) model.Graph.Node.Insert(i, nodes[i]);
        }
        return model;
    }

    private static (float[] Omega, float[] Phase) Frequencies(int width)
    {
        var omega = new float[width];
        var phase = new float[width];
        for (int j = 0; j < width; j++)
        {
            omega[j] = (float)Math.Exp(-(j - j % 2) * Math.Log(10000.0) / width);
            phase[j] = j % 2 == 0 ? 0f : (float)(Math.PI / 2);
        }
        return (omega, phase);
    }

    /// <summary>True when <paramref name="pe"/> [steps x width] is the standard sinusoidal table (to the tolerance).</summary>
    private bool IsSinusoidal(float[] pe, int steps, int width)
    {
        for (int t = 0; t < steps; t++)
            for (int j = 0; j < width; j++)
            {
                double angle = t * Math.Exp(-(j - j % 2) * Math.Log(10000.0) / width);
                double expected = j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
                if (Math.Abs(pe[t * width + j] - expected) > tolerance) return false;
            }
        return true;
    }
}
