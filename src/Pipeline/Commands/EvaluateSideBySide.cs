using Alerts.Classifier;
using Alerts.Compression.Evaluation;
using Alerts.Core;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts evaluate --versus M2 [--versus M3 ...]</c>: one table with coverage, accuracy, per-class F1, weighted
/// log-loss and inference speed per alert for every model on the same labelled light curves (e.g. FINK's imported t2
/// beside ours). Each model preprocesses with its own preset (the ONNX 'alerts.preprocessing' metadata).
/// </summary>
internal static class EvaluateSideBySide
{
    public sealed record Speed(double Batch1Us, double Batch32Us);

    /// <summary>Inference only (preprocessing excluded), one thread: median µs per alert at batch 1 and 32 on real rows of this set.</summary>
    public static Speed MeasureSpeed(string modelPath, List<ObjectLightCurve> objects, Survey survey)
    {
        using var clf = new OnnxT2Classifier(modelPath, new OnnxT2Options { MaxBatchSize = 32 });
        var ex = new T2FeatureExtractor(clf.Preprocessing);
        int size = clf.Steps * clf.ChannelCount;
        var rows = new List<float>();
        int n = 0;
        var row = new float[size];
        foreach (var o in objects)
        {
            if (ex.Extract(o.LightCurve, row) is null) { rows.AddRange(row); n++; }
            if (n == 64) break;
        }
        if (n == 0) return new Speed(double.NaN, double.NaN);
        var data = new LabelledSet(rows.ToArray(), new long[n], clf.Steps, clf.ChannelCount);
        var format = modelPath.EndsWith(".ort", StringComparison.OrdinalIgnoreCase) ? ModelFormat.Ort : ModelFormat.Onnx;
        using var runner = new OrtModelRunner(File.ReadAllBytes(modelPath), format);
        return new Speed(runner.MicrosecondsPerAlert(data, 1, repeats: 400), runner.MicrosecondsPerAlert(data, 32, repeats: 100));
    }

    public static void Print(IReadOnlyList<(EvaluateCommand.EvaluationReport Report, Speed Speed)> models, string? speedOnlyNote = null)
    {
        var table = new Table().Title("t2 side by side (same labelled light curves)").AddColumn("metric");
        foreach (var (r, _) in models) table.AddColumn(Markup.Escape($"{Path.GetFileName(r.Model)} ({r.ModelId})"));
        void Row(string name, Func<EvaluateCommand.EvaluationReport, Speed, string> cell) =>
            table.AddRow([Markup.Escape(name), .. models.Select(m => Markup.Escape(cell(m.Report, m.Speed)))]);
        Row("coverage (classified / objects)", (r, _) => $"{r.Classified}/{r.Objects} ({(double)r.Classified / Math.Max(1, r.Objects):P1})");
        Row("accuracy", (r, _) => ClassifierInputs.F(r.Accuracy));
        Row("macro-F1 (classes present)", (r, _) => ClassifierInputs.F(r.MacroF1));
        Row("PLAsTiCC weighted log-loss", (r, _) => ClassifierInputs.F(r.WeightedLogLoss));
        foreach (var name in T2Classes.Names)
        {
            if (models.All(m => m.Report.PerClass.FirstOrDefault(c => c.Name == name) is not { Support: > 0 })) continue;
            int support = models[0].Report.PerClass.First(c => c.Name == name).Support;
            Row($"F1 {name} (n={support})", (r, _) => ClassifierInputs.F(r.PerClass.First(c => c.Name == name).F1));
        }
        Row("inference µs/alert, batch 1", (_, s) => $"{s.Batch1Us:F1}");
        Row("inference µs/alert, batch 32", (_, s) => $"{s.Batch32Us:F1}");
        ClassifierInputs.Stderr.Write(table);
        ClassifierInputs.Stderr.MarkupLineInterpolated($"speed: ONNX Runtime CPU, 1 thread, median of timed runs after warm-up, on {Environment.ProcessorCount} logical cores ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}); preprocessing (GP) excluded.");
        if (speedOnlyNote is not null) ClassifierInputs.Stderr.MarkupLine(Markup.Escape(speedOnlyNote));
    }
}
