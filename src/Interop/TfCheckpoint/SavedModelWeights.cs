using System.Runtime.InteropServices;
using Alerts.Interop.TfLite;

namespace Alerts.Interop.TfCheckpoint;

/// <summary>
/// Puts the fp32 weights of FINK's earlier t2 SavedModel onto the graph read from the published TFLite t2: the two are
/// the same astronet architecture (1×1 conv embedding 2→32, one transformer block with 16 heads of 2, FF 128→32, two
/// layer norms, pooling, dense 14), so the TFLite graph supplies the structure and the checkpoint every trainable
/// tensor. TF variable names map to TFLite tensor names by rule (Keras kernels are [in, out]; TFLite
/// FULLY_CONNECTED wants [out, in]; Conv1D [k, in, out] becomes CONV_2D OHWI). Every trainable variable must be used
/// exactly once and every shape must agree, or the import fails naming the variable. Architecture constants
/// (positional encoding, layer-norm epsilon, 1/√d attention scale) stay as the TFLite file has them.
/// </summary>
public static class SavedModelWeights
{
    /// <summary>(TFLite tensor name, TF variable name, layout change).</summary>
    private static readonly (string TfLite, string Variable, Layout Layout)[] Map =
    [
        ("model/conv_embedding/conv1d/Conv1D", "conv_embedding/conv1d/kernel", Layout.Conv1DToOhwi),
        ("model/conv_embedding/conv1d/BiasAdd/ReadVariableOp", "conv_embedding/conv1d/bias", Layout.Same),
        ("model/transformer_block/multi_head_self_attention/dense/Tensordot/MatMul", "transformer_block/multi_head_self_attention/dense/kernel", Layout.Transpose),
        ("model/transformer_block/multi_head_self_attention/dense/BiasAdd/ReadVariableOp", "transformer_block/multi_head_self_attention/dense/bias", Layout.Same),
        ("model/transformer_block/multi_head_self_attention/dense_1/Tensordot/MatMul", "transformer_block/multi_head_self_attention/dense_1/kernel", Layout.Transpose),
        ("model/transformer_block/multi_head_self_attention/dense_1/BiasAdd/ReadVariableOp", "transformer_block/multi_head_self_attention/dense_1/bias", Layout.Same),
        ("model/transformer_block/multi_head_self_attention/dense_2/Tensordot/MatMul", "transformer_block/multi_head_self_attention/dense_2/kernel", Layout.Transpose),
        ("model/transformer_block/multi_head_self_attention/dense_2/BiasAdd/ReadVariableOp", "transformer_block/multi_head_self_attention/dense_2/bias", Layout.Same),
        ("model/transformer_block/multi_head_self_attention/dense_3/Tensordot/MatMul", "transformer_block/multi_head_self_attention/dense_3/kernel", Layout.Transpose),
        ("model/transformer_block/multi_head_self_attention/dense_3/BiasAdd/ReadVariableOp", "transformer_block/multi_head_self_attention/dense_3/bias", Layout.Same),
        ("model/transformer_block/sequential/dense_4/Tensordot/MatMul", "dense_4/kernel", Layout.Transpose),
        ("model/transformer_block/sequential/dense_4/BiasAdd/ReadVariableOp", "dense_4/bias", Layout.Same),
        ("model/transformer_block/sequential/dense_5/Tensordot/MatMul", "dense_5/kernel", Layout.Transpose),
        ("model/transformer_block/sequential/dense_5/BiasAdd/ReadVariableOp", "dense_5/bias", Layout.Same),
        ("model/transformer_block/layer_normalization/batchnorm/mul/ReadVariableOp", "transformer_block/layer_normalization/gamma", Layout.Same),
        ("model/transformer_block/layer_normalization/batchnorm/ReadVariableOp", "transformer_block/layer_normalization/beta", Layout.Same),
        ("model/transformer_block/layer_normalization_1/batchnorm/mul/ReadVariableOp", "transformer_block/layer_normalization_1/gamma", Layout.Same),
        ("model/transformer_block/layer_normalization_1/batchnorm/ReadVariableOp", "transformer_block/layer_normalization_1/beta", Layout.Same),
        ("model/cluster_dense_6/MatMul", "dense_6/kernel", Layout.Transpose),
        ("model/cluster_dense_6/BiasAdd/ReadVariableOp", "dense_6/bias", Layout.Same),
    ];

    private enum Layout { Same, Transpose, Conv1DToOhwi }

    /// <summary>A copy of <paramref name="architecture"/> whose trainable tensors hold the checkpoint's float weights.</summary>
    public static TfLiteModel Apply(TfLiteModel architecture, IReadOnlyDictionary<string, CheckpointVariable> variables, List<string> notes)
    {
        var main = architecture.Main;
        var buffers = architecture.Buffers.ToList();
        var tensors = main.Tensors.ToList();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (tfl, varName, layout) in Map)
        {
            int idx = tensors.FindIndex(t => t.Name == tfl);
            if (idx < 0) throw new InvalidDataException($"the architecture graph has no tensor '{tfl}' (expected FINK's t2 TFLite layout) for variable '{varName}'");
            if (!variables.TryGetValue(varName, out var v)) throw new InvalidDataException($"the checkpoint has no variable '{varName}' (needed for TFLite tensor '{tfl}')");
            var t = tensors[idx];
            float[] values = layout switch
            {
                Layout.Same => v.Values,
                Layout.Transpose when v.Shape.Length == 2 => Transpose(v.Values, v.Shape[0], v.Shape[1]),
                Layout.Conv1DToOhwi when v.Shape is [1, var ci, var co] => ConvOhwi(v.Values, ci, co),
                _ => throw new InvalidDataException($"variable '{varName}' has shape [{string.Join(",", v.Shape)}], which does not fit {layout}"),
            };
            long expected = t.Shape.Aggregate(1L, (a, d) => a * d);
            if (values.Length != expected)
                throw new InvalidDataException($"variable '{varName}' [{string.Join(",", v.Shape)}] has {values.Length} values; TFLite tensor '{tfl}' [{string.Join(",", t.Shape)}] needs {expected}");
            buffers.Add(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            tensors[idx] = t with { Type = TfLiteType.Float32, Quantization = null, Buffer = buffers.Count - 1 };
            used.Add(varName);
        }
        var unused = variables.Keys.Where(k => !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
            throw new InvalidDataException($"checkpoint variables with no place in the t2 architecture: {string.Join(", ", unused)}");
        notes.Add($"{Map.Length} trainable tensors taken from the checkpoint (fp32); architecture and constants from the TFLite graph");
        var newMain = new TfLiteSubgraph { Name = main.Name, Tensors = tensors, Inputs = main.Inputs, Outputs = main.Outputs, Operators = main.Operators };
        return new TfLiteModel
        {
            Version = architecture.Version, Description = architecture.Description, Buffers = buffers,
            Subgraphs = [newMain, .. architecture.Subgraphs.Skip(1)], SignatureNames = architecture.SignatureNames,
        };
    }

    private static float[] Transpose(float[] w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
        return t;
    }

    private static float[] ConvOhwi(float[] w, int ci, int co)
    {
        var t = new float[w.Length];
        for (int i = 0; i < ci; i++) for (int o = 0; o < co; o++) t[o * ci + i] = w[i * co + o];
        return t;
    }
}
