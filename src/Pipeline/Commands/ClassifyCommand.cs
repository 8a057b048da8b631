using System.CommandLine;
using System.Text;
using System.Text.Json;
using Alerts.Classifier;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Ingest.Sources;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts classify &lt;paths...&gt;</c>: one JSON line per object on stdout,
/// <c>{"id":…, "label":…, "probabilities":{class:p,…}, "p_SNIa_family":…, "model":…}</c> (or <c>"label":null, "reason":…,
/// "p_SNIa_family":null</c>); p_SNIa_family is SNIa + SNIax + SNIa-91bg.
/// Accepts alerts in any framing Ingest decodes (Avro container files, Confluent wire messages, tarballs, folders of
/// them), light-curve tables (CSV, tables.md), single ANTARES/BTS light-curve CSVs and the BTS folder. Alerts that
/// do not decode get a line with <c>"label":null, "reason":"dead-letter:&lt;code&gt;"</c> and a message on stderr.
/// </summary>
public static class ClassifyCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "alert files (.avro, .wire), tarballs, folders of alerts, light-curve tables (CSV), BTS light-curve CSVs or the BTS folder", Arity = ArgumentArity.OneOrMore };
        var schemas = new Option<string?>("--schemas") { Description = "schema folder for Confluent wire messages (default: schemas/ above the working directory)" };
        var models = new Option<string[]>("--model") { Description = "t2 model file(s), .onnx or .ort, one per survey (the survey follows the band count: 2 ZTF g/r, 6 Rubin ugrizy); each alert goes to its survey's model. Default: the shipped models/t2-ztf.deployed.ort and models/t2-lsst.deployed.ort", AllowMultipleArgumentsPerToken = true };
        var survey = new Option<string>("--survey") { Description = "survey of light-curve table rows whose band names are bare letters (g, r, ...): ztf or lsst. Alerts carry their own survey; table rows with ztf*/lsst* bands follow them", DefaultValueFactory = _ => "ztf" };
        var batch = new Option<int>("--batch") { Description = "micro-batch size", DefaultValueFactory = _ => 32 };
        var workers = new Option<int>("--workers") { Description = "worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("classify", "Classify light curves with t2 and print one JSON line per object.");
        cmd.Arguments.Add(paths);
        foreach (var o in new Option[] { models, survey, batch, workers, schemas }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
                var sv = ClassifierInputs.ParseSurvey(parse.GetValue(survey));
                var modelFiles = parse.GetValue(models) is { Length: > 0 } given ? given.ToList() : Processing.ModelLocator.DefaultModels();
                foreach (var f in modelFiles)
                    if (!File.Exists(f)) throw new FileNotFoundException($"--model {f}: file not found; pass a t2 model (.onnx or .ort) such as models/{Processing.ModelLocator.FileName(sv)}", f);
                int batchSize = Math.Max(1, parse.GetValue(batch));
                // Probe once (fails early on a bad model); each worker then loads its own sessions.
                using (var probe = ReplayCommand.LoadModels(modelFiles, 1))
                    ClassifierInputs.Stderr.MarkupLineInterpolated($"classify: models {Processing.ModelLocator.Describe(probe)}");
                var objects = new List<(ObjectLightCurve Obj, string Origin)>();
                var alerts = new List<DecodedAlert>();
                var deadLetters = new List<DeadLetter>();
                var unreadable = new List<(string File, string Reason)>();
                var registry = new AvroSchemaRegistry(parse.GetValue(schemas) ?? FindSchemas());
                var decoder = new AlertDecoder(registry);
                foreach (var p in parse.GetValue(paths)!)
                {
                    IAlertSource? source = Directory.Exists(p) && !ClassifierInputs.IsBtsFolder(p) ? new FolderAlertSource(p, registry)
                        : File.Exists(p) && AlertFiles.IsTarball(p) ? new TarballAlertSource(p, registry)
                        : File.Exists(p) && AlertFiles.IsAlertFile(p) ? new FileAlertSource(p, registry)
                        : null;
                    if (source is not null)
                    {
                        await foreach (var raw in source.ReadAsync(ct))
                        {
                            var d = decoder.Decode(raw);
                            if (d.IsSuccess) alerts.Add(d.Alert!);
                            else
                            {
                                deadLetters.Add(d.DeadLetter!);
                                ClassifierInputs.Stderr.MarkupLineInterpolated($"[yellow]dead letter[/] {d.DeadLetter!.ToString()}");
                            }
                        }
                    }
                    else if (ClassifierInputs.IsBtsFolder(p))
                    {
                        // A classifier reads the light curves only: every object, whatever (or whether) the label table says.
                        foreach (var file in BtsLabelledSet.LightCurveFiles(p))
                        {
                            var lc = new LightCurve();
                            if (BtsLabelledSet.ReadLightCurve(file, lc) is { } err) { unreadable.Add((file, err)); ClassifierInputs.Stderr.MarkupLineInterpolated($"[yellow]unreadable[/] {err}"); }
                            else objects.Add((new ObjectLightCurve(Path.GetFileNameWithoutExtension(file), lc), file));
                        }
                    }
                    else if (ClassifierInputs.IsBtsLightCurveFile(p))
                    {
                        var lc = new LightCurve();
                        if (BtsLabelledSet.ReadLightCurve(p, lc) is { } err) throw new InvalidDataException(err);
                        objects.Add((new ObjectLightCurve(Path.GetFileNameWithoutExtension(p), lc), p));
                    }
                    else if (File.Exists(p))
                        objects.AddRange(ClassifierInputs.ReadTable(p, sv).Select(o => (o, p)));
                    else
                        throw new FileNotFoundException($"{p}: not found; pass alert files/folders/tarballs, light-curve tables (lightcurves.csv) or BTS CSVs", p);
                }
                alerts.AddRange(objects.Select((o, i) => ClassifierInputs.AsAlert(o.Obj, ClassifierInputs.SurveyOf(o.Obj.LightCurve, sv), o.Origin, i)));
                var names = new Dictionary<string, string>();
                var results = ClassifierInputs.ClassifyAll(() =>
                {
                    var router = ReplayCommand.LoadModels(modelFiles, 1, batchSize);
                    lock (names)
                        foreach (var m in router.Models.Values.OfType<OnnxT2Classifier>()) names[m.ModelId] = Path.GetFileName(m.ModelPath);
                    return router;
                }, alerts, Math.Max(1, parse.GetValue(workers)), batchSize);
                var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
                foreach (var r in results) stdout.WriteLine(ToJson(r, names.GetValueOrDefault(r.ModelId)));
                foreach (var d in deadLetters) stdout.WriteLine(DeadLetterJson(d));
                foreach (var (file, reason) in unreadable) stdout.WriteLine(UnreadableJson(file, reason));
                stdout.Flush();
                Summarise(results, names, deadLetters, unreadable.Count);
                return 0;
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or InvalidDataException or NotSupportedException or UnauthorizedAccessException)
            {
                ClassifierInputs.Stderr.MarkupLineInterpolated($"[red]classify:[/] {ex.Message}");
                return 2;
            }
        });
        return cmd;
    }

    /// <summary>The JSON line of one result.</summary>
    public static string ToJson(Classification r, string? modelName = null)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("id", r.Identity.ObjectId);
            if (r.Identity.AlertId != 0 && r.Identity.SchemaVersion != "table") w.WriteNumber("alert_id", r.Identity.AlertId);
            if (r.Label is null) w.WriteNull("label"); else w.WriteString("label", r.Label);
            if (r.IsClassified)
            {
                w.WriteNumber("probability", Math.Round(r.LabelProbability, 6));
                w.WriteStartObject("probabilities");
                for (int c = 0; c < r.Probabilities.Length; c++) w.WriteNumber(T2Classes.Names[c], Math.Round(r.Probabilities[c], 6));
                w.WriteEndObject();
            }
            else w.WriteString("reason", r.Reason);
            if (r.SNIaFamilyProbability is { } ia) w.WriteNumber("p_SNIa_family", Math.Round(ia, 6)); else w.WriteNull("p_SNIa_family");
            w.WriteString("model", r.ModelId);
            if (modelName is not null) w.WriteString("model_name", modelName);
            w.WriteNumber("points", r.PointCount);
            w.WriteNumber("preprocess_us", Math.Round(r.Timings.PreprocessUs, 1));
            w.WriteNumber("inference_us", Math.Round(r.Timings.InferenceUs, 1));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The JSON line of an input that did not decode (no alert is dropped silently).</summary>
    public static string DeadLetterJson(DeadLetter d)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("id", d.Source.Position.ToString());
            w.WriteNull("label");
            w.WriteString("reason", "dead-letter:" + d.Reason);
            w.WriteString("detail", d.Detail);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The JSON line of a light-curve file that could not be read (no object is dropped silently).</summary>
    public static string UnreadableJson(string file, string reason)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("id", Path.GetFileNameWithoutExtension(file));
            w.WriteNull("label");
            w.WriteString("reason", "unreadable");
            w.WriteString("detail", reason);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string? FindSchemas()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "schemas");
            if (Directory.Exists(p)) return p;
        }
        return null;
    }

    private static void Summarise(Classification[] results, Dictionary<string, string> modelNames, List<DeadLetter> deadLetters, int unreadable)
    {
        var used = results.Select(r => r.ModelId).Distinct().Select(id => modelNames.TryGetValue(id, out var n) ? $"{n} (id {id})" : id);
        var table = new Table().Title($"classified with {Markup.Escape(string.Join(", ", used))}").AddColumns("label / reason", "count");
        foreach (var g in results.GroupBy(r => r.Label ?? "not classified: " + r.Reason).OrderByDescending(g => g.Count()))
            table.AddRow(Markup.Escape(g.Key), g.Count().ToString());
        foreach (var g in deadLetters.GroupBy(d => d.Reason))
            table.AddRow(Markup.Escape("dead letter: " + g.Key), g.Count().ToString());
        if (unreadable > 0) table.AddRow("unreadable light-curve files", unreadable.ToString());
        var ok = results.Where(r => r.IsClassified).ToList();
        if (ok.Count > 0)
            table.AddRow("mean preprocess / inference µs", $"{ok.Average(r => r.Timings.PreprocessUs):0} / {ok.Average(r => r.Timings.InferenceUs):0.0}");
        ClassifierInputs.Stderr.Write(table);
    }
}
