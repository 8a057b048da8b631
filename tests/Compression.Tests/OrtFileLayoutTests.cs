using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;

namespace Alerts.Compression.Tests;

public class OrtFileLayoutTests
{
    private static readonly Lazy<byte[]> Int8Onnx = new(() => new Int8DynamicPass().Apply(OnnxModel.Load(Fixtures.TrainedModel), null).ToBytes());

    [Fact]
    public void Breakdown_attributes_every_byte_of_an_ort_file_to_a_schema_part_or_padding()
    {
        var ort = OrtFormat.SaveDirect(Int8Onnx.Value, ModelFormat.Ort);
        var b = OrtFileLayout.Analyze(ort);
        Assert.Equal(ort.Length, b.Parts.Sum(p => p.Bytes) + b.Unaccounted);
        // only the 8-byte root header and alignment padding are left over
        Assert.InRange(b.Unaccounted, 8, ort.Length / 50);
        Assert.Equal(b.Initializers.Sum(t => t.RawBytes), b.Part(OrtFileLayout.InitializerData) - 4 * b.Initializers.Count);
        // the initializers are the ones of ORT's optimised graph, with their types and shapes
        var optimized = OnnxModel.Parse(OrtFormat.SaveDirect(Int8Onnx.Value, ModelFormat.Onnx));
        Assert.Equal(optimized.Graph.Initializer.Select(t => t.Name).Order(), b.Initializers.Select(t => t.Name).Order());
        foreach (var t in optimized.Graph.Initializer)
        {
            var o = b.Initializers.Single(i => i.Name == t.Name);
            Assert.Equal(t.DataType, o.DataType);
            Assert.Equal(t.Dims.ToArray(), o.Dims);
            int elementSize = t.DataType switch { Tensors.Float or Tensors.Int32 => 4, Tensors.Int64 => 8, Tensors.Float16 => 2, _ => 1 };
            Assert.Equal(Tensors.ElementCount(t) * elementSize, o.RawBytes);
        }
        Assert.Equal(optimized.Graph.Node.Select(n => n.OpType).Order(), b.NodeOpTypes.Order());
    }

    [Fact]
    public void Ort_saved_through_the_optimised_onnx_drops_the_node_args_of_fused_away_values_and_keeps_outputs()
    {
        var direct = OrtFormat.SaveDirect(Int8Onnx.Value, ModelFormat.Ort);
        var saved = OrtFormat.SaveOptimized(Int8Onnx.Value, ModelFormat.Ort);
        var d = OrtFileLayout.Analyze(direct);
        var s = OrtFileLayout.Analyze(saved);
        Assert.True(d.UnusedNodeArgs > 20, $"direct save kept {d.UnusedNodeArgs} unused node_args");
        Assert.Equal(0, s.UnusedNodeArgs);
        Assert.Equal(0, s.Part(OrtFileLayout.UnusedNodeArgs));
        // same optimised graph: same kernels, same weights
        Assert.Equal(d.NodeOpTypes.Order(), s.NodeOpTypes.Order());
        Assert.Equal(d.Part(OrtFileLayout.InitializerData), s.Part(OrtFileLayout.InitializerData));
        Assert.True(saved.Length < direct.Length - 5000, $"{saved.Length} B vs direct {direct.Length} B");
        var data = Fixtures.Eval.Take(64);
        using var a = new OrtModelRunner(direct, ModelFormat.Ort);
        using var c = new OrtModelRunner(saved, ModelFormat.Ort);
        Assert.Equal(a.Predict(data), c.Predict(data));
    }

    [Fact]
    public void Breakdown_of_a_truncated_or_foreign_file_is_a_clear_error()
    {
        var ort = OrtFormat.SaveOptimized(Int8Onnx.Value, ModelFormat.Ort);
        var e = Assert.Throws<InvalidDataException>(() => OrtFileLayout.Analyze(ort[..(ort.Length / 2)]));
        Assert.Contains("truncated or corrupt", e.Message);
        e = Assert.Throws<InvalidDataException>(() => OrtFileLayout.Analyze(Int8Onnx.Value));
        Assert.Contains("ORTM", e.Message);
    }
}
