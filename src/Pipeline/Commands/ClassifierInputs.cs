using System.Globalization;
using Alerts.Classifier;
using Alerts.Core;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>One object to classify or learn from: its id, light curve and (when known) its true t2 class index.</summary>
internal sealed record ObjectLightCurve(string Id, LightCurve LightCurve, int ClassIndex = -1, string? SourceLabel = null);

/// <summary>Inputs shared by <c>alerts classify</c>, <c>alerts evaluate</c> and <c>alerts features</c>.</summary>
internal static class ClassifierInputs
{
    /// <summary>Spectre console on stderr, so stdout carries only machine output (JSON lines).</summary>
    public static IAnsiConsole Stderr { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public static Survey ParseSurvey(string? text) => (text ?? "ztf").ToLowerInvariant() switch
    {
        "ztf" => Survey.Ztf,
        "lsst" or "rubin" => Survey.Lsst,
        "elasticc" => Survey.Elasticc,
        var s => throw new ArgumentException($"--survey {s}: use ztf or lsst"),
    };

    /// <summary>The model named by --model, or models/t2-&lt;survey&gt;.onnx found above the working directory or the executable.</summary>
    public static string ResolveModel(string? model, Survey survey)
    {
        if (!string.IsNullOrEmpty(model))
        {
            if (!File.Exists(model)) throw new FileNotFoundException($"--model {model}: file not found; pass a t2 ONNX file such as models/t2-ztf.onnx", model);
            return model;
        }
        var name = $"t2-{(survey == Survey.Ztf ? "ztf" : "lsst")}.onnx";
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var p = Path.Combine(dir.FullName, "models", name);
                if (File.Exists(p)) return p;
            }
        throw new FileNotFoundException($"no --model given and models/{name} not found above {Directory.GetCurrentDirectory()}: pass --model PATH (train one with tools/train/train_t2.py)");
    }

    /// <summary>True when <paramref name="path"/> is the ztf-bts-antares folder (label table + light-curves/).</summary>
    public static bool IsBtsFolder(string path) =>
        Directory.Exists(path) && File.Exists(Path.Combine(path, BtsLabelledSet.LabelFile)) && Directory.Exists(Path.Combine(path, "light-curves"));

