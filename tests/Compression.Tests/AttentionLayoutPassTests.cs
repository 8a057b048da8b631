using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;

namespace Alerts.Compression.Tests;

public class AttentionLayoutPassTests
{
    private static readonly Lazy<OnnxModel> Trained = new(() => OnnxModel.Load(Fixtures.TrainedModel));
    private static readonly Lazy<float[]> Fp32Probabilities = new(() => Predict(Trained.Value));

    private static float[] Predict(OnnxModel m, ModelFormat format = ModelFormat.Onnx)
    {
        var bytes = format == ModelFormat.Ort ? OrtFormat.SaveOptimized(m.ToBytes(), ModelFormat.Ort) : m.ToBytes();
        using var r = new OrtModelRunner(bytes, format);
        return r.Predict(Fixtures.Eval);
    }

    private static string[] OpTypes(OnnxModel m) => m.Graph.Node.Select(n => n.OpType).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rewritten_t2_gives_the_fp32_probabilities_within_1e_5_on_the_fixture_inputs(bool packQkv)
    {
        var pass = new AttentionLayoutPass(packQkv: packQkv);
        var m = pass.Apply(Trained.Value, null);
        Assert.Empty(m.CheckTopology());
        Assert.Equal((1, packQkv ? 1 : 0, 1, 1), pass.LastRewrites);
        var p = Predict(m);
        Assert.True(Fixtures.MaxAbsDiff(Fp32Probabilities.Value, p) <= 1e-5, $"max |Δp| = {Fixtures.MaxAbsDiff(Fp32Probabilities.Value, p):E2}");
    }

    [Fact]
    public void Rewritten_graph_has_the_transposed_attention_output_no_Conv_and_Gemm_projections_in_ORT()
    {
        var m = new AttentionLayoutPass().Apply(Trained.Value, null);
        var ops = OpTypes(m);
        var fused = Assert.Single(m.Graph.Node, n => n.OpType == "FusedMatMul");
        Assert.Equal(AttentionLayoutPass.MicrosoftDomain, fused.Domain);
        Assert.Equal(1, OnnxModel.IntAttributeOr(fused, "transB", 0));
        Assert.DoesNotContain("Conv", ops);
        Assert.Equal(Trained.Value.NodesOfType("Transpose").Count() - 2, m.NodesOfType("Transpose").Count()); // the embedding's two are gone
        Assert.Contains(m.Proto.OpsetImport, o => o.Domain == AttentionLayoutPass.MicrosoftDomain);
        // On [B·T, D] rows ORT fuses the projections' MatMul + bias Add into Gemm (ff1 + Relu into FusedGemm).
        var optimized = OrtFormat.OptimizedOpTypes(m.ToBytes());
        Assert.True(optimized.Count(o => o is "Gemm" or "FusedGemm") >= 6, string.Join(",", optimized));
        Assert.True(optimized.Count(o => o == "Add") < OrtFormat.OptimizedOpTypes(Trained.Value.ToBytes()).Count(o => o == "Add"));
    }

    [Fact]
    public void ORT_loads_the_rewritten_model_as_ort_flatbuffer_with_the_same_outputs()
    {
        var m = new AttentionLayoutPass().Apply(Trained.Value, null);
        var p = Predict(m, ModelFormat.Ort);
        Assert.True(Fixtures.MaxAbsDiff(Fp32Probabilities.Value, p) <= 1e-5);
    }

    [Fact]
    public void Pass_is_deterministic_leaves_its_input_untouched_and_is_idempotent()
    {
        var before = Trained.Value.ToBytes();
        var a = new AttentionLayoutPass().Apply(Trained.Value, null);
        var b = new AttentionLayoutPass().Apply(OnnxModel.Load(Fixtures.TrainedModel), null);
        Assert.Equal(a.ToBytes(), b.ToBytes());
        Assert.Equal(before, Trained.Value.ToBytes());
        var again = new AttentionLayoutPass();
        var twice = again.Apply(a, null);
        Assert.Equal((0, 0, 0, 0), again.LastRewrites);
        Assert.Equal(a.ToBytes(), twice.ToBytes());
    }

    [PythonOnnxFact]
    public void Python_onnx_checker_accepts_the_rewritten_models()
    {
        // com.microsoft FusedMatMul: onnx.checker skips schemas of domains it does not know; the ONNX ops are checked in full.
        foreach (var pass in new[] { new AttentionLayoutPass(), new AttentionLayoutPass(packQkv: true) })
        {
            var path = Path.Combine(Path.GetTempPath(), $"{pass.Name}-{Guid.NewGuid():N}.onnx");
            try
            {
                pass.Apply(Trained.Value, null).Save(path);
                var (code, output) = Fixtures.OnnxChecker(path);
                Assert.True(code == 0, $"{pass.Name}: {output}");
            }
            finally { File.Delete(path); }
        }
    }

