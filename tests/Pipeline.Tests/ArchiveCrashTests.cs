using System.Diagnostics;
using System.Text.RegularExpressions;
using Alerts.Sink.Parquet;
using DuckDB.NET.Data;
using Parquet;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// The archive's crash proof, for real: <c>alerts replay</c> runs as a child process writing the Parquet archive and is
/// killed with SIGKILL while a file is half written (row groups in it, no footer). Nothing in the child gets to run:
/// no finally, no flush. What the kill leaves must be either complete files under their final names or
/// temporaries that dataset readers ignore; the next start deletes the temporaries and, with the archive's dedup,
/// ends with every alert archived exactly once.
/// </summary>
public sealed class ArchiveCrashTests(Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("alerts-crash").FullName;

    public void Dispose() => Directory.Delete(_work, true);

    [Fact]
    public async Task Replay_killed_with_sigkill_mid_file_leaves_only_complete_files_visible_and_a_restart_cleans_up_and_completes_exactly_once()
    {
        var archive = Path.Combine(_work, "archive");
        string[] common = ["replay", "--survey", "ztf", "--objects", "10", "--seed", "11", "--archive", archive,
            "--dead-letter", Path.Combine(_work, "dead-letter"), "--workers", "2"];

        // Slow (25 alerts/s), a row group per row and a flush every second: the archive always has committed files
        // and open temporaries with row groups already written into them. A kill can still land in the short window
        // between a temporary's footer and its rename (complete but invisible, which is fine); then kill again, so
        // that the test proves a kill mid-file. The restart at each attempt is itself part of what is tested.
        string[] temporaries = [];
        int footerless = 0;
        for (int attempt = 1; attempt <= 4 && footerless == 0; attempt++)
        {
            using (var writer = AlertsProcess.Start([.. common, "--rate", "25", "--row-group-rows", "1", "--flush-interval", "1"]))
            {
                var sw = Stopwatch.StartNew();
                while (!(Visible().Length >= 3 && Temporaries().Any(t => LengthOrZero(t) > 4 /* more than the PAR1 header */)))
                {
                    Assert.False(writer.HasExited, "the replay ended before it could be killed mid-file:\n" + writer.Output);
                    Assert.True(sw.Elapsed < TimeSpan.FromSeconds(90), "no committed file plus written-into temporary within 90 s:\n" + writer.Output);
                    await Task.Delay(10);
                }
                writer.KillHard();
            }

            // After the kill: half-written files exist, but only under temporary names. Most have no footer yet (not
            // Parquet); one killed between its footer and its rename is complete but still invisible, which is fine.
            temporaries = Temporaries();
            Assert.NotEmpty(temporaries);
            foreach (var t in temporaries)
            {
                Assert.Matches(@"^\.part-replay-\d{6}\.parquet" + Regex.Escape(AtomicFile.TempSuffix) + "$", Path.GetFileName(t));
                try { await using var _ = await ParquetReader.CreateAsync(t); }
                catch (Exception) { footerless++; }
            }
            if (footerless == 0) log.WriteLine($"attempt {attempt}: every temporary had its footer (killed before a rename); killing again");
        }
        Assert.True(footerless > 0, "the kill did not land mid-file: every temporary had its footer");
        // Every visible file is complete: Parquet.Net reads every column of every row group, and DuckDB reads the dataset.
        var visible = Visible();
        Assert.All(visible, f => Assert.EndsWith(".parquet", f));
        long rowsBeforeRestart = 0;
        foreach (var f in visible) rowsBeforeRestart += await ReadEveryColumnAsync(f);
        Assert.True(rowsBeforeRestart > 0);
        var (duckRows, duckDistinct) = DuckCounts();
        Assert.Equal(rowsBeforeRestart, duckRows);
        Assert.Equal(duckRows, duckDistinct);
        log.WriteLine($"after SIGKILL: {visible.Length} visible files ({rowsBeforeRestart} rows), {temporaries.Length} temporaries ({footerless} without footer; {string.Join(", ", temporaries.Select(t => new FileInfo(t).Length + " B"))})");

        // Restart on the same archive, to completion: it deletes the temporaries and archives the rest of the alerts,
        // skipping those already archived, so every alert is there exactly once.
        var (exit, output) = await AlertsProcess.RunAsync(TimeSpan.FromMinutes(4), common);
        Assert.True(exit == 0, output);
        Assert.Empty(Temporaries());
        Assert.Matches($@"temporaries of a crashed run deleted\s*│\s*{temporaries.Length}\s*│", output);
        var decoded = long.Parse(Regex.Match(output, @"│ decoded\s*│\s*([\d,]+)\s*│").Groups[1].Value.Replace(",", ""));
        var read = long.Parse(Regex.Match(output, @"│ alerts read\s*│\s*([\d,]+)\s*│").Groups[1].Value.Replace(",", ""));
        Assert.Equal(read, decoded); // simulated alerts all decode

        long rowsAfter = 0;
        foreach (var f in Visible()) rowsAfter += await ReadEveryColumnAsync(f);
        (duckRows, duckDistinct) = DuckCounts();
        Assert.Equal(decoded, rowsAfter);
        Assert.Equal(decoded, duckRows);
        Assert.Equal(decoded, duckDistinct);
        log.WriteLine($"after restart: {Visible().Length} visible files, {rowsAfter} rows = {decoded} alerts decoded, 0 temporaries");
        // The files committed before the kill are untouched.
        Assert.All(visible, f => Assert.True(File.Exists(f), f));
    }

    private string Archive => Path.Combine(_work, "archive");

    private string[] Visible() => !Directory.Exists(Archive) ? [] :
        Directory.EnumerateFiles(Archive, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')).ToArray();

    private string[] Temporaries() => !Directory.Exists(Archive) ? [] :
        Directory.EnumerateFiles(Archive, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories).ToArray();

    /// <summary>Reads every column of every row group (a truncated or footerless file throws); returns the row count.</summary>
    private static async Task<long> ReadEveryColumnAsync(string file)
    {
        await using var reader = await ParquetReader.CreateAsync(file);
        var buffer = new ArchiveRowBuffer(1024);
        long rows = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            await buffer.ReadRowGroupAsync(reader, g, CancellationToken.None); // every archive column
            rows += buffer.Count;
        }
        return rows;
    }

    private (long Rows, long DistinctAlerts) DuckCounts()
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        var glob = Path.Combine(Archive, "**", "*.parquet").Replace('\\', '/');
        cmd.CommandText = $"select count(*), count(distinct (survey, alert_id)) from read_parquet('{glob}', hive_partitioning = true)";
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        return (Convert.ToInt64(r.GetValue(0)), Convert.ToInt64(r.GetValue(1)));
    }

    /// <summary>The writer renames temporaries while the test polls them: a listed one may be gone a moment later.</summary>
    private static long LengthOrZero(string path)
    {
        try { return new FileInfo(path).Length; }
        catch (FileNotFoundException) { return 0; }
    }
}
