using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;

namespace Alerts.Compression.Passes;

public enum PruningScope { Global, PerLayer }

/// <summary>
/// Unstructured magnitude pruning of linear-layer weights (MatMul / Gemm constants, 2-D): the smallest |w| are set
/// to zero, either <paramref name="sparsity"/> of each layer, or of all layers pooled (global threshold). Zeros do not
/// speed up ORT's dense CPU kernels; they make the file compress better (see the gzip column of the report).
/// </summary>
public sealed class MagnitudePruningPass(double sparsity, PruningScope scope = PruningScope.Global) : ICompressionPass
{
    public string Name => $"prune-mag{(scope == PruningScope.Global ? "" : "-layer")}-{Math.Round(sparsity * 100)}";

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        if (sparsity is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(sparsity), "sparsity must be in [0, 1)");
        var model = source.Clone();
        var weights = WeightTensors(model);
        if (scope == PruningScope.Global)
        {
            var all = weights.SelectMany(t => Tensors.ToFloats(t).Select(MathF.Abs)).ToArray();
            float threshold = Threshold(all, sparsity);
            foreach (var t in weights) Prune(model, t, threshold);
        }
        else
            foreach (var t in weights)
            {
                var abs = Tensors.ToFloats(t).Select(MathF.Abs).ToArray();
                Prune(model, t, Threshold(abs, sparsity));
            }
        return model;
    }

    /// <summary>The constant 2-D float weights of MatMul and Gemm nodes.</summary>
    internal static List<TensorProto> WeightTensors(OnnxModel model)
    {
        var names = new List<string>();
        foreach (var n in model.Graph.Node)
            if ((n.OpType is "MatMul" or "Gemm") && n.Input.Count > 1 && model.Initializer(n.Input[1]) is { DataType: Tensors.Float, Dims.Count: 2 } && !names.Contains(n.Input[1]))
                names.Add(n.Input[1]);
        return names.Select(n => model.Initializer(n)!).ToList();
    }

    private static float Threshold(float[] abs, double sparsity)
    {
        var sorted = (float[])abs.Clone();
        Array.Sort(sorted);
        int k = (int)Math.Round(sparsity * sorted.Length);
        return k == 0 ? -1 : sorted[k - 1];
    }

    private static void Prune(OnnxModel model, TensorProto t, float threshold)
    {
        var w = Tensors.ToFloats(t);
        for (int i = 0; i < w.Length; i++) if (MathF.Abs(w[i]) <= threshold) w[i] = 0;
        model.SetInitializer(Tensors.FromFloats(t.Name, w, Tensors.Shape(t)));
    }

    public static double Sparsity(OnnxModel model)
    {
        long zeros = 0, total = 0;
        foreach (var t in WeightTensors(model)) foreach (var v in Tensors.ToFloats(t)) { total++; if (v == 0) zeros++; }
        return total == 0 ? 0 : (double)zeros / total;
    }
}

/// <summary>How clustered weights are stored.</summary>
public enum ClusterStorage
{
    /// <summary>Each weight replaced by its centroid, still float32: same graph, far fewer distinct values (gzip wins).</summary>
    Folded,
    /// <summary>A float codebook [k] plus uint8 indices, rebuilt in the graph by Cast(int32) -> Gather.</summary>
    Codebook,
    /// <summary>
    /// k ≤ 16: a float codebook plus 4-bit indices packed two per byte (element 2j in the low nibble of byte j, 2j+1 in
    /// the high one), unpacked in the graph by Cast(int32) -> Mod/Div 16 -> Concat -> Reshape -> Gather (opset-13 ops,
    /// no BitShift/BitwiseAnd needed). Halves the index bytes of <see cref="Codebook"/> in the .onnx file; ORT folds
    /// the unpacking into float weights when it saves an optimised .ort, so it does not shrink .ort files.
    /// </summary>
    Codebook4Bit,
}

