using System.Text.Json;
using Alerts.Core;
using Alerts.Tests.Shared;

namespace Alerts.Classifier.Tests;

/// <summary>The models in models/ load with the right preset and reproduce the PyTorch outputs train_t2.py recorded.</summary>
public class ShippedModelTests
{
    private sealed record FixtureFile(string[] bands, int steps, float[][] inputs, float[][] outputs);

    [Theory]
    [InlineData("t2-ztf", "t2-ztf", 2)]
    [InlineData("t2-lsst", "t2-lsst", 6)]
    public void ShippedModel_MatchesPyTorch_AndSelectsItsPreset(string name, string preset, int bands)
    {
        var onnx = RepoPaths.Of("models", name + ".onnx");
        var fx = JsonSerializer.Deserialize<FixtureFile>(File.ReadAllText(RepoPaths.Of("models", name + ".fixture.json")))!;
        using var clf = new OnnxT2Classifier(onnx);
        Assert.Equal(preset, clf.Preprocessing.Name);
        Assert.Equal(bands, clf.ChannelCount);
        Assert.Equal(fx.bands, clf.Preprocessing.Channels.Select(b => b.Name()).ToArray());
        var output = new float[fx.inputs.Length * 14];
        clf.Predict(fx.inputs.SelectMany(r => r).ToArray(), fx.inputs.Length, output);
        for (int r = 0; r < fx.outputs.Length; r++)
            for (int c = 0; c < 14; c++)
                Assert.Equal(fx.outputs[r][c], output[r * 14 + c], 1e-5f);
    }
}
