using System.CommandLine;
using Alerts.Core;
using Alerts.Ingest;
using Alerts.Ingest.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Sink.DeadLetters;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts replay</c>: reads alerts from files, folders and tarballs (optionally paced with --rate), decodes them and
/// prints a summary. For now it stops after decoding; classification and the Parquet archive plug in later.
/// </summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Alert files, folders or .tar.gz tarballs to replay", Arity = ArgumentArity.ZeroOrMore };
        var rate = new Option<double?>("--rate") { Description = "Alerts per second (default: as fast as possible)" };
        var schemas = IngestOptions.Schemas();
        var deadLetter = IngestOptions.DeadLetter();
        var cmd = new Command("replay", "Replay alerts through the decode stage and print a summary (alerts, dead letters by reason, points by kind, schema versions, alerts/s).");
        cmd.Arguments.Add(paths);
        cmd.Options.Add(rate);
        cmd.Options.Add(schemas);
        cmd.Options.Add(deadLetter);
        cmd.SetAction(async (parse, ct) =>
        {
            var given = parse.GetValue(paths) ?? [];
            if (given.Length == 0)
            {
                Console.Error.WriteLine("error: give at least one path to replay (alert files, folders or .tar.gz); e.g. alerts replay /data/ztf/20200202");
                return 2;
            }
            var r = parse.GetValue(rate);
            if (r is <= 0) { Console.Error.WriteLine($"error: --rate {r} must be a positive number of alerts per second"); return 2; }
            var registry = new AvroSchemaRegistry(IngestOptions.ResolveSchemas(parse.GetValue(schemas)));
            bool argsOk = IngestOptions.TryCreateSources(given, registry, r, out var sources);
            var dlDir = parse.GetValue(deadLetter);
            var sink = dlDir is null ? null : new FolderDeadLetterSink(dlDir.FullName);
            var decoder = new AlertDecoder(registry);
            var summary = new IngestSummary();

            await AnsiConsole.Status().StartAsync("replaying...", async ctx =>
            {
                var lastUpdate = summary.Elapsed;
                await foreach (var res in IngestRunner.DecodeAsync(sources, decoder, ownLightCurves: false, ct))
                {
                    summary.Add(res);
                    if (res.DeadLetter is { } d && sink is not null) await sink.WriteAsync(d, ct);
                    if (summary.Elapsed - lastUpdate > TimeSpan.FromMilliseconds(250))
                    {
                        lastUpdate = summary.Elapsed;
                        ctx.Status($"decoded {summary.Decoded:N0}, dead letters {summary.DeadLettered:N0}, {summary.AlertsPerSecond:N0} alerts/s");
                    }
                }
            });
            summary.Stop();
            if (sink is not null) await sink.FlushAsync(ct);

            var table = new Table().Title("replay summary").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("alerts decoded", $"{summary.Decoded:N0}");
            table.AddRow("dead letters", $"{summary.DeadLettered:N0}");
            foreach (var (reason, n) in summary.DeadLettersByReason) table.AddRow($"  dead letters: {Markup.Escape(reason)}", $"{n:N0}");
            table.AddRow("points: detections", $"{summary.PointsByKind[(int)PointKind.Detection]:N0}");
            table.AddRow("points: non-detections", $"{summary.PointsByKind[(int)PointKind.NonDetection]:N0}");
            table.AddRow("points: forced photometry", $"{summary.PointsByKind[(int)PointKind.ForcedPhotometry]:N0}");
            table.AddRow("history rows skipped (NaN/negative error)", $"{decoder.Counters.HistoryRowsSkipped:N0}");
            table.AddRow("fp_hists rows skipped (null/-99999)", $"{decoder.Counters.ForcedPhotometryRowsSkipped:N0}");
            foreach (var (key, n) in summary.BySurveyVersion) table.AddRow($"  {Markup.Escape(key)}", $"{n:N0}");
            table.AddRow("bytes read", $"{summary.Bytes:N0}");
            table.AddRow("elapsed", $"{summary.Elapsed.TotalSeconds:N2} s");
            table.AddRow("alerts/s", $"{summary.AlertsPerSecond:N0}");
            if (sink is not null) table.AddRow("dead-letter folder", Markup.Escape(sink.Root));
            AnsiConsole.Write(table);
            return argsOk ? 0 : 2;
        });
        return cmd;
    }
}