/// <summary>
/// Weight clustering: 1-D k-means per weight tensor (MatMul / Gemm / Conv constants with at least
/// <paramref name="minElements"/> values). Centroids start evenly spaced between min and max (deterministic, and
/// the linear initialisation Han et al. found best for Deep Compression), then Lloyd iterations.
/// </summary>
public sealed class WeightClusteringPass(int clusters = 16, ClusterStorage storage = ClusterStorage.Folded, int minElements = 256, int iterations = 30) : ICompressionPass
{
    public string Name => $"cluster-{clusters}" + storage switch { ClusterStorage.Codebook => "-codebook", ClusterStorage.Codebook4Bit => "-codebook4", _ => "-folded" };

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        if (clusters is < 2 or > 256) throw new ArgumentOutOfRangeException(nameof(clusters), "k must be in 2..256 (indices are uint8)");
        if (storage == ClusterStorage.Codebook4Bit && clusters > 16) throw new ArgumentOutOfRangeException(nameof(clusters), "4-bit packed indices hold k ≤ 16 clusters");
        var model = source.Clone();
        var targets = new List<TensorProto>();
        foreach (var n in model.Graph.Node)
            if (n.OpType is "MatMul" or "Gemm" or "Conv")
                foreach (var i in n.Input.Skip(1).Take(1))
                    if (model.Initializer(i) is { DataType: Tensors.Float } t && Tensors.ElementCount(t) >= minElements && !targets.Contains(t)) targets.Add(t);
        var gathers = new List<NodeProto>();
        foreach (var t in targets)
        {
            var w = Tensors.ToFloats(t);
            var (centroids, assignment) = KMeans1D(w, clusters, iterations);
            if (storage == ClusterStorage.Folded)
            {
                var folded = new float[w.Length];
                for (int i = 0; i < w.Length; i++) folded[i] = centroids[assignment[i]];
                model.SetInitializer(Tensors.FromFloats(t.Name, folded, Tensors.Shape(t)));
            }
            else if (storage == ClusterStorage.Codebook4Bit && w.Length % 2 == 0)
            {
                string name = t.Name;
                model.RemoveInitializer(name);
                var packed = new byte[w.Length / 2];
                for (int j = 0; j < packed.Length; j++) packed[j] = (byte)(assignment[2 * j] | (assignment[2 * j + 1] << 4));
                model.SetInitializer(Tensors.FromFloats(name + "_codebook", centroids, centroids.Length));
                model.SetInitializer(Tensors.FromUint8s(name + "_packed", packed, packed.Length));
                model.SetInitializer(Tensors.FromInt64s(name + "_shape", Tensors.Shape(t), Tensors.Shape(t).Length));
                if (model.Initializer(Sixteen) is null) model.SetInitializer(Tensors.FromInt32s(Sixteen, [16]));
                if (model.Initializer(Column) is null) model.SetInitializer(Tensors.FromInt64s(Column, [-1L, 1L], 2));
                gathers.Add(OnnxModel.Node("Cast", name + "_PackedCast", [name + "_packed"], [name + "_p"], null, OnnxModel.IntAttribute("to", Tensors.Int32)));
                gathers.Add(OnnxModel.Node("Mod", name + "_Low", [name + "_p", Sixteen], [name + "_lo"]));
                gathers.Add(OnnxModel.Node("Div", name + "_High", [name + "_p", Sixteen], [name + "_hi"]));
                gathers.Add(OnnxModel.Node("Reshape", name + "_LowColumn", [name + "_lo", Column], [name + "_lo2"]));
                gathers.Add(OnnxModel.Node("Reshape", name + "_HighColumn", [name + "_hi", Column], [name + "_hi2"]));
                gathers.Add(OnnxModel.Node("Concat", name + "_Interleave", [name + "_lo2", name + "_hi2"], [name + "_pairs"], null, OnnxModel.IntAttribute("axis", 1)));
                gathers.Add(OnnxModel.Node("Reshape", name + "_Indices", [name + "_pairs", name + "_shape"], [name + "_indices_int32"]));
                gathers.Add(OnnxModel.Node("Gather", name + "_Gather", [name + "_codebook", name + "_indices_int32"], [name], null, OnnxModel.IntAttribute("axis", 0)));
            }
            else
            {
                string name = t.Name;
                model.RemoveInitializer(name);
                model.SetInitializer(Tensors.FromFloats(name + "_codebook", centroids, centroids.Length));
                model.SetInitializer(Tensors.FromUint8s(name + "_indices", assignment, Tensors.Shape(t)));
                gathers.Add(OnnxModel.Node("Cast", name + "_IndexCast", [name + "_indices"], [name + "_indices_int32"], null, OnnxModel.IntAttribute("to", Tensors.Int32)));
                gathers.Add(OnnxModel.Node("Gather", name + "_Gather", [name + "_codebook", name + "_indices_int32"], [name], null, OnnxModel.IntAttribute("axis", 0)));
            }
        }
        for (int i = 0; i < gathers.Count; i++) model.Graph.Node.Insert(i, gathers[i]);
        return model;
    }

    private const string Sixteen = "cluster_nibble_16";
    private const string Column = "cluster_nibble_column";

    public static (float[] Centroids, byte[] Assignment) KMeans1D(float[] values, int k, int iterations)
    {
        float lo = values.Min(), hi = values.Max();
        k = Math.Min(k, values.Distinct().Count());
        var c = new double[k];
        for (int j = 0; j < k; j++) c[j] = k == 1 ? lo : lo + (hi - lo) * j / (k - 1);
        var assign = new byte[values.Length];
        var sum = new double[k]; var count = new int[k];
        for (int it = 0; it < iterations; it++)
        {
            Array.Clear(sum); Array.Clear(count);
            bool changed = false;
            for (int i = 0; i < values.Length; i++)
            {
                int best = 0; double bd = double.MaxValue;
                for (int j = 0; j < k; j++) { double d = Math.Abs(values[i] - c[j]); if (d < bd) { bd = d; best = j; } }
                if (assign[i] != best || it == 0) { changed |= assign[i] != best; assign[i] = (byte)best; }
                sum[best] += values[i]; count[best]++;
            }
            for (int j = 0; j < k; j++) if (count[j] > 0) c[j] = sum[j] / count[j];
            if (!changed && it > 0) break;
        }
        return (c.Select(v => (float)v).ToArray(), assign);
    }
}
