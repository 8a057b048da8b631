using System.CommandLine;
using System.Globalization;
using Alerts.Classifier;
using Alerts.Core;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>One object to classify or learn from: its id, light curve and (when known) its true t2 class index.</summary>
internal sealed record ObjectLightCurve(string Id, LightCurve LightCurve, int ClassIndex = -1, string? SourceLabel = null, string? ObjectId = null)
{
    /// <summary>The astronomical object this light curve belongs to (an alert-history sample shares its object's id).</summary>
    public string Object => ObjectId ?? Id;

    /// <summary>True for a truncated alert-like history (see <see cref="ClassifierInputs.AlertHistories"/>), false for a full light curve.</summary>
    public bool IsAlertHistory { get; init; }

    /// <summary>The object's redshift when the label table gives one (bounds the augmentation), else NaN.</summary>
    public double Redshift { get; init; } = double.NaN;

    /// <summary>A light curve made by <see cref="Alerts.Classifier.Training.LightCurveAugmenter"/> from the object's own.</summary>
    public bool IsAugmented { get; init; }

    /// <summary>For a view cut at N days after the first detection, N (see <see cref="ClassifierInputs.DayViews"/>); null otherwise.</summary>
    public double? View { get; init; }

    /// <summary>True for an object of a real labelled set (its label table has a <c>set</c> column), false for simulated ones.</summary>
    public bool IsReal { get; init; }

    /// <summary>
    /// True for an object of a table <c>alerts simulate</c> wrote (its label table carries the simulator's true-parameter
    /// columns). The simulator's ids are ZTF-style, so a training-objects rule keyed on ZTF ids must not apply to them.
    /// </summary>
    public bool IsSimulated { get; init; }
}

/// <summary>Inputs shared by <c>alerts classify</c>, <c>alerts evaluate</c> and <c>alerts features</c>.</summary>
internal static class ClassifierInputs
{
    /// <summary>Spectre console on stderr, so stdout carries only machine output (JSON lines).</summary>
    public static IAnsiConsole Stderr => Consoles.Err;

    public static Survey ParseSurvey(string? text) => (text ?? "ztf").ToLowerInvariant() switch
    {
        "ztf" => Survey.Ztf,
        "lsst" or "rubin" => Survey.Lsst,
        "elasticc" => Survey.Elasticc,
        var s => throw new ArgumentException($"--survey {s}: use ztf or lsst"),
    };

    /// <summary>The model named by --model, else the survey's shipped default (<see cref="Processing.ModelLocator"/>).</summary>
    public static string ResolveModel(string? model, Survey survey) => Processing.ModelLocator.Resolve(model, survey);

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
            .Select(x => new ObjectLightCurve(x.ObjectId, x.LightCurve, x.ClassIndex, x.SourceType) { IsReal = true }).ToList();

    /// <summary>
    /// Reads a label table (CSV: object_id, class, ...; class is a T2Classes name). Returns object_id → class index.
    /// Rows whose class is not a t2 class are counted in <paramref name="skipped"/>.
    /// </summary>
    public static Dictionary<string, int> ReadLabels(string path, Dictionary<string, int> skipped) => ReadLabels(path, skipped, null, out _);

    /// <summary>
    /// <see cref="ReadLabels(string, Dictionary{string, int})"/> that also collects each object's redshift (column
    /// <c>redshift</c>, when present) and says whether the table is of real objects (a <c>set</c> column, as
    /// tools/train/real_sets.py and the real sets' own tables write). The class column is <c>class</c> or <c>t2_class</c>.
    /// </summary>
    public static Dictionary<string, int> ReadLabels(string path, Dictionary<string, int> skipped, Dictionary<string, double>? redshifts, out bool real) =>
        ReadLabels(path, skipped, redshifts, out real, out _);

