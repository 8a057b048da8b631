using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;

namespace Alerts.Compression.Tests;

public class ComputedPositionalEncodingPassTests
{
    private static readonly Lazy<OnnxModel> Trained = new(() => OnnxModel.Load(Fixtures.TrainedModel));

    [Fact]
    public void Sinusoidal_table_becomes_nodes_with_outputs_within_1e_5_in_onnx_and_ort_and_stays_out_of_the_ort()
    {
        var source = Trained.Value;
        Assert.Contains(source.Graph.Initializer, t => t.Name == "pe" && t.Dims.SequenceEqual(new long[] { 100, 32 }));
        var pass = new ComputedPositionalEncodingPass();
        var m = pass.Apply(source, null);
        Assert.Empty(m.CheckTopology());
        Assert.Null(m.Initializer("pe"));
        Assert.Equal("Sin", m.Producer("pe")!.OpType);
        Assert.True(source.ToBytes().Length - m.ToBytes().Length > 11_000, "the 100 x 32 float table (12,800 B) is replaced by ~1 kB of nodes and frequencies");
        var data = Fixtures.Eval.Take(128);
        float[] expected;
        using (var r = new OrtModelRunner(source.ToBytes())) expected = r.Predict(data);
        var onnx = m.ToBytes();
        var ort = OrtFormat.SaveOptimized(onnx, ModelFormat.Ort);
        using (var r = new OrtModelRunner(onnx)) Assert.True(Fixtures.MaxAbsDiff(expected, r.Predict(data)) < 1e-5);
        using (var r = new OrtModelRunner(ort, ModelFormat.Ort)) Assert.True(Fixtures.MaxAbsDiff(expected, r.Predict(data)) < 1e-5);
        // T is read from the input's shape, so ORT's constant folding cannot write the table back into the .ort
        Assert.DoesNotContain(OrtFileLayout.Analyze(ort).Initializers, t => t.Dims.SequenceEqual(new long[] { 100, 32 }));
        Assert.Equal(onnx, pass.Apply(OnnxModel.Load(Fixtures.TrainedModel), null).ToBytes());
    }

    [Fact]
    public void A_table_that_is_not_the_sinusoid_is_left_as_it_is()
    {
        var m = Trained.Value.Clone();
        var pe = Tensors.ToFloats(m.Initializer("pe")!);
        pe[5 * 32 + 3] += 1e-3f; // one perturbed entry: a learned or altered encoding must not be replaced by the formula
        m.SetInitializer(Tensors.FromFloats("pe", pe, 100, 32));
        Assert.Equal(m.ToBytes(), new ComputedPositionalEncodingPass().Apply(m, null).ToBytes());
    }

    [PythonOnnxFact]
    public void Computed_encoding_model_is_accepted_by_the_python_onnx_checker()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"pe-computed-{Guid.NewGuid():N}.onnx");
        try
        {
            new ComputedPositionalEncodingPass().Apply(Trained.Value, null).Save(path);
            var (code, output) = Fixtures.OnnxChecker(path);
            Assert.True(code == 0, output);
        }
        finally { File.Delete(path); }
    }
}
