using Alerts.Compression.Evaluation;
using Alerts.Onnx;

namespace Alerts.Compression.Tests;

public class OnnxModelTests
{
    [Fact]
    public void Torch_export_round_trips_through_our_protobuf_byte_for_byte_and_runs_identically()
    {
        var original = File.ReadAllBytes(Fixtures.TrainedModel);
        var model = OnnxModel.Parse(original);
        var written = model.ToBytes();
        Assert.Equal(original, written); // torch writes canonical field order, so does Google.Protobuf

        using var a = new OrtModelRunner(original);
        using var b = new OrtModelRunner(written);
        var data = Fixtures.Eval.Take(16);
        Assert.Equal(a.Predict(data), b.Predict(data));
    }

    [Fact]
    public void Graph_api_finds_initializers_producers_and_consumers()
    {
        var model = OnnxModel.Load(Fixtures.TrainedModel);
        Assert.Empty(model.CheckTopology());
        var head = model.Initializer("head.weight")!;
        Assert.Equal(new long[] { 14, 32 }, Tensors.Shape(head));
        Assert.Equal(14 * 32, Tensors.ToFloats(head).Length);
        var gemm = Assert.Single(model.Consumers("head.weight"));
        Assert.Equal("Gemm", gemm.OpType);
        Assert.Equal("Softmax", Assert.Single(model.Consumers(gemm.Output[0])).OpType);
        Assert.Equal("ReduceMean", model.Producer(gemm.Input[0])!.OpType);
        Assert.Equal(6, model.NodesOfType("MatMul").Count(n => model.IsInitializer(n.Input[1])));
        var reshapeTarget = model.ConstantValue(model.NodesOfType("Reshape").First().Input[1])!;
        Assert.Equal(new long[] { -1, 100, 16, 2 }, Tensors.ToInt64s(reshapeTarget));
    }

    [Fact]
    public void Topology_check_reports_a_node_that_reads_a_value_before_it_is_produced()
    {
        var model = OnnxModel.Load(Fixtures.TrainedModel);
        var last = model.Graph.Node[^1];
        model.Graph.Node.RemoveAt(model.Graph.Node.Count - 1);
        model.Graph.Node.Insert(0, last);
        var problems = model.CheckTopology();
        Assert.Contains(problems, p => p.Contains("reads") && p.Contains(last.Input[0]));
    }

    [PythonOnnxFact]
    public void Edited_model_is_accepted_by_the_python_onnx_checker()
    {
        var model = OnnxModel.Load(Fixtures.TrainedModel);
        var w = model.Initializer("head.weight")!;
        var values = Tensors.ToFloats(w);
        for (int i = 0; i < values.Length; i++) values[i] *= 0.5f;
        model.SetInitializer(Tensors.FromFloats("head.weight", values, 14, 32));
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"edited-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Save(path);
            var (code, output) = Fixtures.OnnxChecker(path);
            Assert.True(code == 0, output);
        }
        finally { File.Delete(path); }
    }
}
