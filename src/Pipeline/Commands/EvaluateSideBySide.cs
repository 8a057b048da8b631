using Alerts.Classifier;
using Alerts.Compression.Evaluation;
using Alerts.Core;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts evaluate --versus M2 [--versus M3 ...]</c>: one table with coverage, accuracy, per-class F1, weighted
/// log-loss, the real-sky SN Ia balanced accuracy, family macro-F1 and top-family ECE, and inference speed per alert for every model on the same labelled light curves (e.g. FINK's imported t2
/// beside ours). Each model preprocesses with its own preset (the ONNX 'alerts.preprocessing' metadata).
/// </summary>
internal static class EvaluateSideBySide
{
    public sealed record Speed(double Batch1Us, double Batch32Us);

    private const int Rounds = 3;

    /// <summary>
    /// Inference only (preprocessing excluded), one thread, on up to 64 real rows of this set preprocessed with each
    /// model's own preset: µs per alert at batch 1 and 32. The models are measured round-robin, 3 rounds, and each
    /// keeps its best round's median, so a burst of load from other processes does not land on one model only.
    /// </summary>
    public static List<Speed> MeasureSpeeds(IReadOnlyList<string> modelPaths, List<ObjectLightCurve> objects)
    {
        var runners = new List<(OrtModelRunner Runner, LabelledSet Data)>();
        try
        {
            foreach (var modelPath in modelPaths)
            {
                LabelledSet data;
                using (var clf = new OnnxT2Classifier(modelPath, new OnnxT2Options { MaxBatchSize = 32 }))
                {
                    var ex = new T2FeatureExtractor(clf.Preprocessing);
                    int size = clf.Steps * clf.ChannelCount, n = 0;
                    var rows = new List<float>();
                    var row = new float[size];
                    foreach (var o in objects)
                    {
                        if (ex.Extract(o.LightCurve, row) is null) { rows.AddRange(row); n++; }
                        if (n == 64) break;
                    }
                    if (n == 0) throw new InvalidDataException($"no object of this set passes {clf.Preprocessing.Name}; cannot time {modelPath}");
                    data = new LabelledSet(rows.ToArray(), new long[n], clf.Steps, clf.ChannelCount);
                }
                var format = modelPath.EndsWith(".ort", StringComparison.OrdinalIgnoreCase) ? ModelFormat.Ort : ModelFormat.Onnx;
                runners.Add((new OrtModelRunner(File.ReadAllBytes(modelPath), format), data));
            }
            var best1 = Enumerable.Repeat(double.MaxValue, runners.Count).ToArray();
            var best32 = Enumerable.Repeat(double.MaxValue, runners.Count).ToArray();
            for (int round = 0; round < Rounds; round++)
                for (int m = 0; m < runners.Count; m++)
                {
                    best1[m] = Math.Min(best1[m], runners[m].Runner.MicrosecondsPerAlert(runners[m].Data, 1, warmup: 10, repeats: 100));
                    best32[m] = Math.Min(best32[m], runners[m].Runner.MicrosecondsPerAlert(runners[m].Data, 32, warmup: 2, repeats: 15));
                }
            return Enumerable.Range(0, runners.Count).Select(m => new Speed(best1[m], best32[m])).ToList();
        }
        finally { foreach (var (r, _) in runners) r.Dispose(); }
    }

    public static void Print(IReadOnlyList<(EvaluateCommand.EvaluationReport Report, Speed Speed)> models, IAnsiConsole console)
    {
        // Numbered columns and a legend: model file names are too long for table headers.
        var table = new Table().Title("t2 side by side (same labelled light curves)").AddColumn("metric");
        for (int i = 0; i < models.Count; i++) table.AddColumn(new TableColumn(Markup.Escape($"[{i + 1}]")).RightAligned());
        void Row(string name, Func<EvaluateCommand.EvaluationReport, Speed, string> cell) =>
            table.AddRow([Markup.Escape(name), .. models.Select(m => Markup.Escape(cell(m.Report, m.Speed)))]);
        Row("classified / objects", (r, _) => $"{r.Classified}/{r.Objects}");
        Row("accuracy", (r, _) => ClassifierInputs.F(r.Accuracy));
        Row("macro-F1", (r, _) => ClassifierInputs.F(r.MacroF1));
        Row("weighted log-loss", (r, _) => ClassifierInputs.F(r.WeightedLogLoss));
        // Real sky, by family, on the whole curves (or the first view evaluated when there are none).
        string view = EvaluateRealSky.Primary(models[0].Report.RealSkyViews)?.View ?? EvaluateRealSky.WholeCurve;
        RealSkyView? Sky(EvaluateCommand.EvaluationReport r) => r.RealSkyViews.FirstOrDefault(v => v.View == view);
        Row($"SN Ia bal. acc. ({view})", (r, _) => ClassifierInputs.F(Sky(r)?.SnIaBalancedAccuracy ?? double.NaN));
        Row($"family macro-F1 ({view})", (r, _) => ClassifierInputs.F(Sky(r)?.MacroF1 ?? double.NaN));
        Row($"ECE top family ({view})", (r, _) => ClassifierInputs.F(Sky(r)?.Ece ?? double.NaN));
        foreach (var name in T2Classes.Names)
        {
            if (models.All(m => m.Report.PerClass.FirstOrDefault(c => c.Name == name) is not { Support: > 0 })) continue;
            int support = models[0].Report.PerClass.First(c => c.Name == name).Support;
            Row($"F1 {name} ({support})", (r, _) => ClassifierInputs.F(r.PerClass.First(c => c.Name == name).F1));
        }
        Row("µs/alert batch 1", (_, s) => $"{s.Batch1Us:F0}");
        Row("µs/alert batch 32", (_, s) => $"{s.Batch32Us:F0}");
        Row("batch-1 speed vs [1]", (_, s) => $"{models[0].Speed.Batch1Us / s.Batch1Us:F2}x");
        console.Write(table);
        for (int i = 0; i < models.Count; i++)
            console.MarkupLineInterpolated($"[[{i + 1}]] {models[i].Report.Model} (model id {models[i].Report.ModelId})");
        console.MarkupLineInterpolated($"speed: ONNX Runtime CPU, 1 thread, best of 3 round-robin medians, on {Environment.ProcessorCount} logical cores ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}); preprocessing (GP) excluded.");
    }
}
