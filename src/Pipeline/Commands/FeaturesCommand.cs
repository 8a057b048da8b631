using System.CommandLine;
using System.Diagnostics;
using Alerts.Classifier;
using Alerts.Core;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts features</c>: the t2 model inputs computed by the service's own preprocessing, for training, so train and
/// serve see identical inputs. Writes an .npz with X float32 [N, steps, bands], y int64 [N] (t2 class index, FINK
/// T2_COLS order), ids &lt;U [N], objects &lt;U [N], alert_sample int64 [N] (1 = truncated alert-like history) and
/// channels &lt;U [bands]; light curves the preprocessing rejects are left out and counted.
/// </summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        var lightcurves = new Option<string?>("--lightcurves") { Description = "light-curve table (CSV, tables.md format)" };
        var labels = new Option<string?>("--labels") { Description = "label table (CSV: object_id, class, ...)" };
        var bts = new Option<string?>("--bts") { Description = "real ZTF BTS folder instead of a table" };
        var survey = new Option<string>("--survey") { Description = "ztf or lsst", DefaultValueFactory = _ => "ztf" };
        var preset = new Option<string?>("--preset") { Description = "preprocessing preset: t2-ztf-window, t2-lsst-window (the shipped models' recipe, the default for --survey), t2-ztf, t2-lsst (t2's span grid), fink-t2" };
        var output = new Option<string>("--out") { Description = "output .npz (or .npy for X only)", Required = true };
        var limit = new Option<int>("--limit") { Description = "at most N objects (0 = all)" };
        var workers = new Option<int>("--workers") { Description = "worker threads (one GP each)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var ids = new Option<string?>("--ids") { Description = "only the object ids listed in this file (one per line), e.g. the held-out split train_t2.py writes" };
        var augment = new Option<int>("--augment") { Description = "per object, N augmented light curves (moved to a higher redshift through the GP, new cadence, noise and detection threshold; see LightCurveAugmenter) before the alert samples and day views are cut" };
        var augmentTarget = new Option<int>("--augment-target") { Description = "instead of --augment: per class, enough augmented curves per object that the class reaches about N light curves (rare classes get more, capped at 60 per object; with --augment-from only the copies count, at least 1 per object)" };
        var augmentSeed = new Option<int>("--augment-seed") { Description = "seed of the augmentation", DefaultValueFactory = _ => 1 };
        var augmentFrom = new Option<string?>("--augment-from")
        {
            Description = "the labelled table holds curves of this survey (ztf: ztfg/ztfr or g/r) and only their augmented copies moved into --survey's bands are written "
                + "(ztf into lsst: the 2-D GP carries each ZTF g/r curve into Rubin's ugrizy, read at the rest-frame wavelength each band samples, at a redshift "
                + "drawn up to where the peak reaches Rubin's r depth (at most 0.8), with Rubin-like cadence: ~3 d revisits, two visits a night in different bands, "
                + "~6-month seasons, single-visit 5σ depths u 23.7 g 24.9 r 24.4 i 23.9 z 23.3 y 22.5); needs --augment or --augment-target (per class, N moved "
                + "curves); rows keep objects = the source id, augmented = 1 and real = 1 (they derive from real curves); u and y lie outside ZTF's bands: the GP "
                + "reverts toward zero there and its larger uncertainty is added as noise",
        };
        var sampling = new ClassifierInputs.AlertSampleOptions();
        var cmd = new Command("features", "Compute t2 inputs (the 2-D GP sampled on the preset's 100-step grid) for labelled light curves, for training.");
        foreach (var o in new Option[] { lightcurves, labels, bts, survey, preset, output, limit, workers, ids, augment, augmentTarget, augmentSeed, augmentFrom }.Concat(sampling.All)) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            try
            {
                var sv = ClassifierInputs.ParseSurvey(parse.GetValue(survey));
                var pre = parse.GetValue(preset) is { } p ? T2Preprocessing.ByName(p) : T2Preprocessing.ForSurvey(sv);
                var skipped = new Dictionary<string, int>();
                var from = parse.GetValue(augmentFrom) is { } af ? ClassifierInputs.ParseSurvey(af) : sv;
                bool move = from != sv;
                if (move && !(parse.GetValue(augment) > 0 || parse.GetValue(augmentTarget) > 0))
                    throw new ArgumentException($"--augment-from {parse.GetValue(augmentFrom)}: only the moved copies are written; pass --augment N or --augment-target N");
                var objects = ClassifierInputs.ReadLabelled(parse.GetValue(bts), parse.GetValue(lightcurves), parse.GetValue(labels), from, skipped, parse.GetValue(ids) is null ? parse.GetValue(limit) : 0);
                if (parse.GetValue(ids) is { } idFile) objects = ClassifierInputs.FilterIds(objects, idFile, parse.GetValue(limit));
                var augmentWatch = new Stopwatch();
                if (parse.GetValue(augment) > 0 || parse.GetValue(augmentTarget) > 0) augmentWatch.Start();
                if (parse.GetValue(augment) is > 0 and var perObject)
                    objects = ClassifierInputs.Augment(objects, _ => perObject, sv, from, parse.GetValue(augmentSeed), Math.Max(1, parse.GetValue(workers)));
                else if (parse.GetValue(augmentTarget) is > 0 and var target)
                {
                    // The originals count towards the target, except when moved: then only the copies are written.
                    var perClass = objects.GroupBy(o => o.ClassIndex).ToDictionary(g => g.Key,
                        g => move ? Math.Clamp((int)Math.Round((double)target / g.Count()), 1, 60) : Math.Clamp((int)Math.Round((double)target / g.Count()) - 1, 0, 60));
                    objects = ClassifierInputs.Augment(objects, o => perClass[o.ClassIndex], sv, from, parse.GetValue(augmentSeed), Math.Max(1, parse.GetValue(workers)));
                }
                if (augmentWatch.IsRunning) ReportAugmentation(objects, augmentWatch.Elapsed, move);
                objects = sampling.Apply(parse, objects, sv);
                Run(objects, pre, parse.GetValue(output)!, Math.Max(1, parse.GetValue(workers)), skipped);
                return 0;
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or InvalidDataException or NotSupportedException or UnauthorizedAccessException)
            {
                ClassifierInputs.Stderr.MarkupLineInterpolated($"[red]features:[/] {ex.Message}");
                return 2;
            }
        });
        return cmd;
    }

    private static void ReportAugmentation(List<ObjectLightCurve> objects, TimeSpan elapsed, bool moved)
    {
        var copies = objects.Where(o => o.IsAugmented).ToList();
        var z = copies.Select(o => o.Redshift).Where(double.IsFinite).Order().ToList();
        string Q(double q) => z.Count == 0 ? "-" : ClassifierInputs.F(z[(int)Math.Min(z.Count - 1, Math.Floor(q * z.Count))], "0.000");
        ClassifierInputs.Stderr.MarkupLineInterpolated(
            $"{(moved ? "moved" : "augmented")}: {copies.Count} curves from {copies.Select(o => o.Object).Distinct().Count()} objects in {elapsed.TotalSeconds:0.0} s; redshift of the copies 10/50/90 %: {Q(0.1)} / {Q(0.5)} / {Q(0.9)}");
    }

    private static void Run(List<ObjectLightCurve> objects, T2Preprocessing preset, string output, int workers, Dictionary<string, int> skipped)
    {
        int size = preset.Steps * preset.InputChannels;
        var x = new float[objects.Count * size];
        var reasons = new string?[objects.Count];
        var sw = Stopwatch.StartNew();
        ClassifierInputs.Stderr.Progress().Start(ctx =>
        {
            var task = ctx.AddTask($"GP features for {objects.Count} objects", maxValue: Math.Max(1, objects.Count));
            int next = -1;
            var threads = Enumerable.Range(0, Math.Max(1, Math.Min(workers, objects.Count))).Select(_ => new Thread(() =>
            {
                var ex = new T2FeatureExtractor(preset);
                int i;
                while ((i = Interlocked.Increment(ref next)) < objects.Count)
                {
                    reasons[i] = ex.Extract(objects[i].LightCurve, x.AsSpan(i * size, size));
                    task.Increment(1);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        });
        sw.Stop();

        var keep = Enumerable.Range(0, objects.Count).Where(i => reasons[i] is null).ToList();
        var xs = new float[keep.Count * size];
        var ys = new long[keep.Count];
        var ids = new List<string>(keep.Count);
        var objectIds = new List<string>(keep.Count);
        var alertSample = new long[keep.Count];
        var augmented = new long[keep.Count];
        var real = new long[keep.Count];
        var view = new double[keep.Count];
        for (int k = 0; k < keep.Count; k++)
        {
            x.AsSpan(keep[k] * size, size).CopyTo(xs.AsSpan(k * size, size));
            ys[k] = objects[keep[k]].ClassIndex;
            ids.Add(objects[keep[k]].Id);
            objectIds.Add(objects[keep[k]].Object);
            alertSample[k] = objects[keep[k]].IsAlertHistory ? 1 : 0;
            augmented[k] = objects[keep[k]].IsAugmented ? 1 : 0;
            real[k] = objects[keep[k]].IsReal ? 1 : 0;
            view[k] = objects[keep[k]].View ?? double.NaN;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (dir is not null) Directory.CreateDirectory(dir);
        if (output.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            using var f = File.Create(output);
            NumpyArchive.WriteNpy(f, xs, keep.Count, preset.Steps, preset.InputChannels);
        }
        else
        {
            NumpyArchive.WriteNpz(output,
            [
                ("X", s => NumpyArchive.WriteNpy(s, xs, keep.Count, preset.Steps, preset.InputChannels)),
                ("y", s => NumpyArchive.WriteNpy(s, ys, keep.Count)),
                ("ids", s => NumpyArchive.WriteNpy(s, ids)),
                // Row → object (alert samples of one object share it: train/held-out splits must be by object).
                ("objects", s => NumpyArchive.WriteNpy(s, objectIds)),
                ("alert_sample", s => NumpyArchive.WriteNpy(s, alertSample, keep.Count)),
                ("augmented", s => NumpyArchive.WriteNpy(s, augmented, keep.Count)),
                ("real", s => NumpyArchive.WriteNpy(s, real, keep.Count)),
                // Days after the first detection a view was cut at; NaN for whole curves and alert samples.
                ("view", s => NumpyArchive.WriteNpy(s, view, keep.Count)),
                ("channels", s => NumpyArchive.WriteNpy(s, preset.InputChannelNames.ToList())),
                ("preset", s => NumpyArchive.WriteNpy(s, new List<string> { preset.Name })),
                ("classes", s => NumpyArchive.WriteNpy(s, T2Classes.Names)),
            ]);
        }

        var rejected = reasons.Where(r => r is not null).GroupBy(r => r!).OrderByDescending(g => g.Count());
        var table = new Table().Title($"features → {Markup.Escape(output)}").AddColumns("item", "value");
        table.AddRow("preset", preset.Name);
        table.AddRow("light curves (objects + alert samples)", $"{objects.Count} ({objects.Count(o => o.IsAlertHistory)} alert samples)");
        table.AddRow("written", keep.Count.ToString());
        table.AddRow("rejected", Markup.Escape(string.Join(", ", rejected.Select(g => $"{g.Key} {g.Count()}"))) is { Length: > 0 } r ? r : "0");
        table.AddRow("skipped labels", Markup.Escape(string.Join(", ", skipped.Select(kv => $"{kv.Key} {kv.Value}"))) is { Length: > 0 } s ? s : "0");
        foreach (var g in ys.GroupBy(v => v).OrderBy(g => g.Key))
            table.AddRow($"class {T2Classes.Names[g.Key]}", g.Count().ToString());
        table.AddRow("time", $"{sw.Elapsed.TotalSeconds:0.0} s, {sw.Elapsed.TotalMicroseconds * workers / Math.Max(1, objects.Count):0} µs/object/core on {workers} worker(s)");
        ClassifierInputs.Stderr.Write(table);
    }
}
