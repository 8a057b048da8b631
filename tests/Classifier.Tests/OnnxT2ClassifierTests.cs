using System.Security.Cryptography;
using System.Text.Json;
using Alerts.Core;
using Alerts.Tests.Shared;

namespace Alerts.Classifier.Tests;

public class OnnxT2ClassifierTests
{
    private static string Fixture(string name) => RepoPaths.Of("tests", "Classifier.Tests", "Fixtures", name);

    private sealed record FixtureFile(string[] bands, int steps, float[][] inputs, float[][] outputs);

    private static FixtureFile Load(string name) =>
        JsonSerializer.Deserialize<FixtureFile>(File.ReadAllText(Fixture(name)))!;

    [Theory]
    [InlineData("t2-random-ztf")]
    [InlineData("t2-random-lsst")]
    public void OnnxRuntime_MatchesPyTorchOnTheFixtureInputs(string name)
    {
        var fx = Load(name + ".fixture.json");
        using var clf = new OnnxT2Classifier(Fixture(name + ".onnx"));
        Assert.Equal(fx.bands.Length, clf.ChannelCount);
        Assert.Equal("input", clf.InputName);
        Assert.Equal("probabilities", clf.OutputName);
        var input = fx.inputs.SelectMany(r => r).ToArray();
        var output = new float[fx.inputs.Length * 14];
        clf.Predict(input, fx.inputs.Length, output);
        for (int r = 0; r < fx.outputs.Length; r++)
            for (int c = 0; c < 14; c++)
                Assert.Equal(fx.outputs[r][c], output[r * 14 + c], 1e-5f);
    }

    [Fact]
    public void Batching_GivesTheSameOutputsAsBatchOne()
    {
        using var clf = new OnnxT2Classifier(Fixture("t2-random-ztf.onnx"), new OnnxT2Options { MaxBatchSize = 32, ExecutionBatchSize = 0 });
        using var runs = new OnnxT2Classifier(Fixture("t2-random-ztf.onnx"), new OnnxT2Options { MaxBatchSize = 32, ExecutionBatchSize = 5 });
        var rng = new Random(7);
        int n = 70;   // more than one chunk: 32 + 32 + 6
        var input = Enumerable.Range(0, n * 200).Select(_ => (float)TestLightCurves.Gaussian(rng)).ToArray();
        var batched = new float[n * 14];
        clf.Predict(input, n, batched);
        var inRuns = new float[n * 14];
        runs.Predict(input, n, inRuns);
        var one = new float[14];
        for (int i = 0; i < n * 14; i++) Assert.Equal(batched[i], inRuns[i], 1e-6f);
        for (int i = 0; i < n; i++)
        {
            clf.Predict(input.AsSpan(i * 200, 200), 1, one);
            for (int c = 0; c < 14; c++) Assert.Equal(one[c], batched[i * 14 + c], 1e-6f);
        }
    }

