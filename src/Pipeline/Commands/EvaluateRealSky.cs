using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Alerts.Classifier;
using Alerts.Core;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>One scored family of a view (JSON: camelCase, NaN as null).</summary>
public sealed record RealSkyFamily(string Family, int Support, int Predicted, double Recall, double Precision, double F1);

/// <summary>
/// The real-sky metrics (<see cref="RealSkyMetrics"/>: families, SN Ia balanced accuracy, family macro-F1, top-family
/// ECE) of one view of the evaluated light curves: the whole curves, the alert-like histories, or the views cut N days
/// after the first detection (<c>--days</c>).
/// </summary>
public sealed record RealSkyView(
    string View, double? Days, int Objects, int Classified, int NotClassified, int Ignored,
    double Coverage, double SnIaBalancedAccuracy, double MacroF1, double Ece,
    List<RealSkyFamily> PerFamily, List<ReliabilityBin> Reliability, Dictionary<string, Dictionary<string, int>> Confusion);

/// <summary>The real-sky part of <c>alerts evaluate</c>: per-view family metrics, their tables and JSON, and the training-objects guard.</summary>
internal static class EvaluateRealSky
{
    public const string WholeCurve = "whole curve";
    public const string AlertHistories = "alert histories";

    /// <summary>The view name of an evaluated light curve.</summary>
    public static string ViewOf(ObjectLightCurve o) =>
        o.View is { } d ? $"{d.ToString("0.##", CultureInfo.InvariantCulture)} d" : o.IsAlertHistory ? AlertHistories : WholeCurve;

    /// <summary>
    /// One <see cref="RealSkyView"/> per view present, in the order whole curve, alert histories, then the day views by
    /// ascending N. <paramref name="results"/>[i] is the classification of <paramref name="objects"/>[i].
    /// </summary>
    public static List<RealSkyView> Compute(IReadOnlyList<ObjectLightCurve> objects, IReadOnlyList<Classification> results)
    {
        if (objects.Count != results.Count) throw new ArgumentException($"{objects.Count} objects but {results.Count} classifications");
        var byView = new Dictionary<string, (double? Days, int Rank, RealSkyMetrics Metrics)>();
        for (int i = 0; i < objects.Count; i++)
        {
            var o = objects[i];
            if (o.ClassIndex < 0) continue;
            string name = ViewOf(o);
            if (!byView.TryGetValue(name, out var v))
                byView[name] = v = (o.View, o.View is not null ? 2 : o.IsAlertHistory ? 1 : 0, new RealSkyMetrics());
            if (results[i].IsClassified) v.Metrics.Add(o.ClassIndex, results[i].Probabilities);
            else v.Metrics.AddNotClassified(o.ClassIndex);
        }
        return byView.OrderBy(kv => kv.Value.Rank).ThenBy(kv => kv.Value.Days ?? 0)
            .Select(kv => ToView(kv.Key, kv.Value.Days, kv.Value.Metrics)).ToList();
    }

    private static RealSkyView ToView(string name, double? days, RealSkyMetrics m)
    {
        var confusion = new Dictionary<string, Dictionary<string, int>>();
        for (int t = 0; t < RealSkyMetrics.ScoredCount; t++)
        {
            var row = new Dictionary<string, int>();
            for (int p = 0; p < RealSkyMetrics.FamilyNames.Length; p++)
                if (m.Confusion(t, p) > 0) row[RealSkyMetrics.FamilyNames[p]] = m.Confusion(t, p);
            if (row.Count > 0) confusion[RealSkyMetrics.FamilyNames[t]] = row;
        }
        return new RealSkyView(name, days, m.Objects, m.Classified, m.NotClassified, m.Ignored, m.Coverage, m.SnIaBalancedAccuracy,
            m.MacroF1, m.ExpectedCalibrationError,
            m.PerFamily().Select(f => new RealSkyFamily(f.Name, f.Support, f.Predicted, f.Recall, f.Precision, f.F1)).ToList(),
            m.Reliability().ToList(), confusion);
    }

