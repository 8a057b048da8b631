using System.CommandLine;
using Alerts.Core;
using Alerts.Sink.Parquet;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary><c>alerts archive compact</c>: merge a night's small Parquet files into one per survey, dropping duplicate alert ids.</summary>
public static class ArchiveCommand
{
    public static Command Create()
    {
        var archive = new Command("archive", "Maintain the Parquet archive (survey=<s>/night=<YYYYMMDD>/part-*.parquet).");
        archive.Subcommands.Add(CreateCompact());
        return archive;
    }

    private static Command CreateCompact()
    {
        var root = new Option<DirectoryInfo>("--root") { Description = "Archive root directory (the one holding survey=... folders).", Required = true };
        var night = new Option<string?>("--night") { Description = "Night to compact, YYYYMMDD (UTC date of the alerts)." };
        var all = new Option<bool>("--all") { Description = "Compact every night partition found under --root (instead of one --night)." };
        var survey = new Option<string?>("--survey") { Description = "Only this survey: ztf, lsst or elasticc (default: all)." };
        var rowGroup = new Option<int>("--row-group-rows") { Description = "Rows per row group in the merged file.", DefaultValueFactory = _ => 100_000 };
        var cmd = new Command("compact", "Merge the small files of one night (--night) or of every night (--all) into one file per survey, without losing or duplicating a row. Run it once writers have moved on from that night.");
        cmd.Options.Add(root); cmd.Options.Add(night); cmd.Options.Add(all); cmd.Options.Add(survey); cmd.Options.Add(rowGroup);
        cmd.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(root)!;
            var n = parse.GetValue(night);
            var s = parse.GetValue(survey);
            if (n is null == !parse.GetValue(all))
            {
                Consoles.Err.MarkupLine("[red]give --night YYYYMMDD or --all[/] (every night under --root), not both and not neither.");
                return 2;
            }
            if (!dir.Exists)
            {
                Consoles.Err.MarkupLineInterpolated($"[red]--root {dir.FullName}: no such directory.[/] Pass the archive root given to the Parquet sink (Sink:Parquet:Root).");
                return 2;
            }
            Survey? sv = null;
            if (s is not null)
            {
                var match = Enum.GetValues<Survey>().Where(x => x.Name() == s.ToLowerInvariant()).ToArray();
                if (match.Length == 0) { Consoles.Err.MarkupLineInterpolated($"[red]--survey {s}: unknown survey.[/] Use ztf, lsst or elasticc."); return 2; }
                sv = match[0];
            }
            if (n is null) return await CompactAllAsync(new ArchiveCompactor(dir.FullName, parse.GetValue(rowGroup)), dir.FullName, sv, ct);
            IReadOnlyList<CompactionResult> results;
            try
            {
                results = await Consoles.Err.Status().StartAsync($"Compacting night {n} under {dir.FullName}...",
                    _ => new ArchiveCompactor(dir.FullName, parse.GetValue(rowGroup)).CompactNightAsync(n, sv, ct));
            }
            catch (ArgumentException e)
            {
                Consoles.Err.MarkupLineInterpolated($"[red]{e.Message}[/]");
                return 2;
            }
            var table = new Table().AddColumns("partition", "files in", "rows in", "rows out", "duplicates dropped", "output");
            foreach (var r in results)
                table.AddRow(Path.GetRelativePath(dir.FullName, r.Directory), r.FilesIn.ToString(),
                    r.RowsIn < 0 ? "-" : r.RowsIn.ToString("N0"), r.RowsOut < 0 ? "-" : r.RowsOut.ToString("N0"),
                    r.DuplicatesDropped.ToString("N0"), r.Output is null ? "(nothing to merge)" : Path.GetFileName(r.Output));
            if (results.Count == 0) Consoles.Err.MarkupLineInterpolated($"[yellow]No partition for night {n} under {dir.FullName}.[/]");
            else AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }

    /// <summary>--all: every night partition, with a table of files and rows before and after (rows are counted from the files).</summary>
    private static async Task<int> CompactAllAsync(ArchiveCompactor compactor, string root, Survey? survey, CancellationToken ct)
    {
        var results = await Consoles.Err.Status().StartAsync($"Compacting every night under {Markup.Escape(root)}...",
            ctx => compactor.CompactAllAsync(survey, new Progress<string>(what => ctx.Status($"Compacting {Markup.Escape(what)}...")), ct));
        if (results.Count == 0)
        {
            Consoles.Err.MarkupLineInterpolated($"[yellow]No night partition (survey=<s>/night=<YYYYMMDD>) under {root}.[/]");
            return 0;
        }
        var table = new Table().Title("alerts archive compact --all")
            .AddColumn("night").AddColumn("survey")
            .AddColumn(new TableColumn("files before").RightAligned()).AddColumn(new TableColumn("files after").RightAligned())
            .AddColumn(new TableColumn("rows before").RightAligned()).AddColumn(new TableColumn("rows after").RightAligned())
            .AddColumn(new TableColumn("duplicates dropped").RightAligned());
        foreach (var r in results)
            table.AddRow(r.Night, r.Survey.Name(), $"{r.FilesBefore:N0}", $"{r.FilesAfter:N0}", $"{r.RowsBefore:N0}",
                r.RowsAccountedFor ? $"{r.RowsAfter:N0}" : $"[red]{r.RowsAfter:N0}[/]", $"{r.DuplicatesDropped:N0}");
        table.AddRow("[bold]total[/]", $"{results.Select(r => r.Night).Distinct().Count()} nights", $"{results.Sum(r => r.FilesBefore):N0}", $"{results.Sum(r => r.FilesAfter):N0}",
            $"{results.Sum(r => r.RowsBefore):N0}", $"{results.Sum(r => r.RowsAfter):N0}", $"{results.Sum(r => r.DuplicatesDropped):N0}");
        AnsiConsole.Write(table);
        var lost = results.Where(r => !r.RowsAccountedFor).ToList();
        foreach (var r in lost)
            Consoles.Err.MarkupLineInterpolated($"[red]{r.Survey.Name()} night {r.Night}: {r.RowsBefore:N0} rows before, {r.RowsAfter:N0} after and {r.DuplicatesDropped:N0} duplicates dropped do not add up.[/]");
        return lost.Count == 0 ? 0 : 1;
    }
}
