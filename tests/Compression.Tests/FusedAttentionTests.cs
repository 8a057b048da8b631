using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;
using Alerts.Compression.Passes;
using Alerts.OrtKernels;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Alerts.Compression.Tests;

/// <summary>Alerts' fused attention kernel (src/OrtKernels) as ORT runs it, and the lowering that writes it into t2.</summary>
public class FusedAttentionTests
{
    private static readonly Lazy<OnnxModel> Trained = new(() => OnnxModel.Load(Fixtures.TrainedModel));
    private static readonly Lazy<float[]> Fp32Probabilities = new(() => { using var r = new OrtModelRunner(Trained.Value.ToBytes()); return r.Predict(Fixtures.Eval); });

    /// <summary>O = ai.alerts.ScaledDotProductAttention(Q, K, V) on [batch, steps, width] graph inputs.</summary>
    private static byte[] SingleAttention(long steps, long width, long? heads, float? scale)
    {
        var proto = new ModelProto { IrVersion = 8, ProducerName = "test", Graph = new GraphProto { Name = "g" } };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = AlertsOperators.Domain, Version = 1 });
        TypeProto Type()
        {
            var t = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = Tensors.Float, Shape = new TensorShapeProto() } };
            t.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
            t.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = steps });
            t.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
            return t;
        }
        foreach (var n in new[] { "q", "k", "v" }) proto.Graph.Input.Add(new ValueInfoProto { Name = n, Type = Type() });
        proto.Graph.Output.Add(new ValueInfoProto { Name = "o", Type = Type() });
        var attributes = new List<AttributeProto>();
        if (heads is not null) attributes.Add(OnnxModel.IntAttribute("num_heads", heads.Value));
        if (scale is not null) attributes.Add(new AttributeProto { Name = "scale", Type = AttributeProto.Types.AttributeType.Float, F = scale.Value });
        proto.Graph.Node.Add(OnnxModel.Node(AlertsOperators.AttentionOpType, "attention", ["q", "k", "v"], ["o"], AlertsOperators.Domain, [.. attributes]));
        return new OnnxModel(proto).ToBytes();
    }

    private static float[] Run(byte[] model, float[] q, float[] k, float[] v, int[] shape)
    {
        using var options = AlertsOperators.Register(new SessionOptions { IntraOpNumThreads = 1 });
        using var session = new InferenceSession(model, options);
        using var results = session.Run([
            NamedOnnxValue.CreateFromTensor("q", new DenseTensor<float>(q, shape)),
            NamedOnnxValue.CreateFromTensor("k", new DenseTensor<float>(k, shape)),
            NamedOnnxValue.CreateFromTensor("v", new DenseTensor<float>(v, shape))]);
        return results.First().AsEnumerable<float>().ToArray();
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    [Theory]
    [InlineData(2, 100, 4, 8, null)]    // t2's shape; scale defaults to 1/√dh
    [InlineData(3, 100, 16, 2, 0.5f)]   // FINK's 16 heads of width 2, explicit scale
    [InlineData(1, 9, 3, 5, 0.25f)]
    public void ORT_runs_the_registered_kernel_and_matches_textbook_attention(int batch, int steps, int heads, int headDim, float? scale)
    {
        int width = heads * headDim, n = batch * steps * width;
        float[] q = Random(n, 1), k = Random(n, 2), v = Random(n, 3);
        var o = Run(SingleAttention(steps, width, heads, scale), q, k, v, [batch, steps, width]);
        var expected = Alerts.Tests.Shared.TextbookAttention.Compute(q, k, v, batch, steps, heads, headDim, scale ?? 1f / MathF.Sqrt(headDim));
        Assert.Equal(n, o.Length);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(o[i] - expected[i]) <= 2e-6 + 2e-6 * Math.Abs(expected[i]), $"element {i}: {o[i]} vs {expected[i]}");
    }

    [Fact]
    public void A_node_without_num_heads_fails_at_session_creation_naming_the_attribute()
    {
        var ex = Assert.ThrowsAny<OnnxRuntimeException>(() => Run(SingleAttention(4, 8, null, null), new float[32], new float[32], new float[32], [1, 4, 8]));
        Assert.Contains("num_heads", ex.Message);
    }

    [Fact]
    public void A_width_that_is_not_a_multiple_of_num_heads_fails_the_run_with_the_kernel_s_reason()
    {
        var ex = Assert.ThrowsAny<OnnxRuntimeException>(() => Run(SingleAttention(4, 9, 2, null), new float[36], new float[36], new float[36], [1, 4, 9]));
        Assert.Contains("not a multiple of num_heads", ex.Message);
    }

    [Fact]
    public void A_session_without_the_registration_refuses_the_fused_model()
    {
        // Why OnnxT2Classifier and every compression runner register the domain: ORT cannot resolve the op otherwise.
        var ex = Record.Exception(() => new InferenceSession(SingleAttention(4, 8, 2, null)).Dispose());
        Assert.IsAssignableFrom<OnnxRuntimeException>(ex);
    }

    [Theory]
    [InlineData(ModelFormat.Onnx)]
    [InlineData(ModelFormat.Ort)]
    public void Fused_lowering_of_t2_gives_the_fp32_probabilities_within_1e_5(ModelFormat format)
    {
        var pass = new AttentionLayoutPass(fusedAttention: true);
        var m = pass.Apply(Trained.Value, null);
        Assert.Empty(m.CheckTopology());
        var node = Assert.Single(m.Graph.Node, n => n.OpType == AlertsOperators.AttentionOpType);
        Assert.Equal(AlertsOperators.Domain, node.Domain);
        Assert.Equal(StructuredPruningPass.HeadCount(Trained.Value), (int)OnnxModel.IntAttributeOr(node, "num_heads", 0));
        Assert.Equal(Trained.Value.NodesOfType("Softmax").Count() - 1, m.NodesOfType("Softmax").Count());   // the classifier's own stays
        Assert.DoesNotContain(m.Graph.Node, n => n.OpType == "FusedMatMul");
        Assert.Contains(m.Proto.OpsetImport, o => o.Domain == AlertsOperators.Domain);
        Assert.Equal("attn-layout-fused", pass.Name);

        var bytes = format == ModelFormat.Ort ? OrtFormat.SaveOptimized(m.ToBytes(), ModelFormat.Ort) : m.ToBytes();
        using var runner = new OrtModelRunner(bytes, format);
        var p = runner.Predict(Fixtures.Eval);
        Assert.True(Fixtures.MaxAbsDiff(Fp32Probabilities.Value, p) <= 1e-5, $"max |Δp| = {Fixtures.MaxAbsDiff(Fp32Probabilities.Value, p):E2}");
    }
}
