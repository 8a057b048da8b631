using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Alerts.Classifier;
using Alerts.Core;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts evaluate</c>: per-class accuracy, macro-F1 and PLAsTiCC weighted log-loss of a t2 model on labelled light
/// curves, and the real-sky metrics by family (<see cref="RealSkyMetrics"/>) per view (whole curve, alert histories,
/// <c>--days</c> views). Objects a model says it was trained on (ONNX metadata <c>alerts.training_objects</c>) are left
/// out unless <c>--include-training-objects</c>.
/// </summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "t2 model, .onnx or .ort (default: the shipped models/t2-<survey>.deployed.ort)" };
        var lightcurves = new Option<string?>("--lightcurves") { Description = "light-curve table (CSV, tables.md format)" };
        var labels = new Option<string?>("--labels") { Description = "label table (CSV: object_id, class, ...)" };
        var bts = new Option<string?>("--bts") { Description = "the real ZTF BTS set: folder holding ZTF_BTS_02_02__02_04_2021.csv and light-curves/" };
        var survey = new Option<string>("--survey") { Description = "ztf or lsst (band names, default model)", DefaultValueFactory = _ => "ztf" };
        var json = new Option<bool>("--json") { Description = "print the metrics as one JSON object on stdout" };
        var limit = new Option<int>("--limit") { Description = "evaluate at most N objects (0 = all)" };
        var ids = new Option<string?>("--ids") { Description = "evaluate only the object ids listed in this file (one per line), e.g. the held-out split written by train_t2.py" };
        var workers = new Option<int>("--workers") { Description = "worker threads (one session each)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var sampling = new ClassifierInputs.AlertSampleOptions();
        var versus = new Option<string[]>("--versus") { Description = "also evaluate these models (e.g. FINK's t2 from alerts import-tflite, or a compressed .ort) and print one side-by-side table with speed", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        var includeTraining = new Option<bool>("--include-training-objects") { Description = "also score the objects a model was trained on (its ONNX metadata alerts.training_objects names them; by default they are left out): the figures are then not held-out" };
        var cmd = new Command("evaluate", "Evaluate a t2 model on labelled light curves: per-class accuracy, macro-F1, PLAsTiCC weighted log-loss, and real-sky metrics by family (coverage, SN Ia balanced accuracy, family macro-F1, ECE) per view.");
        foreach (var o in new Option[] { model, lightcurves, labels, bts, survey, json, limit, ids, workers, versus, includeTraining }.Concat(sampling.All)) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            try
            {
                var sv = ClassifierInputs.ParseSurvey(parse.GetValue(survey));
                var modelPath = ClassifierInputs.ResolveModel(parse.GetValue(model), sv);
                var others = parse.GetValue(versus) ?? [];
                foreach (var other in others)
                    if (!File.Exists(other)) throw new FileNotFoundException($"--versus {other}: model file not found", other);
                var rules = new List<(string Model, TrainingObjects Rule)>();
                using (var probe = new OnnxT2Classifier(modelPath, new OnnxT2Options { MaxBatchSize = 1 }))
                {
                    Consoles.Err.MarkupLineInterpolated($"evaluate: model {Processing.ModelLocator.Describe(probe)}");
                    if (probe.TrainingObjects is { } r) rules.Add((modelPath, r));
                }
                foreach (var other in others)
                    using (var probe = new OnnxT2Classifier(other, new OnnxT2Options { MaxBatchSize = 1 }))
                        if (probe.TrainingObjects is { } r) rules.Add((other, r));
                int lim = parse.GetValue(limit);
                var skipped = new Dictionary<string, int>();
                // With a training-objects rule, --limit counts the objects kept, so it is applied after the guard.
                var objects = ClassifierInputs.ReadLabelled(parse.GetValue(bts), parse.GetValue(lightcurves), parse.GetValue(labels), sv, skipped,
                    parse.GetValue(ids) is null && rules.Count == 0 ? lim : 0);
                if (parse.GetValue(ids) is { } idFile) objects = ClassifierInputs.FilterIds(objects, idFile, rules.Count == 0 ? lim : 0);
                var guard = GuardTrainingObjects(objects, rules, parse.GetValue(includeTraining), Consoles.Err);
                objects = guard.Objects;
                if (rules.Count > 0 && lim > 0) objects = objects.Take(lim).ToList();
                objects = sampling.Apply(parse, objects, sv);
                var report = Run(modelPath, objects, sv, Math.Max(1, parse.GetValue(workers)), skipped, parse.GetValue(json)) with
                    { TrainingObjectsLeftOut = guard.LeftOut, TrainingObjectsScored = guard.Scored };
                if (others.Length > 0)
                {
                    var reports = new List<EvaluationReport> { report };
                    foreach (var other in others)
                        reports.Add(Run(other, objects, sv, Math.Max(1, parse.GetValue(workers)), skipped, parse.GetValue(json)));
                    var speeds = EvaluateSideBySide.MeasureSpeeds([modelPath, .. others], objects);
                    var all = reports.Zip(speeds).ToList();
                    EvaluateSideBySide.Print(all, parse.GetValue(json) ? Consoles.Err : Consoles.Out);
                }
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = false, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
                return 0;
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or InvalidDataException or NotSupportedException or UnauthorizedAccessException)
            {
                ClassifierInputs.Stderr.MarkupLineInterpolated($"[red]evaluate:[/] {ex.Message}");
                return 2;
            }
        });
        return cmd;
    }

    /// <summary>
    /// The machine-readable result of one evaluation. The per-class fields keep their PascalCase names; the real-sky
    /// views (<c>realSky</c>) and the training-objects counts are camelCase, with NaN written as null.
    /// </summary>
    public sealed record EvaluationReport(
        string Model, string ModelId, int Objects, int Classified, Dictionary<string, int> NotClassified, Dictionary<string, int> Skipped,
        double Accuracy, double MacroF1, double WeightedLogLoss, Dictionary<string, double> LogLossWeights,
        List<ClassMetrics> PerClass, Dictionary<string, Dictionary<string, int>> Confusion, double Seconds,
        [property: JsonIgnore] List<RealSkyView> RealSkyViews)
    {
        /// <summary>The real-sky metrics per view (see <see cref="EvaluateRealSky"/>).</summary>
        [JsonPropertyName("realSky")]
        public JsonNode? RealSky => EvaluateRealSky.ToJson(RealSkyViews);

        /// <summary>Distinct objects left out because a model was trained on them (0 without a rule or with --include-training-objects).</summary>
        [JsonPropertyName("trainingObjectsLeftOut")]
        public int TrainingObjectsLeftOut { get; init; }

        /// <summary>Distinct training objects scored anyway (--include-training-objects).</summary>
        [JsonPropertyName("trainingObjectsScored")]
        public int TrainingObjectsScored { get; init; }
    }

    /// <summary>
    /// The training-objects guard: without <paramref name="include"/>, leaves out every object a rule contains and warns
    /// how many (naming --include-training-objects); with it, keeps them and warns that the figures are not held-out.
    /// Counts are of distinct objects. No rule: the objects are returned as they are.
    /// </summary>
    internal static (List<ObjectLightCurve> Objects, int LeftOut, int Scored) GuardTrainingObjects(
        List<ObjectLightCurve> objects, IReadOnlyList<(string Model, TrainingObjects Rule)> rules, bool include, IAnsiConsole err)
    {
        if (rules.Count == 0) return (objects, 0, 0);
        var (heldOut, training) = EvaluateRealSky.SplitTrainingObjects(objects, rules.Select(r => r.Rule).ToList());
        int n = training.Select(o => o.Object).Distinct(StringComparer.Ordinal).Count();
        string which = string.Join("; ", rules.Select(r => $"{Path.GetFileName(r.Model)}: {r.Rule}"));
        if (n == 0) return (objects, 0, 0);
        if (include)
        {
            err.MarkupLineInterpolated($"[yellow]evaluate: warning:[/] --include-training-objects: {n} of the objects were in training ({TrainingObjects.MetadataKey} {which}); the figures below are NOT held-out");
            return (objects, 0, n);
        }
        err.MarkupLineInterpolated($"[yellow]evaluate: warning:[/] left out {n} objects the model was trained on ({TrainingObjects.MetadataKey} {which}); --include-training-objects scores them anyway");
        return (heldOut, n, 0);
    }

    private static EvaluationReport Run(string modelPath, List<ObjectLightCurve> objects, Survey survey, int workers, Dictionary<string, int> skipped, bool quiet)
    {
        var alerts = objects.Select((o, i) => ClassifierInputs.AsAlert(o, survey, o.Id, i)).ToList();
        var sw = Stopwatch.StartNew();
        Classification[] results = [];
        ClassifierInputs.Stderr.Progress().Start(ctx =>
        {
            var task = ctx.AddTask($"classifying {alerts.Count} objects", maxValue: Math.Max(1, alerts.Count));
            results = ClassifierInputs.ClassifyAll(modelPath, alerts, workers, 32, n => task.Increment(n));
        });
        sw.Stop();

        var ev = new T2Evaluation();
        var notClassified = new Dictionary<string, int>();
        for (int i = 0; i < results.Length; i++)
        {
            if (!results[i].IsClassified) { notClassified[results[i].Reason!] = notClassified.GetValueOrDefault(results[i].Reason!) + 1; continue; }
            ev.Add(objects[i].ClassIndex, results[i].Probabilities);
        }
        var per = ev.PerClass().ToList();
        var confusion = new Dictionary<string, Dictionary<string, int>>();
        for (int t = 0; t < T2Classes.Count; t++)
        {
            if (per[t].Support == 0) continue;
            var row = new Dictionary<string, int>();
            for (int p = 0; p < T2Classes.Count; p++) if (ev.Confusion(t, p) > 0) row[T2Classes.Names[p]] = ev.Confusion(t, p);
            confusion[T2Classes.Names[t]] = row;
        }
        var weights = Enumerable.Range(0, T2Classes.Count).ToDictionary(c => T2Classes.Names[c], T2Evaluation.PlasticcWeight);
        var modelId = results.FirstOrDefault()?.ModelId ?? "";
        var realSky = EvaluateRealSky.Compute(objects, results);
        var report = new EvaluationReport(modelPath, modelId, objects.Count, ev.Count, notClassified, skipped, ev.Accuracy, ev.MacroF1, ev.WeightedLogLoss,
            weights, per, confusion, sw.Elapsed.TotalSeconds, realSky);

        // The tables are the result (stdout); with --json the JSON object is, and the tables go to stderr for people.
        var con = quiet ? Consoles.Err : Consoles.Out;
        var table = new Table().Title($"t2 evaluation: {Path.GetFileName(modelPath)} ({modelId})")
            .AddColumns("class", "support", "predicted", "accuracy (recall)", "precision", "F1", "log-loss weight");
        foreach (var m in per.Where(m => m.Support > 0 || m.Predicted > 0))
            table.AddRow(m.Name, m.Support.ToString(), m.Predicted.ToString(), ClassifierInputs.F(m.Accuracy), ClassifierInputs.F(m.Precision),
                ClassifierInputs.F(m.F1), ClassifierInputs.F(T2Evaluation.PlasticcWeight(T2Classes.IndexOf(m.Name)), "0"));
        con.Write(table);
        var summary = new Table().AddColumns("metric", "value");
        summary.AddRow("objects", objects.Count.ToString());
        summary.AddRow("classified", ev.Count.ToString());
        summary.AddRow("not classified", string.Join(", ", notClassified.Select(kv => $"{kv.Key} {kv.Value}")) is { Length: > 0 } s ? Markup.Escape(s) : "0");
        summary.AddRow("skipped (no t2 class)", Markup.Escape(string.Join(", ", skipped.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"))) is { Length: > 0 } k ? k : "0");
        summary.AddRow("accuracy", ClassifierInputs.F(ev.Accuracy));
        summary.AddRow("macro-F1 (classes present)", ClassifierInputs.F(ev.MacroF1));
        summary.AddRow("PLAsTiCC weighted log-loss (TDE, KN ×2)", ClassifierInputs.F(ev.WeightedLogLoss));
        summary.AddRow("time", $"{sw.Elapsed.TotalSeconds:0.0} s on {workers} worker(s)");
        con.Write(summary);
        EvaluateRealSky.Print(realSky, con);
        return report;
    }
}