    /// <summary>The view the side-by-side table and the family table show: the whole curves when evaluated, else the first view.</summary>
    public static RealSkyView? Primary(IReadOnlyList<RealSkyView> views) => views.FirstOrDefault(v => v.View == WholeCurve) ?? views.FirstOrDefault();

    /// <summary>The real-sky table (one row per view), and the per-family and reliability tables of the primary view.</summary>
    public static void Print(IReadOnlyList<RealSkyView> views, IAnsiConsole con)
    {
        if (views.Count == 0) return;
        var table = new Table().Title("real sky, by family (SN Ia = SNIa + SNIax + SNIa-91bg; scored: SN Ia, SNII, SNIbc, SLSN-I, TDE)")
            .AddColumns("view", "coverage", "SN Ia bal. acc.", "macro-F1 (5 families)", "ECE (top family, 15 bins)", "objects");
        foreach (var v in views)
            table.AddRow(Markup.Escape(v.View), ClassifierInputs.F(v.Coverage), ClassifierInputs.F(v.SnIaBalancedAccuracy), ClassifierInputs.F(v.MacroF1),
                ClassifierInputs.F(v.Ece), v.Objects.ToString(CultureInfo.InvariantCulture));
        table.Caption("objects of the five families only; coverage = classified / objects; macro-F1 over families with objects");
        con.Write(table);
        if (Primary(views) is not { } p) return;
        var families = new Table().Title($"families ({Markup.Escape(p.View)})").AddColumns("family", "support", "predicted", "recall", "precision", "F1");
        foreach (var f in p.PerFamily)
            families.AddRow(Markup.Escape(f.Family), f.Support.ToString(CultureInfo.InvariantCulture), f.Predicted.ToString(CultureInfo.InvariantCulture),
                ClassifierInputs.F(f.Recall), ClassifierInputs.F(f.Precision), ClassifierInputs.F(f.F1));
        con.Write(families);
        var reliability = new Table().Title($"reliability, top family ({Markup.Escape(p.View)})")
            .AddColumns("confidence", "objects", "mean confidence", "accuracy");
        foreach (var b in p.Reliability.Where(b => b.Count > 0))
            reliability.AddRow($"{ClassifierInputs.F(b.Lower, "0.00")}-{ClassifierInputs.F(b.Upper, "0.00")}", b.Count.ToString(CultureInfo.InvariantCulture),
                ClassifierInputs.F(b.MeanConfidence), ClassifierInputs.F(b.Accuracy));
        if (reliability.Rows.Count > 0) con.Write(reliability);
    }

    private static readonly JsonSerializerOptions CamelCaseNanAsNull = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,   // class and family names stay as they are
        Converters = { new NanAsNullConverter() },
    };

    /// <summary>The views as JSON: camelCase fields, NaN (and ±∞) as null.</summary>
    public static JsonNode? ToJson(IReadOnlyList<RealSkyView> views) => JsonSerializer.SerializeToNode(views, CamelCaseNanAsNull);

    /// <summary>Writes a non-finite double as null (JSON has no NaN) and reads null back as NaN.</summary>
    internal sealed class NanAsNullConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }

        public override bool HandleNull => true;
    }

    /// <summary>
    /// Splits <paramref name="objects"/> by the training-objects rules of the evaluated models: an object (by its
    /// astronomical object id, so every view and alert history of it goes the same way) is a training object when any
    /// rule contains it. Objects of a simulated table never are (their ZTF-style ids are made up). Returns the others and
    /// the training objects.
    /// </summary>
    public static (List<ObjectLightCurve> HeldOut, List<ObjectLightCurve> Training) SplitTrainingObjects(IReadOnlyList<ObjectLightCurve> objects, IReadOnlyList<TrainingObjects> rules)
    {
        var heldOut = new List<ObjectLightCurve>(objects.Count);
        var training = new List<ObjectLightCurve>();
        foreach (var o in objects)
            (!o.IsSimulated && rules.Any(r => r.Contains(o.Object)) ? training : heldOut).Add(o);
        return (heldOut, training);
    }
}
