using Alerts.Compression.Passes;
using Alerts.Tests.Shared;

namespace Alerts.Compression.Tests;

public class PaperSizeComparisonTests
{
    [Fact]
    public void Paper_ratio_is_savedmodel_graph_plus_variables_over_the_tflite_and_absent_files_give_none()
    {
        var dir = Directory.CreateTempSubdirectory("alerts-paper-").FullName;
        try
        {
            Assert.Null(PaperSizeComparison.Measure(dir));
            Assert.Null(PaperSizeComparison.Measure(Path.Combine(dir, "missing")));
            Directory.CreateDirectory(Path.Combine(dir, "savedmodel", "variables"));
            File.WriteAllBytes(Path.Combine(dir, "savedmodel", "saved_model.pb"), new byte[900]);
            File.WriteAllBytes(Path.Combine(dir, "savedmodel", "variables", "variables.data-00000-of-00001"), new byte[150]);
            File.WriteAllBytes(Path.Combine(dir, "savedmodel", "variables", "variables.index"), new byte[30]);
            Assert.Null(PaperSizeComparison.Measure(dir)); // no .tflite yet
            File.WriteAllBytes(Path.Combine(dir, "model.tflite"), new byte[60]);
            var p = PaperSizeComparison.Measure(dir)!;
            Assert.Equal(1080, p.SavedModelBytes);
            Assert.Equal(18.0, p.PaperRatio, 9);
            Assert.Equal(3.0, p.WeightsOnlyRatio, 9);
            Assert.Equal("model.tflite", p.TfliteFile);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [SharedDataFact]
    public void FINK_files_give_the_papers_18x_and_the_report_shows_it_next_to_ours()
    {
        var p = PaperSizeComparison.Measure(SharedData.Path("models", "fink-t2"))!;
        Assert.Equal(906_437, p.SavedModelGraphBytes);
        Assert.Equal(60_320, p.TfliteBytes);
        Assert.InRange(p.PaperRatio, 17.9, 18.1);
        var outDir = Directory.CreateTempSubdirectory("alerts-compress-paper-").FullName;
        try
        {
            var options = new CompressionOptions(Fixtures.TrainedModel, Fixtures.Path("eval.npz"), outDir, CalibrationPath: Fixtures.Path("calib.npz"), MeasureLatency: false,
                Recipes: [Recipe.Of(), Recipe.Of(new Int8DynamicPass())], PaperBaselineDirectory: SharedData.Path("models", "fink-t2"));
            var report = new Compressor(options).Run();
            Assert.NotNull(report.Paper);
            string md = File.ReadAllText(Path.Combine(outDir, "report.md"));
            Assert.Contains("the paper's 18×", md);
            Assert.Contains($"**{p.PaperRatio:F2}×**", md);
            Assert.Contains("against our fp32 .onnx", md);
            Assert.Contains("We ship no SavedModel", md);
        }
        finally { Directory.Delete(outDir, recursive: true); }
    }
}
