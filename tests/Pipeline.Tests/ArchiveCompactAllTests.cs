using Alerts.Core;
using Alerts.Sink.Parquet;
using Alerts.Sink.Tests;

namespace Alerts.Pipeline.Tests;

/// <summary>`alerts archive compact --all --root DIR`: every night partition merged, with a table of files and rows before and after.</summary>
public sealed class ArchiveCompactAllTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("compact-all-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Two writers, two flushes each: four files per night, alert ids distinct across the archive.</summary>
    private async Task WriteNightAsync(double mjd, long firstId, Survey survey = Survey.Ztf)
    {
        for (int w = 0; w < 2; w++)
            await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, WriterId = "w" + w }))
                for (int f = 0; f < 2; f++)
                {
                    long from = firstId + w * 100 + f * 50;
                    await sink.WriteAsync(Enumerable.Range(0, 50).Select(i => TestClassifications.Make(from + i, mjd, survey)).ToList());
                    await sink.FlushAsync();
                }
    }

    /// <summary>The table's data rows, cells trimmed, keyed by "night survey".</summary>
    private static Dictionary<string, string[]> Rows(string stdout) =>
        stdout.Split('\n').Where(l => l.Contains('│'))
            .Select(l => l.Split('│', StringSplitOptions.RemoveEmptyEntries).Select(c => c.Trim()).ToArray())
            .Where(c => c.Length == 7 && (c[0].Length == 8 && c[0].All(char.IsAsciiDigit) || c[0] == "total"))
            .ToDictionary(c => c[0] + " " + c[1], c => c[2..]);

    [Fact]
    public async Task Compact_all_merges_every_night_partition_and_reports_files_and_equal_rows_before_and_after()
    {
        await WriteNightAsync(60324.25, 1_000);                // ztf 20240115
        await WriteNightAsync(60325.25, 2_000);                // ztf 20240116
        await WriteNightAsync(60326.25, 3_000, Survey.Lsst);   // lsst 20240117
        var partitions = new ArchiveCompactor(_root).NightPartitions();
        Assert.Equal(["20240115 ztf", "20240116 ztf", "20240117 lsst"], partitions.Select(p => $"{p.Night} {p.Survey.Name()}"));

        var (code, stdout, err) = CommandLineTests.Run("archive", "compact", "--all", "--root", _root);
        Assert.True(code == 0, err + stdout);
        var rows = Rows(stdout);
        foreach (var key in new[] { "20240115 ztf", "20240116 ztf", "20240117 lsst" })
            Assert.Equal(["4", "1", "200", "200", "0"], rows[key]);
        Assert.Equal(["12", "3", "600", "600", "0"], rows["total 3 nights"]);

        foreach (var (_, _, dir) in partitions)
            Assert.Equal((1, 200L), await ArchiveCompactor.CountAsync(dir));
    }

    [Fact]
    public async Task Compact_all_counts_duplicates_so_that_rows_after_and_duplicates_add_up_to_rows_before()
    {
        await WriteNightAsync(60324.25, 1_000);
        // A redelivered file from a third writer: 30 alerts already archived.
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, WriterId = "w9", DedupAgainstExistingFiles = false }))
        {
            await sink.WriteAsync(Enumerable.Range(0, 30).Select(i => TestClassifications.Make(1_000 + i)).ToList());
            await sink.FlushAsync();
        }
        var r = Assert.Single(await new ArchiveCompactor(_root).CompactAllAsync());
        Assert.Equal((5, 1, 230L, 200L, 30L), (r.FilesBefore, r.FilesAfter, r.RowsBefore, r.RowsAfter, r.DuplicatesDropped));
        Assert.True(r.RowsAccountedFor);
    }

    [Theory]
    [InlineData("--all", "--night", "20240115")]
    [InlineData()]
    public void Compact_needs_exactly_one_of_night_and_all(params string[] extra)
    {
        var (code, _, err) = CommandLineTests.Run(["archive", "compact", "--root", _root, .. extra]);
        Assert.Equal(2, code);
        Assert.Contains("--night YYYYMMDD or --all", err);
    }
}
