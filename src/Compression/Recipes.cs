using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;

namespace Alerts.Compression;

/// <summary>A named chain of passes applied left to right ("cluster-16-folded+int8-dynamic").</summary>
public sealed record Recipe(string Name, IReadOnlyList<ICompressionPass> Passes)
{
    public OnnxModel Apply(OnnxModel model, LabelledSet? calibration)
    {
        var m = model;
        foreach (var p in Passes) m = p.Apply(m, calibration);
        return m;
    }

    /// <summary>
    /// The same recipe (same name) with an exact graph lowering inserted after every pass that changes values and
    /// before CompactNamesPass (names only). After Int8ConstantStoragePass on purpose: folding the Conv bias into the
    /// positional encoding before it would change what gets rounded to int8 (measured: t2-lsst 38.64 % → 38.59 %);
    /// after it, the embedding fold simply does not match (its constants are DequantizeLinear outputs) and the
    /// variant's outputs stay those of the recipe.
    /// </summary>
    public Recipe WithLowering(ICompressionPass lowering)
    {
        var list = Passes.ToList();
        int at = list.FindIndex(p => p is CompactNamesPass);
        list.Insert(at < 0 ? list.Count : at, lowering);
        return this with { Passes = list };
    }

    public static Recipe Of(params ICompressionPass[] passes) => new(passes.Length == 0 ? "fp32" : string.Join('+', passes.Select(p => p.Name)), passes);

    /// <summary>
    /// <see cref="Standard"/> for this model's head count (FINK's 16 when the graph has no t2 attention block, e.g. an
    /// imported TFLite graph, where the structured-pruning recipes are skipped anyway).
    /// </summary>
    public static IReadOnlyList<Recipe> StandardFor(OnnxModel model) => Standard(StructuredPruningPass.HeadCount(model) ?? 16);

    /// <summary>
    /// The variants `alerts compress` builds and measures, in report order. Structured pruning keeps all, half and a
    /// quarter of the model's attention heads (<paramref name="heads"/>, read from the graph by
    /// <see cref="StructuredPruningPass.HeadCount"/>), so variant names state the heads actually kept.
    /// </summary>
    public static IReadOnlyList<Recipe> Standard(int heads = 16)
    {
        int all = Math.Max(1, heads), half = Math.Max(1, heads / 2), quarter = Math.Max(1, heads / 4);
        // A one- or two-head model makes some of these the same recipe: build each once.
        IEnumerable<Recipe> recipes =
        [
            Of(),
            Of(new Fp16WeightsPass()),
            Of(new MagnitudePruningPass(0.5)),
            Of(new MagnitudePruningPass(0.5, PruningScope.PerLayer)),
            Of(new WeightClusteringPass(16)),
            Of(new WeightClusteringPass(16, ClusterStorage.Codebook)),
            Of(new WeightClusteringPass(16, ClusterStorage.Codebook4Bit)),
            Of(new Int8DynamicPass()),
            Of(new Int8DynamicPass(rounding: WeightRounding.Gptq)),
            Of(new Int8StaticQdqPass(CalibrationMethod.MinMax)),
            Of(new Int8StaticQdqPass(CalibrationMethod.Percentile, 99.99)),
            Of(new Int8StaticQdqPass(CalibrationMethod.Percentile, 99.99, rounding: WeightRounding.Gptq)),
            Of(new WeightClusteringPass(16), new Int8DynamicPass()),
            Of(new MagnitudePruningPass(0.5), new WeightClusteringPass(16), new Int8DynamicPass()),
            Of(new StructuredPruningPass(all, 32)),
            Of(new StructuredPruningPass(half, 64)),
            Of(new StructuredPruningPass(all, 32), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new StructuredPruningPass(all, 32), new WeightClusteringPass(16), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new StructuredPruningPass(half, 64), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
            // Heavier head pruning: t2's many narrow heads (16 of width 2 in FINK's shape) make the [B, H, T, T] attention the dominant cost, so the
            // latency goal is reachable only by dropping heads; the gate decides whether the model can afford it.
            Of(new StructuredPruningPass(half, 32), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new StructuredPruningPass(quarter, 64), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new StructuredPruningPass(quarter, 32), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
            // Smallest .onnx: pruned, 16-entry codebooks with 4-bit packed indices, int8 positional encoding, short names.
            Of(new StructuredPruningPass(all, 32), new WeightClusteringPass(16, ClusterStorage.Codebook4Bit), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new StructuredPruningPass(half, 32), new WeightClusteringPass(16, ClusterStorage.Codebook4Bit), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new StructuredPruningPass(all, 32), new WeightClusteringPass(16), new Int8StaticQdqPass(CalibrationMethod.Percentile, 99.99), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new MagnitudePruningPass(0.5), new WeightClusteringPass(16), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new WeightClusteringPass(16), new Int8ConstantStoragePass(), new CompactNamesPass()),
            // 4-bit weights on ORT's MatMulNBits kernel: the packed codes stay packed in the .ort (see MatMulNBitsPass).
            Of(new MatMulNBitsPass(32)),
            Of(new MatMulNBitsPass(32, WeightRounding.Gptq)),
            Of(new MatMulNBitsPass(16, WeightRounding.Gptq)),
            Of(new MatMulNBitsPass(32, WeightRounding.Gptq), new Int8ConstantStoragePass(), new CompactNamesPass()),
            Of(new MatMulNBitsPass(16, WeightRounding.Gptq), new Int8ConstantStoragePass(), new CompactNamesPass()),
            // Smallest .onnx: the positional encoding computed, not stored (in an .ort its 9 nodes' records cost about what it saves).
            Of(new MatMulNBitsPass(32, WeightRounding.Gptq), new ComputedPositionalEncodingPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
        ];
        return recipes.DistinctBy(r => r.Name).ToList();
    }
}