    /// <summary>As above; <paramref name="simulated"/> is true for the simulator's label table (object_id, class, survey, redshift, peak_mjd, ...).</summary>
    public static Dictionary<string, int> ReadLabels(string path, Dictionary<string, int> skipped, Dictionary<string, double>? redshifts, out bool real, out bool simulated)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--labels {path}: file not found; expected labels.csv (object_id, class, ...) from alerts simulate", path);
        if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--labels {path}: only the CSV label table is read here; pass <out>/labels.csv");
        using var reader = new StreamReader(path);
        var header = BtsLabelledSet.SplitCsvPublic(reader.ReadLine() ?? "");
        int id = header.IndexOf("object_id"), cls = header.IndexOf("class"), z = header.IndexOf("redshift");
        if (cls < 0) cls = header.IndexOf("t2_class");
        real = header.Contains("set");
        simulated = !real && header.Contains("survey") && header.Contains("peak_mjd");
        if (id < 0 || cls < 0) throw new InvalidDataException($"{path}: header lacks column {(id < 0 ? "object_id" : "class")}; the label table is object_id, class (or t2_class), survey, redshift, ...");
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0) continue;
            var f = BtsLabelledSet.SplitCsvPublic(line);
            if (f.Count <= Math.Max(id, cls)) continue;
            int c = T2Classes.IndexOf(f[cls]);
            if (c < 0) { var key = f[cls].Length == 0 ? "(no t2 class)" : f[cls]; skipped[key] = skipped.GetValueOrDefault(key) + 1; continue; }
            map[f[id]] = c;
            if (redshifts is not null && z >= 0 && z < f.Count && double.TryParse(f[z], NumberStyles.Float, CultureInfo.InvariantCulture, out var zv))
                redshifts[f[id]] = zv;
        }
        return map;
    }

    /// <summary>The survey of a table's light curve: that of its bands (ztf*, lsst*), else <paramref name="hint"/>.</summary>
    public static Survey SurveyOf(LightCurve lc, Survey hint)
    {
        foreach (var b in lc.Band)
        {
            if (b is >= Band.LsstU and <= Band.LsstY) return hint == Survey.Elasticc ? Survey.Elasticc : Survey.Lsst;
            if (b is >= Band.ZtfG and <= Band.ZtfI) return Survey.Ztf;
        }
        return hint;
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
    public static Classification[] ClassifyAll(string modelPath, IReadOnlyList<DecodedAlert> alerts, int workers, int batch, Action<int>? progress = null) =>
        ClassifyAll(() => new OnnxT2Classifier(modelPath, new OnnxT2Options { MaxBatchSize = batch }), alerts, workers, batch, progress);

    /// <summary>As above, with a classifier per worker from <paramref name="create"/> (e.g. one routing alerts to their survey's model).</summary>
    public static Classification[] ClassifyAll<T>(Func<T> create, IReadOnlyList<DecodedAlert> alerts, int workers, int batch, Action<int>? progress = null)
        where T : IAlertClassifier, IDisposable
    {
        var results = new Classification[alerts.Count];
        workers = Math.Max(1, Math.Min(workers, alerts.Count));
        int next = 0;
        var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() =>
        {
            using var clf = create();
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
        // Which columns were taken as what goes to stderr, so a table in a survey's own names can be checked at a glance.
        foreach (var (id, lc) in Alerts.Tables.LightCurveTableReader.Read(path, survey, columns => Console.Error.WriteLine(columns)))
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
        var redshifts = new Dictionary<string, double>(StringComparer.Ordinal);
        var lab = ReadLabels(labels, skipped, redshifts, out bool real, out bool simulated);
        var list = new List<ObjectLightCurve>();
        foreach (var o in ReadTable(lightcurves, survey))
        {
            if (!lab.TryGetValue(o.Id, out var c)) { skipped["(no label)"] = skipped.GetValueOrDefault("(no label)") + 1; continue; }
            list.Add(o with { ClassIndex = c, SourceLabel = T2Classes.Names[c], Redshift = redshifts.GetValueOrDefault(o.Id, double.NaN), IsReal = real, IsSimulated = simulated });
            if (limit > 0 && list.Count >= limit) break;
        }
        return list;
    }

    /// <summary>
    /// Alert-like light curves: for each object, up to <paramref name="perObject"/> distinct detections chosen at random
    /// as "alert times" t, each giving the points an alert sent at t carries: the detection itself plus every earlier
    /// point with mjd ≥ t − <paramref name="historyDays"/> (ZTF prv_candidates/fp_hists: 30 d; Rubin: 365 d; the windows
    /// the simulator's encoders write). Training on these is what removes the full-curve/alert skew: an alert never
    /// holds the object's future. <paramref name="includeFull"/> also keeps the full light curve. Deterministic for a
    /// seed (a stable FNV hash of the object id, not string.GetHashCode, which differs per process).
    /// </summary>
    public static List<ObjectLightCurve> AlertHistories(IReadOnlyList<ObjectLightCurve> objects, int perObject, double historyDays, int seed, bool includeFull)
    {
        var list = new List<ObjectLightCurve>((int)Math.Min(1 << 20, (long)objects.Count * (Math.Min(perObject, 64) + (includeFull ? 1 : 0))));
        var detections = new List<int>();
        foreach (var o in objects)
        {
            if (includeFull) list.Add(o);
            var lc = o.LightCurve;
            detections.Clear();
            var kind = lc.Kind;
            for (int k = 0; k < lc.Count; k++) if (kind[k] == PointKind.Detection) detections.Add(k);
            var rng = new Random(unchecked((int)StableHash(o.Id) ^ seed));
            int take = Math.Min(perObject, detections.Count);
            for (int j = 0; j < take; j++)   // partial Fisher-Yates: `take` distinct detections
            {
                int r = j + rng.Next(detections.Count - j);
                (detections[j], detections[r]) = (detections[r], detections[j]);
            }
            var chosen = detections.GetRange(0, take);
            chosen.Sort();
            foreach (int i in chosen)
            {
                double t = lc.Mjd[i];
                var cut = new LightCurve(Math.Min(lc.Count, i + 1));
                for (int k = 0; k <= i; k++)
                    if (lc.Mjd[k] >= t - historyDays) cut.Add(lc.Mjd[k], lc.Band[k], lc.Flux[k], lc.FluxErr[k], lc.Kind[k]);
                list.Add(o with { Id = $"{o.Id}@{t.ToString("0.#####", CultureInfo.InvariantCulture)}", LightCurve = cut, ObjectId = o.Object, IsAlertHistory = true });
            }
        }
        return list;
    }

    /// <summary>
    /// Views of each object as it looked N days after its first detection: the points up to first + N days, for each N
    /// in <paramref name="days"/> (the early-classification measure: 3, 5, 10, 20, 30 d). A view is left out when it
    /// would hold every point of the object (it is then the whole curve). <paramref name="includeFull"/> keeps the whole curve.
    /// </summary>
    public static List<ObjectLightCurve> DayViews(IReadOnlyList<ObjectLightCurve> objects, IReadOnlyList<double> days, bool includeFull, bool keepRedundant = false)
    {
        var list = new List<ObjectLightCurve>(objects.Count * (days.Count + 1));
        foreach (var o in objects)
        {
            if (includeFull) list.Add(o);
            var lc = o.LightCurve;
            double first = double.PositiveInfinity;
            for (int k = 0; k < lc.Count; k++) if (lc.Kind[k] == PointKind.Detection) first = Math.Min(first, lc.Mjd[k]);
            if (!double.IsFinite(first)) continue;
            foreach (var d in days)
            {
                var cut = new LightCurve(lc.Count);
                for (int k = 0; k < lc.Count; k++)
                    if (lc.Mjd[k] <= first + d) cut.Add(lc.Mjd[k], lc.Band[k], lc.Flux[k], lc.FluxErr[k], lc.Kind[k]);
                if (cut.Count == lc.Count && !keepRedundant) continue;
                list.Add(o with { Id = $"{o.Id}+{d.ToString("0.##", CultureInfo.InvariantCulture)}d", LightCurve = cut, ObjectId = o.Object, View = d });
            }
        }
        return list;
    }

    /// <summary>
    /// Per object, <paramref name="perObjectOf"/>(object) augmented light curves (<see cref="Alerts.Classifier.Training.LightCurveAugmenter"/>:
    /// moved to a higher redshift through the GP, new cadence, noise and detection threshold) besides the object itself.
    /// Augmented curves with fewer than 3 detections are drawn again (up to 4 tries). Deterministic for a seed; runs on
    /// <paramref name="workers"/> threads.
    /// </summary>
    public static List<ObjectLightCurve> Augment(IReadOnlyList<ObjectLightCurve> objects, Func<ObjectLightCurve, int> perObjectOf, Survey survey, int seed, int workers) =>
        Augment(objects, perObjectOf, survey, survey, seed, workers);

    /// <summary>
    /// <see cref="Augment(IReadOnlyList{ObjectLightCurve}, Func{ObjectLightCurve, int}, Survey, int, int)"/> from curves of
    /// survey <paramref name="from"/> into survey <paramref name="survey"/>. ZTF → Rubin moves the ZTF g/r curves into
    /// Rubin's ugrizy through the GP's wavelength axis with the Rubin profile (<see cref="Alerts.Classifier.Training.AugmentationOptions.Rubin"/>:
    /// paired visits, seasons, Rubin depths, redshift up to where the peak reaches the r depth) and returns the moved
    /// curves only: the ZTF originals cannot feed a Rubin preset.
    /// </summary>
    public static List<ObjectLightCurve> Augment(IReadOnlyList<ObjectLightCurve> objects, Func<ObjectLightCurve, int> perObjectOf, Survey survey, Survey from, int seed, int workers)
    {
        bool move = from != survey;
        if (move && !(from == Survey.Ztf && survey == Survey.Lsst))
            throw new ArgumentException($"augmenting from {from} into {survey}: only ztf into lsst is supported");
        var bands = from == Survey.Ztf ? new[] { Band.ZtfG, Band.ZtfR } : Bands.Lsst;
        var options = new Alerts.Classifier.Training.AugmentationOptions();
        if (move) options = Alerts.Classifier.Training.AugmentationOptions.Rubin;
        else if (survey != Survey.Ztf) options = options with { BandVisitProbability = [0.1, 0.2, 0.25, 0.25, 0.2, 0.15], LimitingMagnitude = 23.5, MinLimitingMagnitude = 22, MaxLimitingMagnitude = 24.5, MeanGapDays = 2 };
        var made = new List<ObjectLightCurve>?[objects.Count];
        int next = -1;
        var threads = Enumerable.Range(0, Math.Max(1, workers)).Select(_ => new Thread(() =>
        {
            var aug = new Alerts.Classifier.Training.LightCurveAugmenter(bands, options);
            int i;
            while ((i = Interlocked.Increment(ref next)) < objects.Count)
            {
                var o = objects[i];
                int perObject = perObjectOf(o);
                var mine = new List<ObjectLightCurve>(perObject);
                if (aug.Fit(o.LightCurve))
                {
                    var rng = new Random(unchecked((int)StableHash(o.Id) ^ seed));
                    for (int k = 0; k < perObject; k++)
                        for (int attempt = 0; attempt < 4; attempt++)
                        {
                            var lc = new LightCurve(64);
                            double z = aug.Sample(double.IsFinite(o.Redshift) && o.Redshift > 0 ? o.Redshift : 0.05, rng, lc);
                            if (lc.Count < 3) continue;
                            mine.Add(o with { Id = $"{o.Id}~{k}", LightCurve = lc, ObjectId = o.Object, IsAugmented = true, Redshift = z });
                            break;
                        }
                }
                made[i] = mine;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var list = new List<ObjectLightCurve>((move ? 0 : objects.Count) + made.Sum(m => m!.Count));
        for (int i = 0; i < objects.Count; i++) { if (!move) list.Add(objects[i]); list.AddRange(made[i]!); }
        return list;
    }

    /// <summary>The alert history window of a survey's alerts as the simulator writes them (and the surveys send them).</summary>
    public static double AlertHistoryDays(Survey survey) =>
        survey == Survey.Ztf ? global::Alerts.Simulator.Alerts.ZtfAlertEncoder.HistoryDays : global::Alerts.Simulator.Alerts.LsstAlertEncoder.HistoryDays;

    private static uint StableHash(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) { h ^= c; h *= 16777619; }
        return h;
    }

    /// <summary>Only the objects whose id is listed in <paramref name="idFile"/> (one per line), at most <paramref name="limit"/> (0 = all).</summary>
    public static List<ObjectLightCurve> FilterIds(List<ObjectLightCurve> objects, string idFile, int limit)
    {
        if (!File.Exists(idFile)) throw new FileNotFoundException($"--ids {idFile}: file not found; expected one object id per line (train_t2.py --heldout-ids writes it)", idFile);
        var keep = new HashSet<string>(File.ReadAllLines(idFile).Select(l => l.Trim()).Where(l => l.Length > 0), StringComparer.Ordinal);
        var kept = objects.Where(o => keep.Contains(o.Id));
        return (limit > 0 ? kept.Take(limit) : kept).ToList();
    }

    /// <summary>The --alert-samples / --no-full / --history-days / --sample-seed options shared by features and evaluate.</summary>
    public sealed class AlertSampleOptions
    {
        public Option<int> Samples { get; } = new("--alert-samples") { Description = "per object, N alert-like histories: the light curve up to a random detection, within the survey's alert history window (ZTF 30 d, Rubin 365 d); 0 = full light curves only" };
        public Option<bool> NoFull { get; } = new("--no-full") { Description = "with --alert-samples: leave out the full light curves (alert-level evaluation)" };
        public Option<double?> HistoryDays { get; } = new("--history-days") { Description = "alert history window in days (default: the survey's, as the simulator writes alerts)" };
        public Option<int> Seed { get; } = new("--sample-seed") { Description = "seed for the alert times drawn", DefaultValueFactory = _ => 1 };
        public Option<string?> Days { get; } = new("--days") { Description = "also views of each object N days after its first detection, e.g. 3,5,10,20,30 (views that would hold the whole curve are left out)" };
        public IEnumerable<Option> All => [Samples, NoFull, HistoryDays, Seed, Days];

        public List<ObjectLightCurve> Apply(ParseResult parse, List<ObjectLightCurve> objects, Survey survey)
        {
            int n = parse.GetValue(Samples);
            if (n < 0) throw new ArgumentException($"--alert-samples {n}: must be 0 or more");
            var days = ParseDays(parse.GetValue(Days));
            var result = n == 0 ? objects : AlertHistories(objects, n, parse.GetValue(HistoryDays) ?? AlertHistoryDays(survey), parse.GetValue(Seed), !parse.GetValue(NoFull));
            // Views that equal the whole curve are kept: a view's coverage counts every object, early or finished.
            if (days.Count > 0) result.AddRange(DayViews(objects, days, includeFull: false, keepRedundant: true));
            return result;
        }

        public static List<double> ParseDays(string? text) => string.IsNullOrWhiteSpace(text) ? [] :
            text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x =>
                double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d
                : throw new ArgumentException($"--days {text}: '{x}' is not a positive number of days; use e.g. --days 3,5,10,20,30")).ToList();
    }

    public static string F(double v, string fmt = "0.000") => double.IsNaN(v) ? "-" : v.ToString(fmt, CultureInfo.InvariantCulture);
}
