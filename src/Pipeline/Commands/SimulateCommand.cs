using System.CommandLine;
using Alerts.Core;
using Alerts.Simulator;
using Alerts.Simulator.Validation;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>`alerts simulate`: labelled light curves and real-format alerts from the project's own simulator.</summary>
public static class SimulateCommand
{
    public static Command Create()
    {
        var survey = new Option<string>("--survey") { Description = "ztf or lsst", DefaultValueFactory = _ => "ztf" };
        var objects = new Option<int>("--objects") { Description = "number of objects to simulate", DefaultValueFactory = _ => 1000 };
        var outDir = new Option<string?>("--out") { Description = "output folder (alerts/, labels.csv/.parquet, lightcurves.csv/.parquet)" };
        var seed = new Option<ulong>("--seed") { Description = "random seed: the same seed gives the same bytes", DefaultValueFactory = _ => 42UL };
        var format = new Option<string>("--format") { Description = "container (one OCF per alert), wire (Rubin Confluent wire), tarball (ZTF nightly .tar.gz), none (tables only)", DefaultValueFactory = _ => "container" };
        var schemaVersion = new Option<string>("--schema-version") { Description = "Rubin schema version: 9.0 or 11.0", DefaultValueFactory = _ => "11.0" };
        var balanced = new Option<bool>("--balanced") { Description = "equal numbers of every class (training sets); default is a survey-like mix" };
        var classes = new Option<string?>("--classes") { Description = "comma-separated subset of t2 classes, e.g. SNIa,SNII" };
        var compare = new Option<string?>("--compare-real") { Description = "folder of the ZTF BTS light curves (../shared/data/labelled/ztf-bts-antares): print KS statistics sim vs real" };
        var cmd = new Command("simulate", "Simulate labelled light curves and write them as ZTF/Rubin alerts plus label and light-curve tables.");
        foreach (var o in new Option[] { survey, objects, outDir, seed, format, schemaVersion, balanced, classes, compare }) cmd.Options.Add(o);
        cmd.SetAction(async (pr, ct) =>
        {
            var surveyName = pr.GetValue(survey)!.ToLowerInvariant();
            Survey sv = surveyName switch
            {
                "ztf" => Survey.Ztf, "lsst" or "rubin" => Survey.Lsst,
                _ => throw new ArgumentException($"--survey {surveyName}: use ztf or lsst."),
            };
            var fmtName = pr.GetValue(format)!.ToLowerInvariant();
            AlertFormat fmt = fmtName switch
            {
                "container" or "ocf" => AlertFormat.Container, "wire" => AlertFormat.Wire, "tarball" or "tar" => AlertFormat.Tarball, "none" => AlertFormat.None,
                _ => throw new ArgumentException($"--format {fmtName}: use container, wire, tarball or none."),
            };
            var compareDir = pr.GetValue(compare);
            var options = new SimulationOptions
            {
                Survey = sv, Objects = pr.GetValue(objects), Seed = pr.GetValue(seed), Format = fmt, SchemaVersion = pr.GetValue(schemaVersion)!,
                Balanced = pr.GetValue(balanced),
                Classes = pr.GetValue(classes)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            if (compareDir is not null)
            {
                if (sv != Survey.Ztf) { Consoles.Err.MarkupLine("[red]--compare-real compares with ZTF BTS light curves: use --survey ztf.[/]"); return 2; }
                var report = BtsComparison.Run(compareDir, options);
                RenderKs(report);
                if (pr.GetValue(outDir) is null) return report.PassesSnIaSnII ? 0 : 1;
            }
            var dir = pr.GetValue(outDir);
            if (dir is null) { Consoles.Err.MarkupLine("[red]--out DIR is required (the folder to write alerts and tables into).[/]"); return 2; }
            var sim = new AlertSimulator(options);
            SimulationSummary summary = null!;
            await Consoles.Err.Progress().AutoClear(true).StartAsync(async ctx =>
            {
                var task = ctx.AddTask($"simulating {options.Objects:N0} {surveyName} objects", maxValue: Math.Max(options.Objects, 1));
                summary = await sim.WriteAsync(dir, new SyncProgress(n => task.Value = n), ct);
            });
            var t = new Table().Title($"alerts simulate: {surveyName}, seed {options.Seed}, {fmtName}").AddColumn("class").AddColumn(new TableColumn("objects").RightAligned()).AddColumn(new TableColumn("alerts").RightAligned());
            foreach (var c in T2Classes.Names)
                if (summary.ObjectsPerClass.TryGetValue(c, out var n))
                    t.AddRow(c, n.ToString("N0"), summary.AlertsPerClass.GetValueOrDefault(c).ToString("N0"));
            t.AddRow("[bold]total[/]", $"[bold]{summary.ObjectsPerClass.Values.Sum():N0}[/]", $"[bold]{summary.Alerts:N0}[/]");
            AnsiConsole.Write(t);
            double secs = Math.Max(summary.Elapsed.TotalSeconds, 1e-9);
            AnsiConsole.MarkupLine($"alert bytes {summary.AlertBytes:N0} ({summary.AlertBytes / Math.Max(summary.Alerts, 1):N0} per alert), light-curve rows {summary.LightCurveRows:N0}, " +
                $"{summary.Elapsed.TotalSeconds:F1} s, {summary.Alerts / secs:N0} alerts/s, written to [blue]{Markup.Escape(dir)}[/]");
            return 0;
        });
        return cmd;
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    private static void RenderKs(BtsComparison.Report r)
    {
        var t = new Table().Title("Two-sample KS statistic (median sim/real), simulated ZTF (peak < 18.5 mag) vs BTS").AddColumn("class").AddColumn("n sim").AddColumn("n real");
        foreach (var q in BtsComparison.Quantities) t.AddColumn(new TableColumn(q).RightAligned());
        foreach (var row in r.Rows)
        {
            var cells = new List<string> { row.Class, row.NSim.ToString(), row.NReal.ToString() };
            foreach (var q in BtsComparison.Quantities)
            {
                var ks = row.Ks.GetValueOrDefault(q, double.NaN);
                var text = double.IsNaN(ks) ? "-" : $"{ks:F3} ({row.SimMedian[q]:G3}/{row.RealMedian[q]:G3})";
                cells.Add(ks > 0.25 && row.Class is "SNIa" or "SNII" ? $"[red]{text}[/]" : text);
            }
            t.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine(r.PassesSnIaSnII ? "[green]SNIa and SNII: every KS statistic ≤ 0.25[/]" : "[red]SNIa or SNII has a KS statistic > 0.25[/]");
    }
}