    [Fact]
    public void After_head_pruning_and_on_an_int8_model_the_rewrite_keeps_that_models_outputs()
    {
        var pruned = new StructuredPruningPass(8, 64).Apply(Trained.Value, Fixtures.Calib);
        var pass = new AttentionLayoutPass();
        var p = Predict(pass.Apply(pruned, null));
        Assert.Equal((1, 0, 1, 1), pass.LastRewrites);
        Assert.True(Fixtures.MaxAbsDiff(Predict(pruned), p) <= 1e-5);

        // int8 projections are no float MatMul + Add: no rows region, but the attention output and embedding are rewritten.
        // The attention-output rewrite alone is bit-exact; the embedding fold changes float rounding (~1e-7) of the
        // activations that DynamicQuantizeLinear then rounds to int8, so a few values land one quantization step away.
        var int8 = new Int8DynamicPass().Apply(pruned, null);
        var int8P = Predict(int8);
        var attentionOnly = new AttentionLayoutPass(foldEmbedding: false);
        Assert.Equal(int8P, Predict(attentionOnly.Apply(int8, null)));
        Assert.Equal((1, 0, 0, 0), attentionOnly.LastRewrites);
        var q = Predict(pass.Apply(int8, null));
        Assert.Equal((1, 0, 1, 0), pass.LastRewrites);
        Assert.True(Fixtures.MaxAbsDiff(int8P, q) <= 1e-3, $"int8: max |Δp| = {Fixtures.MaxAbsDiff(int8P, q):E2}");
        Assert.Equal(1.0, Fixtures.Agreement(int8P, q));
    }

    [Fact]
    public void A_model_without_the_pattern_is_returned_unchanged()
    {
        // The rewritten model's Softmax reads a FusedMatMul, its embedding is a MatMul: nothing left to match. And a
        // graph whose attention probabilities are also a graph output must keep them.
        var m = Trained.Value.Clone();
        var softmax = m.NodesOfType("Softmax").First(n => m.Producer(n.Input[0])?.OpType == "Mul");
        m.Graph.Output.Add(new Onnx.Proto.ValueInfoProto { Name = softmax.Output[0] });
        var pass = new AttentionLayoutPass(foldEmbedding: false);
        var r = pass.Apply(m, null);
        Assert.Equal((0, 0, 0, 0), pass.LastRewrites);
        Assert.Equal(OpTypes(m), OpTypes(r));
    }

    [Fact]
    public void WithLowering_goes_after_every_value_changing_pass_and_before_compact_names_and_keeps_the_name()
    {
        var r = Recipe.Of(new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()).WithLowering(new AttentionLayoutPass());
        Assert.Equal("int8-dynamic+int8-constants+compact", r.Name);
        Assert.Equal(["int8-dynamic", "int8-constants", "attn-layout", "compact"], r.Passes.Select(p => p.Name));
        Assert.Equal(["attn-layout"], Recipe.Of().WithLowering(new AttentionLayoutPass()).Passes.Select(p => p.Name));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Compressor_applies_the_lowering_to_every_variant_unless_turned_off(bool lowering, bool fused)
    {
        string dir = Directory.CreateTempSubdirectory("alerts-attn-layout-test-").FullName;
        try
        {
            var options = new CompressionOptions(Fixtures.TrainedModel, Fixtures.Path("eval.npz"), dir, CompressionTarget.Size, 0.01, Fixtures.Path("calib.npz"), 128, null,
                MeasureLatency: false, Recipes: [Recipe.Of(), Recipe.Of(new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass())], AttentionLayout: lowering, FusedAttention: fused);
            var report = new Compressor(options).Run();
            Assert.Equal(!lowering ? "none" : fused ? "attn-layout-fused" : "attn-layout", report.Lowering);
            foreach (var v in report.Variants.Where(v => v.Format == "onnx"))
            {
                var m = OnnxModel.Load(Path.Combine(dir, v.File));
                Assert.Equal(lowering && !fused, m.Graph.Node.Any(n => n.OpType == "FusedMatMul"));
                Assert.Equal(lowering && fused, m.Graph.Node.Any(n => n.OpType == OrtKernels.AlertsOperators.AttentionOpType && n.Domain == OrtKernels.AlertsOperators.Domain));
                // fp32: the embedding is folded; after int8 constant storage its weights are DequantizeLinear outputs, left alone
                Assert.Equal(lowering && v.Recipe == "fp32", !m.Graph.Node.Any(n => n.OpType == "Conv"));
            }
            // the lowered fp32 variant classifies the evaluation rows exactly as the original (naive row) does
            Assert.Equal(report.NaiveBaseline.Accuracy, report.Variants.Single(v => v.Recipe == "fp32" && v.Format == "onnx").Accuracy);
            Assert.Contains(lowering ? "graph lowering applied to every variant" : "graph lowering: none", File.ReadAllText(Path.Combine(dir, "report.md")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