    [Fact]
    public void ModelId_IsTheContentHash_AndThePresetComesFromTheModel()
    {
        var path = Fixture("t2-random-lsst.onnx");
        using var clf = new OnnxT2Classifier(path);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))[..12], clf.ModelId);
        Assert.Equal("t2-lsst", clf.Preprocessing.Name);
        Assert.Equal(6, clf.Preprocessing.Channels.Length);
    }

    [Fact]
    public void Classify_LabelsGoodAlerts_AndGivesReasonsForBadOnes()
    {
        using var clf = new OnnxT2Classifier(Fixture("t2-random-ztf.onnx"), new OnnxT2Options { MaxBatchSize = 4 });
        var good = TestLightCurves.Transient([Band.ZtfG, Band.ZtfR], 20);
        var onlyG = TestLightCurves.Transient([Band.ZtfG], 20);
        var empty = new LightCurve();
        var batch = new[]
        {
            TestLightCurves.Alert(good, 1), TestLightCurves.Alert(onlyG, 2), TestLightCurves.Alert(empty, 3),
            TestLightCurves.Alert(TestLightCurves.Transient([Band.ZtfG, Band.ZtfR], 15, seed: 9), 4),
            TestLightCurves.Alert(good, 5),
        };
        var results = clf.Classify(batch);
        Assert.Equal(5, results.Count);
        Assert.Equal([1L, 2, 3, 4, 5], results.Select(r => r.Identity.AlertId));
        Assert.Equal("missing-band:ztfr", results[1].Reason);
        Assert.Equal("too-few-points", results[2].Reason);
        foreach (var r in new[] { results[0], results[3], results[4] })
        {
            Assert.True(r.IsClassified);
            Assert.Equal(14, r.Probabilities.Length);
            Assert.Equal(1.0, r.Probabilities.Sum(), 4);
            Assert.Equal(T2Classes.Names[Array.IndexOf(r.Probabilities, r.Probabilities.Max())], r.Label);
            Assert.Equal(r.Probabilities.Max(), r.LabelProbability);
            Assert.Equal(clf.ModelId, r.ModelId);
            Assert.True(r.Timings.PreprocessUs > 0 && r.Timings.InferenceUs > 0);
        }
        // Same light curve in a different batch position (and the other chunk) gives the same probabilities.
        // (batch size changes the kernels' summation order, so allow float rounding)
        for (int c = 0; c < 14; c++) Assert.Equal(results[0].Probabilities[c], results[4].Probabilities[c], 1e-6f);
    }

    [Fact]
    public void ParallelPreprocessing_GivesTheSameResultsAsOneThread()
    {
        var alerts = Enumerable.Range(0, 23).Select(i => TestLightCurves.Alert(
            i % 5 == 3 ? TestLightCurves.Transient([Band.ZtfG], 12, seed: i) : TestLightCurves.Transient([Band.ZtfG, Band.ZtfR], 10 + i, seed: i), i)).ToList();
        using var one = new OnnxT2Classifier(Fixture("t2-random-ztf.onnx"), new OnnxT2Options { MaxBatchSize = 16 });
        using var par = new OnnxT2Classifier(Fixture("t2-random-ztf.onnx"), new OnnxT2Options { MaxBatchSize = 16, PreprocessWorkers = 3 });
        var a = one.Classify(alerts);
        var b = par.Classify(alerts);
        for (int i = 0; i < alerts.Count; i++)
        {
            Assert.Equal(a[i].Reason, b[i].Reason);
            Assert.Equal(a[i].Label, b[i].Label);
            for (int c = 0; c < a[i].Probabilities.Length; c++) Assert.Equal(a[i].Probabilities[c], b[i].Probabilities[c], 1e-6f);
        }
        Assert.Equal(4, a.Count(r => r.Reason == "missing-band:ztfr"));   // i = 3, 8, 13, 18
    }

    [Fact]
    public void MissingModel_NamesTheFileAndTheFix()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => new OnnxT2Classifier("/nonexistent/t2.onnx"));
        Assert.Contains("/nonexistent/t2.onnx", ex.Message);
        Assert.Contains("--model", ex.Message);
    }

    [Fact]
    public async Task Dispose_WaitsForARunInFlight_AndLaterCallsThrowObjectDisposed()
    {
        // A service stopping on a fault may dispose the models while a classify loop is inside a native Run; freeing
        // the session under it would corrupt the native heap, so Dispose waits and later calls fail cleanly.
        var clf = new OnnxT2Classifier(Fixture("t2-random-ztf.onnx"), new OnnxT2Options { MaxBatchSize = 256, ExecutionBatchSize = 1 });
        var rng = new Random(3);
        int n = 256;
        var input = Enumerable.Range(0, n * 200).Select(_ => (float)TestLightCurves.Gaussian(rng)).ToArray();
        var output = new float[n * 14];
        int runsFinished = 0;
        var running = Task.Run(() =>
        {
            for (int round = 0; round < 20; round++)
            {
                try { clf.Predict(input, n, output); }
                catch (ObjectDisposedException) { return; }
                Interlocked.Increment(ref runsFinished);
            }
        });
        while (Volatile.Read(ref runsFinished) == 0) await Task.Delay(1);
        clf.Dispose();
        await running;
        for (int i = 0; i < n; i++) Assert.Equal(1.0, output.AsSpan(i * 14, 14).ToArray().Sum(), 1e-4);
        Assert.Throws<ObjectDisposedException>(() => clf.Predict(input, 1, output));
        clf.Dispose(); // idempotent
    }
}
