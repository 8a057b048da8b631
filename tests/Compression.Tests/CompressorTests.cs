using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;

namespace Alerts.Compression.Tests;

public class CompressorTests
{
    private static CompressionOptions Options(string outDir, IReadOnlyList<Recipe> recipes, double tolerance = 0.01, string? variant = null, CompressionTarget target = CompressionTarget.Size) =>
        new(Fixtures.TrainedModel, Fixtures.Path("eval.npz"), outDir, target, tolerance, Fixtures.Path("calib.npz"), 128, variant, MeasureLatency: false, Recipes: recipes);

    private static string TempDir() => Directory.CreateTempSubdirectory("alerts-compress-test-").FullName;

    private static readonly Recipe[] Small =
    [
        Recipe.Of(),
        Recipe.Of(new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()),
        Recipe.Of(new StructuredPruningPass(1, 1)), // destroys the model: must fail the gate
    ];

    [Fact]
    public void Same_inputs_give_byte_identical_onnx_models_and_report_json_and_equivalent_ort_files()
    {
        string a = TempDir(), b = TempDir();
        try
        {
            new Compressor(Options(a, Small)).Run();
            new Compressor(Options(b, Small)).Run();
            var files = Directory.GetFiles(a, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).Order().ToList();
            Assert.Contains("t2-trained.deployed.ort", files);
            Assert.Contains("report.json", files);
            Assert.Equal(files, Directory.GetFiles(b, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b, f)).Order().ToList());
            Assert.Contains("t2-trained.deployed.onnx", files);
            foreach (var f in files)
            {
                byte[] x = File.ReadAllBytes(Path.Combine(a, f)), y = File.ReadAllBytes(Path.Combine(b, f));
                if (f == "report.json") { Assert.Equal(WithoutOrtGzip(x), WithoutOrtGzip(y)); continue; }
                if (f == "report.md") continue; // the human table shows the .ort gzip sizes too
                if (!f.EndsWith(".ort")) { Assert.True(x.SequenceEqual(y), $"{f} differs between runs"); continue; }
                // ORT's own flatbuffer writer is not deterministic (table order, and on a loaded machine even the
                // length by a few bytes): the .ort files must compute the same outputs, and stay within 1% in size.
                Assert.InRange(Math.Abs(x.Length - y.Length), 0, x.Length / 100);
                using var rx = new OrtModelRunner(x, ModelFormat.Ort);
                using var ry = new OrtModelRunner(y, ModelFormat.Ort);
                Assert.Equal(rx.Predict(Fixtures.Eval.Take(16)), ry.Predict(Fixtures.Eval.Take(16)));
            }
        }
        finally { Directory.Delete(a, true); Directory.Delete(b, true); }
    }

    private sealed class DoesNotFitPass : ICompressionPass
    {
        public string Name => "does-not-fit";
        public OnnxModel Apply(OnnxModel model, LabelledSet? calibration) => throw new InvalidOperationException("no attention block in this graph");
    }

    [Fact]
    public void A_recipe_that_does_not_fit_the_graph_is_skipped_and_the_others_still_run()
    {
        // e.g. structured pruning on a graph imported from TFLite (src/Interop), which has no torch-export attention pattern.
        string dir = TempDir();
        try
        {
            var steps = new List<string>();
            var report = new Compressor(Options(dir, [Recipe.Of(), Recipe.Of(new DoesNotFitPass()), Recipe.Of(new Int8DynamicPass())]), steps.Add).Run();
            Assert.Contains(steps, s => s.StartsWith("does-not-fit skipped: no attention block"));
            Assert.DoesNotContain(report.Variants, v => v.Recipe == "does-not-fit");
            Assert.Contains(report.Variants, v => v.Recipe == "int8-dynamic");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>report.json minus the sizes of .ort rows (ORT's flatbuffer bytes, hence their sizes, vary by a few bytes).</summary>
    private static string WithoutOrtGzip(byte[] json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        foreach (var v in node["Variants"]!.AsArray())
            if ((string)v!["Format"]! == "ort") { v["SizeBytes"] = 0; v["CompressionRatio"] = 0; v["GzipBytes"] = 0; v["GzipCompressionRatio"] = 0; }
        return node.ToJsonString();
    }

    [Fact]
    public void Deploys_the_smallest_ort_variant_that_passes_the_gate_and_it_loads_in_ORT_format()
    {
        string dir = TempDir();
        try
        {
            var report = new Compressor(Options(dir, Small)).Run();
            Assert.Null(report.Refusal);
            var passing = report.Variants.Where(v => v.Format == "ort" && v.PassesGate && v.Recipe != "fp32").ToList();
            var chosen = passing.MinBy(v => v.SizeBytes)!;
            Assert.EndsWith(chosen.File, report.Deployed);
            Assert.False(report.Variants.Single(v => v.Recipe == "prune-struct-h1-ff1" && v.Format == "ort").PassesGate);
            var deployed = File.ReadAllBytes(Path.Combine(dir, "t2-trained.deployed.ort"));
            using var runner = new OrtModelRunner(deployed, ModelFormat.Ort);
            var acc = Metrics.Compute(runner.Predict(Fixtures.Eval), Fixtures.Eval.Labels).Accuracy;
            Assert.True(acc >= report.Fp32Accuracy - 0.01);
            Assert.Equal(chosen.Accuracy, acc);
            var md = File.ReadAllText(Path.Combine(dir, "report.md"));
            Assert.Contains("| variant | size B | gzip B |", md);
            Assert.Equal(report.Variants.Count + 1, md.Split('\n').Count(l => l.StartsWith("| ") && !l.StartsWith("| variant")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Gate_refuses_a_requested_variant_that_loses_more_than_the_tolerance_and_writes_no_deployed_model()
    {
        string dir = TempDir();
        try
        {
            File.WriteAllText(Path.Combine(dir, "t2-trained.deployed.ort"), "stale");
            var report = new Compressor(Options(dir, Small, variant: "prune-struct-h1-ff1")).Run();
            Assert.NotNull(report.Refusal);
            Assert.Contains("prune-struct-h1-ff1", report.Refusal);
            Assert.Contains("points below fp32", report.Refusal);
            Assert.Null(report.Deployed);
            Assert.False(File.Exists(Path.Combine(dir, "t2-trained.deployed.ort")));
            Assert.Contains("REFUSED", File.ReadAllText(Path.Combine(dir, "report.md")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Gate_refuses_when_no_variant_is_within_a_negative_tolerance()
    {
        string dir = TempDir();
        try
        {
            // Tolerance -0.2 demands 20 points above fp32: nothing can pass.
            var report = new Compressor(Options(dir, [Recipe.Of(), Recipe.Of(new Int8DynamicPass())], tolerance: -0.2)).Run();
            Assert.NotNull(report.Refusal);
            Assert.StartsWith("no compressed variant keeps accuracy", report.Refusal);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Unknown_variant_and_mismatched_data_give_clear_errors()
    {
        string dir = TempDir();
        try
        {
            var e = Assert.Throws<ArgumentException>(() => new Compressor(Options(dir, Small, variant: "nope")).Run());
            Assert.Contains("not a known recipe", e.Message);
            var bad = Path.Combine(dir, "bad.npz");
            using (var zip = System.IO.Compression.ZipFile.Open(bad, System.IO.Compression.ZipArchiveMode.Create))
            {
                using (var s = zip.CreateEntry("x.npy").Open()) Npy.Write(s, new float[2 * 100 * 3], 2, 100, 3);
                using (var s = zip.CreateEntry("y.npy").Open()) Npy.Write(s, new long[2], 2);
            }
            var opts = Options(dir, Small) with { DataPath = bad, CalibrationPath = Fixtures.Path("calib.npz") };
            var e2 = Assert.Throws<InvalidDataException>(() => new Compressor(opts).Run());
            Assert.Contains("expects [batch, 100, 2]", e2.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
