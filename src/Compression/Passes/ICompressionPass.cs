using Alerts.Compression.Evaluation;
using Alerts.Onnx;

namespace Alerts.Compression.Passes;

/// <summary>
/// One model transformation. Passes never modify their input: they return a transformed copy, so they compose
/// (e.g. structured pruning, then clustering, then int8) and each variant stays independent.
/// </summary>
public interface ICompressionPass
{
    /// <summary>Short, stable name used in variant names and reports ("int8-dynamic", "prune-mag-50").</summary>
    string Name { get; }

    /// <summary>Returns the transformed copy. <paramref name="calibration"/> is required by data-aware passes.</summary>
    OnnxModel Apply(OnnxModel model, LabelledSet? calibration);
}

/// <summary>A MatMul whose right operand is a constant 2-D float weight W [K x N]: y = x W.</summary>
public sealed record LinearLayer(Onnx.Proto.NodeProto Node, string WeightName, int K, int N)
{
    public string InputName => Node.Input[0];
}

public static class LinearLayers
{
    /// <summary>MatMul nodes with a constant 2-D float weight, in graph order.</summary>
    public static List<LinearLayer> Find(OnnxModel model)
    {
        var list = new List<LinearLayer>();
        foreach (var n in model.Graph.Node)
        {
            if (n.OpType != "MatMul" || n.Input.Count != 2) continue;
            var w = model.Initializer(n.Input[1]);
            if (w is null || w.DataType != Tensors.Float || w.Dims.Count != 2) continue;
            list.Add(new LinearLayer(n, w.Name, (int)w.Dims[0], (int)w.Dims[1]));
        }
        return list;
    }

    /// <summary>
    /// Rewrites Gemm(A, B const, C) with alpha = beta = 1 and transA = 0 into MatMul(A, B') + Add(C), B' = B or B^T,
    /// so that every linear layer has the MatMul form the quantizers expect. Numerically identical.
    /// </summary>
    public static void GemmToMatMul(OnnxModel model)
    {
        foreach (var g in model.NodesOfType("Gemm").ToList())
        {
            var b = model.Initializer(g.Input[1]);
            if (b is null || b.DataType != Tensors.Float || b.Dims.Count != 2) continue;
            if (OnnxModel.IntAttributeOr(g, "transA", 0) != 0) continue;
            var alpha = OnnxModel.Attribute(g, "alpha"); var beta = OnnxModel.Attribute(g, "beta");
            if ((alpha is { HasF: true } && alpha.F != 1f) || (beta is { HasF: true } && beta.F != 1f)) continue;
            int rows = (int)b.Dims[0], cols = (int)b.Dims[1];
            var w = Tensors.ToFloats(b);
            bool transB = OnnxModel.IntAttributeOr(g, "transB", 0) != 0;
            float[] kn = w;
            int k = rows, n = cols;
            if (transB)
            {
                k = cols; n = rows;
                kn = new float[w.Length];
                for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) kn[c * rows + r] = w[r * cols + c];
            }
            string wName = model.UniqueName(b.Name + "_kn");
            model.SetInitializer(Tensors.FromFloats(wName, kn, k, n));
            string mm = model.UniqueName(g.Name + "_matmul_out");
            var nodes = new List<Onnx.Proto.NodeProto> { OnnxModel.Node("MatMul", model.UniqueName(g.Name + "_MatMul"), [g.Input[0], wName], [g.Input.Count > 2 ? mm : g.Output[0]]) };
            if (g.Input.Count > 2 && g.Input[2] != "")
                nodes.Add(OnnxModel.Node("Add", model.UniqueName(g.Name + "_Add"), [mm, g.Input[2]], [g.Output[0]]));
            model.Replace(g, nodes.ToArray());
        }
        model.RemoveUnusedInitializers();
    }
}
