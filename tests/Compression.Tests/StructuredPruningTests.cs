using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;

namespace Alerts.Compression.Tests;

public class StructuredPruningTests
{
    private static readonly Lazy<OnnxModel> Trained = new(() => OnnxModel.Load(Fixtures.TrainedModel));

    private static float[] Run(OnnxModel m, LabelledSet data)
    {
        using var r = new OrtModelRunner(m.ToBytes());
        return r.Predict(data);
    }

    [Theory]
    [InlineData(8, 64)]
    [InlineData(4, 32)]
    [InlineData(1, 1)]
    public void Pruned_graph_has_consistent_smaller_shapes_and_ORT_runs_it_at_batch_1_and_32(int heads, int neurons)
    {
        var m = new StructuredPruningPass(heads, neurons).Apply(Trained.Value, Fixtures.Calib);
        Assert.Empty(m.CheckTopology());
        Assert.Equal(new long[] { 32, heads * 2 }, Tensors.Shape(m.Initializer("onnx::MatMul_69")!)); // q
        Assert.Equal(new long[] { heads * 2, 32 }, Tensors.Shape(m.Initializer("onnx::MatMul_72")!)); // o
        Assert.Equal(new long[] { 32, neurons }, Tensors.Shape(m.Initializer("onnx::MatMul_73")!));   // ff1
        Assert.Equal(new long[] { neurons, 32 }, Tensors.Shape(m.Initializer("onnx::MatMul_74")!));   // ff2
        Assert.Equal(new long[] { neurons }, Tensors.Shape(m.Initializer("blocks.0.ff1.bias")!));
        var reshapes = m.NodesOfType("Reshape").Select(r => Tensors.ToInt64s(m.ConstantValue(r.Input[1])!)).ToList();
        Assert.Equal(3, reshapes.Count(s => s.SequenceEqual(new long[] { -1, 100, heads, 2 })));
        Assert.Contains(reshapes, s => s.SequenceEqual(new long[] { -1, 100, heads * 2 }));
        Assert.True(m.ParameterCount() < Trained.Value.ParameterCount());

        var p = Run(m, Fixtures.Eval.Take(40));
        Assert.Equal(40 * 14, p.Length);
        for (int i = 0; i < 40; i++) Assert.Equal(1.0, p.AsSpan(i * 14, 14).ToArray().Sum(), 3);
        using var r32 = new OrtModelRunner(m.ToBytes());
        Assert.True(r32.MicrosecondsPerAlert(Fixtures.Eval, 32, warmup: 1, repeats: 3) > 0);
    }

    [Fact]
    public void Keeping_everything_changes_nothing()
    {
        var m = new StructuredPruningPass(16, 128).Apply(Trained.Value, Fixtures.Calib);
        Assert.Equal(Run(Trained.Value, Fixtures.Eval), Run(m, Fixtures.Eval));
    }

    [Fact]
    public void Halving_the_feed_forward_with_least_squares_refit_keeps_accuracy_within_2_points()
    {
        var fp32 = Metrics.Compute(Run(Trained.Value, Fixtures.Eval), Fixtures.Eval.Labels).Accuracy;
        var pruned = Metrics.Compute(Run(new StructuredPruningPass(16, 64).Apply(Trained.Value, Fixtures.Calib), Fixtures.Eval), Fixtures.Eval.Labels).Accuracy;
        Assert.True(pruned >= fp32 - 0.02, $"{pruned} vs {fp32}");
    }

    [Fact]
    public void Least_squares_refit_beats_plain_slicing_of_the_next_projection()
    {
        // Same heads/neurons removed, with and without the refit: the refit must match fp32 outputs more closely.
        var fp32 = Run(Trained.Value, Fixtures.Eval);
        var refit = Run(new StructuredPruningPass(8, 32).Apply(Trained.Value, Fixtures.Calib), Fixtures.Eval);
        var noRefit = Run(new StructuredPruningPass(8, 32, refit: false).Apply(Trained.Value, Fixtures.Calib), Fixtures.Eval);
        double Err(float[] p) => p.Zip(fp32, (a, b) => (double)(a - b) * (a - b)).Sum();
        Assert.True(Err(refit) < 0.8 * Err(noRefit), $"refit {Err(refit)} vs sliced {Err(noRefit)}");
    }

    [Fact]
    public void Structured_pruning_is_deterministic()
    {
        var a = new StructuredPruningPass(8, 64).Apply(Trained.Value, Fixtures.Calib).ToBytes();
        var b = new StructuredPruningPass(8, 64).Apply(OnnxModel.Load(Fixtures.TrainedModel), Fixtures.Calib).ToBytes();
        Assert.Equal(a, b);
    }

    [Fact]
    public void Refuses_a_graph_without_t2_blocks_and_runs_without_calibration_only_with_a_clear_error()
    {
        Assert.Throws<ArgumentException>(() => new StructuredPruningPass(8, 64).Apply(Trained.Value, null));
    }
    [Fact]
    public void HeadCount_reads_the_attention_heads_from_the_graph()
    {
        Assert.Equal(16, StructuredPruningPass.HeadCount(Trained.Value));
        var pruned = new StructuredPruningPass(4, 32).Apply(Trained.Value, Fixtures.Calib);
        Assert.Equal(4, StructuredPruningPass.HeadCount(pruned));
    }

    [Theory]
    [InlineData(16, new[] { 16, 8, 4 })]
    [InlineData(4, new[] { 4, 2, 1 })]
    [InlineData(1, new[] { 1 })]
    public void Standard_recipes_keep_all_half_and_a_quarter_of_the_models_heads_each_named_once(int heads, int[] kept)
    {
        var names = Recipe.Standard(heads).Select(r => r.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        var keptHeads = names.SelectMany(n => n.Split('+')).Where(p => p.StartsWith("prune-struct-h"))
            .Select(p => int.Parse(p["prune-struct-h".Length..p.IndexOf("-ff")])).Distinct().OrderDescending().ToArray();
        Assert.Equal(kept, keptHeads);
        Assert.Contains("prune-struct-h" + kept[^1] + "-ff32+int8-dynamic+int8-constants+compact", names);
    }
}
