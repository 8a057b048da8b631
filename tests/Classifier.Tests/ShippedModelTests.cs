using System.Text.Json;
using Alerts.Core;
using Alerts.Tests.Shared;

namespace Alerts.Classifier.Tests;

/// <summary>The models in models/ load with the right preset and reproduce the PyTorch outputs train_t2.py recorded.</summary>
public class ShippedModelTests
{
    private sealed record FixtureFile(string[] bands, int steps, float[][] inputs, float[][] outputs);

    [Theory]
    [InlineData("t2-ztf", "t2-ztf-window", 4)]
    [InlineData("t2-lsst", "t2-lsst-window", 12)]
    public void ShippedModel_MatchesPyTorch_AndSelectsItsPreset(string name, string preset, int channels)
    {
        var onnx = RepoPaths.Of("models", name + ".onnx");
        var fx = JsonSerializer.Deserialize<FixtureFile>(File.ReadAllText(RepoPaths.Of("models", name + ".fixture.json")))!;
        using var clf = new OnnxT2Classifier(onnx);
        Assert.Equal(preset, clf.Preprocessing.Name);
        Assert.Equal(channels, clf.ChannelCount);
        Assert.Equal(fx.bands, clf.Preprocessing.InputChannelNames.ToArray());
        var output = new float[fx.inputs.Length * 14];
        clf.Predict(fx.inputs.SelectMany(r => r).ToArray(), fx.inputs.Length, output);
        for (int r = 0; r < fx.outputs.Length; r++)
            for (int c = 0; c < 14; c++)
                Assert.Equal(fx.outputs[r][c], output[r * 14 + c], 1e-5f);
    }

    /// <summary>
    /// The compressed models `alerts compress` deployed (what the service loads by default) keep the preset metadata
    /// through the .ort conversion and stay close to fp32 on the fixture inputs: the gate measured accuracy, this
    /// guards the shipped files themselves.
    /// </summary>
    [Theory]
    [InlineData("t2-ztf", 4)]
    [InlineData("t2-lsst", 12)]
    public void DeployedModel_KeepsItsPreset_AndAgreesWithFp32OnTheFixture(string name, int channels)
    {
        var fx = JsonSerializer.Deserialize<FixtureFile>(File.ReadAllText(RepoPaths.Of("models", name + ".fixture.json")))!;
        using var fp32 = new OnnxT2Classifier(RepoPaths.Of("models", name + ".onnx"));
        using var deployed = new OnnxT2Classifier(RepoPaths.Of("models", name + ".deployed.ort"));
        Assert.Equal(fp32.Preprocessing.Name, deployed.Preprocessing.Name);
        Assert.Equal(channels, deployed.ChannelCount);
        int n = fx.inputs.Length;
        var input = fx.inputs.SelectMany(r => r).ToArray();
        float[] a = new float[n * 14], b = new float[n * 14];
        fp32.Predict(input, n, a);
        deployed.Predict(input, n, b);
        for (int r = 0; r < n; r++)
        {
            Assert.Equal(1.0, b.AsSpan(r * 14, 14).ToArray().Sum(), 3);
            for (int c = 0; c < 14; c++) Assert.InRange(Math.Abs(a[r * 14 + c] - b[r * 14 + c]), 0, 0.15);
        }
    }
}