    /// <summary>True when the CSV is a single ANTARES/BTS light curve (ant_mjd, ant_passband, ant_mag, ant_magerr).</summary>
    public static bool IsBtsLightCurveFile(string path)
    {
        if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || !File.Exists(path)) return false;
        using var r = new StreamReader(path);
        return (r.ReadLine() ?? "").Contains("ant_mjd", StringComparison.Ordinal);
    }

    public static List<ObjectLightCurve> ReadBts(string folder, Dictionary<string, int> skipped, int limit) =>
        BtsLabelledSet.Read(folder, skipped).Take(limit > 0 ? limit : int.MaxValue)
            .Select(x => new ObjectLightCurve(x.ObjectId, x.LightCurve, x.ClassIndex, x.SourceType)).ToList();

    /// <summary>
    /// Reads a label table (CSV: object_id, class, ...; class is a T2Classes name). Returns object_id → class index.
    /// Rows whose class is not a t2 class are counted in <paramref name="skipped"/>.
    /// </summary>
    public static Dictionary<string, int> ReadLabels(string path, Dictionary<string, int> skipped)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--labels {path}: file not found; expected labels.csv (object_id, class, ...) from alerts simulate", path);
        if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--labels {path}: only the CSV label table is read here; pass <out>/labels.csv");
        using var reader = new StreamReader(path);
        var header = BtsLabelledSet.SplitCsvPublic(reader.ReadLine() ?? "");
        int id = header.IndexOf("object_id"), cls = header.IndexOf("class");
        if (id < 0 || cls < 0) throw new InvalidDataException($"{path}: header lacks column {(id < 0 ? "object_id" : "class")}; the label table is object_id, class, survey, redshift, ...");
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0) continue;
            var f = BtsLabelledSet.SplitCsvPublic(line);
            if (f.Count <= Math.Max(id, cls)) continue;
            int c = T2Classes.IndexOf(f[cls]);
            if (c < 0) { skipped[f[cls]] = skipped.GetValueOrDefault(f[cls]) + 1; continue; }
            map[f[id]] = c;
        }
        return map;
    }

    /// <summary>A decoded-alert wrapper for an object read from a table, so tables and alerts share one classifier path.</summary>
    public static DecodedAlert AsAlert(ObjectLightCurve o, Survey survey, string origin, long index) =>
        new(new AlertIdentity(survey, index, o.Id, double.NaN, double.NaN, o.LightCurve.Count > 0 ? MaxMjd(o.LightCurve) : double.NaN, "table"),
            o.LightCurve, new RawAlert(ReadOnlyMemory<byte>.Empty, SourcePosition.File(origin, index), DateTimeOffset.UtcNow));

    private static double MaxMjd(LightCurve lc)
    {
        double m = double.NegativeInfinity;
        foreach (var t in lc.Mjd) m = Math.Max(m, t);
        return m;
    }

    /// <summary>
    /// Classifies objects on <paramref name="workers"/> threads, each with its own classifier (one ORT session and one
    /// GP per worker: the service's scaling model). Results come back in input order.
    /// </summary>
    public static Classification[] ClassifyAll(string modelPath, IReadOnlyList<DecodedAlert> alerts, int workers, int batch, Action<int>? progress = null)
    {
        var results = new Classification[alerts.Count];
        workers = Math.Max(1, Math.Min(workers, alerts.Count));
        int next = 0;
        var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() =>
        {
            using var clf = new OnnxT2Classifier(modelPath, new OnnxT2Options { MaxBatchSize = batch });
            var chunk = new List<DecodedAlert>(batch);
            while (true)
            {
                int start = Interlocked.Add(ref next, batch) - batch;
                if (start >= alerts.Count) break;
                int n = Math.Min(batch, alerts.Count - start);
                chunk.Clear();
                for (int i = 0; i < n; i++) chunk.Add(alerts[start + i]);
                var r = clf.Classify(chunk);
                for (int i = 0; i < n; i++) results[start + i] = r[i];
                progress?.Invoke(n);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return results;
    }

    /// <summary>
    /// Reads a light-curve table (tables.md; CSV or Parquet) through Ingest's <c>LightCurveTableReader</c>, grouped by
    /// object in first-appearance order, each light curve sorted by time.
    /// </summary>
    public static List<ObjectLightCurve> ReadTable(string path, Survey survey)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: light-curve table not found", path);
        var list = new List<ObjectLightCurve>();
        foreach (var (id, lc) in Alerts.Ingest.Tables.LightCurveTableReader.Read(path, survey))
        {
            lc.SortByTime();
            list.Add(new ObjectLightCurve(id, lc));
        }
        return list;
    }

    /// <summary>
    /// Labelled objects from --bts DIR, or from --lightcurves TABLE with --labels TABLE (objects without a t2 label are skipped).
    /// </summary>
    public static List<ObjectLightCurve> ReadLabelled(string? bts, string? lightcurves, string? labels, Survey survey, Dictionary<string, int> skipped, int limit)
    {
        if (!string.IsNullOrEmpty(bts))
        {
            if (!IsBtsFolder(bts)) throw new DirectoryNotFoundException($"--bts {bts}: expected the ztf-bts-antares folder ({BtsLabelledSet.LabelFile} and light-curves/)");
            return ReadBts(bts, skipped, limit);
        }
        if (string.IsNullOrEmpty(lightcurves) || string.IsNullOrEmpty(labels))
            throw new ArgumentException("pass --lightcurves TABLE and --labels TABLE (from alerts simulate), or --bts DIR (real ZTF BTS light curves)");
        var lab = ReadLabels(labels, skipped);
        var list = new List<ObjectLightCurve>();
        foreach (var o in ReadTable(lightcurves, survey))
        {
            if (!lab.TryGetValue(o.Id, out var c)) { skipped["(no label)"] = skipped.GetValueOrDefault("(no label)") + 1; continue; }
            list.Add(o with { ClassIndex = c, SourceLabel = T2Classes.Names[c] });
            if (limit > 0 && list.Count >= limit) break;
        }
        return list;
    }

    public static string F(double v, string fmt = "0.000") => double.IsNaN(v) ? "-" : v.ToString(fmt, CultureInfo.InvariantCulture);
}
