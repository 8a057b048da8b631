using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;

namespace Alerts.Compression.Passes;

/// <summary>
/// Weight-only int8 storage for the float constants the int8 passes do not touch (t2's positional encoding, Conv
/// embedding, biases): symmetric per-tensor int8 plus a DequantizeLinear that rebuilds the float tensor under its
/// original name. ORT's constant folding leaves DequantizeLinear alone, so the saving survives in .ort files. Run it
/// last in a recipe: constants it converts are no longer initializers for later passes.
/// </summary>
public sealed class Int8ConstantStoragePass(int minElements = 64) : ICompressionPass
{
    public string Name => "int8-constants";

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        var model = source.Clone();
        model.EnsureOpset("", 13);
        var nodes = new List<NodeProto>();
        foreach (var t in model.Graph.Initializer.ToList())
        {
            if (t.DataType != Tensors.Float || Tensors.ElementCount(t) < minElements) continue;
            // contrib kernels (MatMulNBits scales) pre-pack their constant inputs and need them as initializers
            if (model.Consumers(t.Name).Any(n => n.Domain is not ("" or "ai.onnx"))) continue;
            var f = Tensors.ToFloats(t);
            float max = f.Max(MathF.Abs);
            float scale = max > 0 ? max / 127f : 1f;
            var q = new sbyte[f.Length];
            for (int i = 0; i < f.Length; i++) q[i] = (sbyte)Math.Clamp(MathF.Round(f[i] / scale, MidpointRounding.ToEven), -127, 127);
            string name = t.Name;
            model.RemoveInitializer(name);
            model.SetInitializer(Tensors.FromInt8s(name + "_int8", q, Tensors.Shape(t)));
            model.SetInitializer(Tensors.ScalarFloat(name + "_int8_scale", scale));
            model.SetInitializer(Tensors.ScalarInt8(name + "_int8_zero_point", 0));
            nodes.Add(OnnxModel.Node("DequantizeLinear", name + "_Dequantize", [name + "_int8", name + "_int8_scale", name + "_int8_zero_point"], [name]));
        }
        for (int i = 0; i < nodes.Count; i++) model.Graph.Node.Insert(i, nodes[i]);
        return model;
    }
}

/// <summary>
/// Drops doc strings and value_info and renames internal values, initializers and nodes to short generated names
/// (graph inputs and outputs keep theirs). Exporter names like "/blocks.0/attn/q/MatMul_output_0" are a large share
/// of a 30 kB model, in .onnx and even more in .ort, which stores a name and type record for every value.
/// </summary>
public sealed class CompactNamesPass : ICompressionPass
{
    public string Name => "compact";

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        var model = source.Clone();
        var g = model.Graph;
        var keep = new HashSet<string>(g.Input.Select(i => i.Name).Concat(g.Output.Select(o => o.Name)), StringComparer.Ordinal) { "" };
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        string Map(string n)
        {
            if (keep.Contains(n)) return n;
            if (!map.TryGetValue(n, out var m)) map[n] = m = Base36(map.Count);
            return m;
        }
        foreach (var t in g.Initializer) { t.Name = Map(t.Name); t.ClearDocString(); }
        int k = 0;
        foreach (var n in g.Node)
        {
            n.Name = "n" + Base36(k++);
            n.ClearDocString();
            for (int i = 0; i < n.Input.Count; i++) n.Input[i] = Map(n.Input[i]);
            for (int i = 0; i < n.Output.Count; i++) n.Output[i] = Map(n.Output[i]);
        }
        g.ValueInfo.Clear();
        g.ClearDocString();
        model.Proto.ClearDocString();
        return model;
    }

    private static string Base36(int v)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var s = "";
        do { s = digits[v % 36] + s; v /= 36; } while (v > 0);
        return "_" + s; // leading underscore: never collides with kept input/output names
    }
}
