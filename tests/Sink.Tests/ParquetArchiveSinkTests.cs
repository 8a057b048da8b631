using Alerts.Core;
using Alerts.Sink.Parquet;
using DuckDB.NET.Data;
using Parquet;
using Parquet.Schema;
using ParquetSharp;

namespace Alerts.Sink.Tests;

public sealed class ParquetArchiveSinkTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "alerts-sink-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    private static DuckDBConnection Duck()
    {
        var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        return c;
    }

    private static object? Scalar(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private string Glob => Path.Combine(_root, "**", "*.parquet").Replace('\\', '/');

    [Fact]
    public async Task DuckDb_reads_the_hive_partitioned_dataset_with_counts_and_values()
    {
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, RowGroupRows = 100 }))
        {
            await sink.WriteAsync(TestClassifications.Range(1, 250));                 // night 20240115
            await sink.WriteAsync(TestClassifications.Range(1001, 50, mjd: 60325.1));  // night 20240116
            await sink.FlushAsync();
            Assert.Equal(2, sink.FilesCommitted);
        }
        Assert.True(File.Exists(Path.Combine(_root, "survey=ztf", "night=20240115", "part-w0-000000.parquet")));

        using var db = Duck();
        var src = $"read_parquet('{Glob}', hive_partitioning=true)";
        Assert.Equal(300L, Convert.ToInt64(Scalar(db, $"select count(*) from {src}")));
        Assert.Equal(250L, Convert.ToInt64(Scalar(db, $"select count(*) from {src} where night = '20240115' and survey = 'ztf'")));
        Assert.Equal(300L, Convert.ToInt64(Scalar(db, $"select count(distinct alert_id) from {src}")));
        // Alert 12: best class index 12 % 14 = 12 -> RRL with 0.87.
        Assert.Equal("RRL", Scalar(db, $"select label from {src} where alert_id = 12"));
        Assert.Equal(0.87f, Convert.ToSingle(Scalar(db, $"select p_RRL from {src} where alert_id = 12")), 6);
        Assert.Equal(0.87f, Convert.ToSingle(Scalar(db, $"select label_probability from {src} where alert_id = 12")), 6);
        Assert.Equal(11, Convert.ToInt32(Scalar(db, $"select p_mu_Lens_Single is null and p_SNIa_91bg is null and label is null and reason = 'too-few-points' from {src} where alert_id = 10") is true ? 11 : 0));
        Assert.Equal("ZTF240000012", Scalar(db, $"select object_id from {src} where alert_id = 12"));
        Assert.Equal(12L, Convert.ToInt64(Scalar(db, $"select source_offset from {src} where alert_id = 12")));
        Assert.Equal("ztf_20240115_programid1", Scalar(db, $"select source_origin from {src} where alert_id = 12"));
        // Latency from the Kafka timestamp (250 ms before ingest) to the write (now): positive and consistent.
        Assert.True(Convert.ToBoolean(Scalar(db, $"select bool_and(latency_ms >= 250 and written_at >= ingested_at) from {src}")));
        Assert.Equal(TestClassifications.T0.UtcDateTime, (DateTime)Scalar(db, $"select ingested_at from {src} where alert_id = 12")!);
        // Every probability vector of classified rows sums to 1.
        Assert.True(Convert.ToBoolean(Scalar(db, $"select bool_and(abs(p_mu_Lens_Single+p_TDE+p_EB+p_SNII+p_SNIax+p_Mira+p_SNIbc+p_KN+p_M_dwarf+p_SNIa_91bg+p_AGN+p_SNIa+p_RRL+p_SLSN_I - 1) < 1e-5) from {src} where label is not null")));
        // p_SNIa_family is the sum of its three class columns, and null exactly where the alert was not classified.
        Assert.True(Convert.ToBoolean(Scalar(db, $"select bool_and(abs(p_SNIa_family - (p_SNIa + p_SNIax + p_SNIa_91bg)) < 1e-6) from {src} where label is not null")));
        Assert.Equal(0L, Convert.ToInt64(Scalar(db, $"select count(*) from {src} where (p_SNIa_family is null) <> (label is null)")));
        Assert.Equal(0.89f, Convert.ToSingle(Scalar(db, $"select p_SNIa_family from {src} where alert_id = 11")), 6); // SNIa 0.87 + 2 x 0.01
    }

    [Fact]
    public async Task The_file_columns_are_the_documented_ones_in_order()
    {
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root }))
        {
            await sink.WriteAsync(TestClassifications.Range(1, 3));
            await sink.FlushAsync();
        }
        using var reader = new ParquetFileReader(Directory.GetFiles(_root, "*.parquet", SearchOption.AllDirectories).Single());
        var schema = reader.FileMetaData.Schema;
        var names = Enumerable.Range(0, schema.NumColumns).Select(i => schema.Column(i).Name).ToArray();
        Assert.Equal(
        [
            "alert_id", "object_id", "mjd", "ra", "dec", "label", "label_probability",
            "p_mu_Lens_Single", "p_TDE", "p_EB", "p_SNII", "p_SNIax", "p_Mira", "p_SNIbc", "p_KN", "p_M_dwarf", "p_SNIa_91bg",
            "p_AGN", "p_SNIa", "p_RRL", "p_SLSN_I", "p_SNIa_family",
            "model_id", "n_points", "bands", "reason", "source_origin", "source_partition", "source_offset",
            "ingested_at", "classified_at", "written_at", "source_timestamp", "latency_ms",
        ], names);
        Assert.Equal("archive-v2", reader.FileMetaData.KeyValueMetadata["alerts.schema"]);
    }

    [Fact]
    public async Task ParquetSharp_reads_the_same_files_and_row_groups_follow_the_row_limit()
    {
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, RowGroupRows = 64 }))
        {
            await sink.WriteAsync(TestClassifications.Range(1, 200));
            await sink.FlushAsync();
        }
        var file = Directory.GetFiles(_root, "*.parquet", SearchOption.AllDirectories).Single();
        using var reader = new ParquetFileReader(file);
        Assert.Equal(4, reader.FileMetaData.NumRowGroups); // 64+64+64+8
        var schema = reader.FileMetaData.Schema;
        var ids = new List<long>(); var labels = new List<string?>(); var snia = new List<float?>(); var family = new List<float?>();
        for (int g = 0; g < reader.FileMetaData.NumRowGroups; g++)
        {
            using var rg = reader.RowGroup(g);
            int n = checked((int)rg.MetaData.NumRows);
            ids.AddRange(rg.Column(schema.ColumnIndex("alert_id")).LogicalReader<long>().ReadAll(n));
            labels.AddRange(rg.Column(schema.ColumnIndex("label")).LogicalReader<string?>().ReadAll(n));
            snia.AddRange(rg.Column(schema.ColumnIndex("p_SNIa")).LogicalReader<float?>().ReadAll(n));
            family.AddRange(rg.Column(schema.ColumnIndex("p_SNIa_family")).LogicalReader<float?>().ReadAll(n));
        }
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), ids);
        Assert.Equal("SNIa", labels[10]); // alert 11 -> class 11 = SNIa
        Assert.Equal(0.87f, snia[10]);
        Assert.Null(labels[2]);           // alert 3 is not classified
        Assert.Null(snia[2]);
        Assert.Null(family[2]);
        for (int i = 0; i < ids.Count; i++)
            Assert.Equal(TestClassifications.Make(ids[i]).SNIaFamilyProbability, family[i]); // the float the label carries, bit for bit
    }

    [Fact]
    public async Task Row_groups_are_also_cut_by_time()
    {
        var clock = new ManualClock(TestClassifications.T0);
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, RowGroupRows = 1000, RowGroupMaxAge = TimeSpan.FromSeconds(5), Clock = clock }))
        {
            await sink.WriteAsync(TestClassifications.Range(1, 10));
            clock.Advance(TimeSpan.FromSeconds(6));
            await sink.WriteAsync(TestClassifications.Range(11, 10)); // the first 10 are 6 s old: all 20 go out as a group
            await sink.WriteAsync(TestClassifications.Range(21, 5));
            await sink.FlushAsync();
        }
        using var reader = new ParquetFileReader(Directory.GetFiles(_root, "*.parquet", SearchOption.AllDirectories).Single());
        Assert.Equal(2, reader.FileMetaData.NumRowGroups);
        Assert.Equal(20, reader.RowGroup(0).MetaData.NumRows);
    }

    private string[] Committed() => Directory.GetFiles(_root, "*.parquet", SearchOption.AllDirectories);

    [Fact]
    public async Task Periodic_flushes_keep_files_open_until_the_oldest_reaches_the_file_age_then_close_them_all_into_one_file_each()
    {
        var clock = new ManualClock(TestClassifications.T0);
        await using var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, Clock = clock, FileMaxAge = TimeSpan.FromSeconds(60) });
        Assert.False(sink.HoldsUndurableRows);
        for (int tick = 0; tick < 59; tick++)
        {
            await sink.WriteAsync(TestClassifications.Range(1 + tick * 10, 10));
            await sink.FlushDueAsync();
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        // 59 periodic flushes, 590 rows: still one open file, nothing renamed into place, nothing durable.
        Assert.Empty(Committed());
        Assert.True(sink.HoldsUndurableRows);
        Assert.Equal(1, sink.OpenFiles);
        clock.Advance(TimeSpan.FromSeconds(1)); // the file is 60 s old
        await sink.FlushDueAsync();
        Assert.False(sink.HoldsUndurableRows);
        Assert.Equal(1, sink.FilesCommitted);
        using (var reader = new ParquetFileReader(Committed().Single()))
            Assert.Equal(590, reader.FileMetaData.NumRows);
        // The next rows open a new file, whose age starts now.
        await sink.WriteAsync(TestClassifications.Range(10_001, 5));
        clock.Advance(TimeSpan.FromSeconds(30));
        await sink.FlushDueAsync();
        Assert.Equal(1, sink.FilesCommitted);
        Assert.True(sink.HoldsUndurableRows);
    }

    [Fact]
    public async Task A_full_flush_closes_young_files_at_once_and_without_a_file_age_every_periodic_flush_does()
    {
        var clock = new ManualClock(TestClassifications.T0);
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, Clock = clock, WriterId = "a", FileMaxAge = TimeSpan.FromSeconds(60) }))
        {
            await sink.WriteAsync(TestClassifications.Range(1, 10));
            await sink.FlushAsync(); // rebalance or shutdown: everything durable now
            Assert.False(sink.HoldsUndurableRows);
            Assert.Single(Committed());
        }
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, Clock = clock, WriterId = "b" }))
        {
            await sink.WriteAsync(TestClassifications.Range(100, 10));
            await sink.FlushDueAsync();
            Assert.False(sink.HoldsUndurableRows);
            Assert.Equal(2, Committed().Length);
        }
    }

    [Fact]
    public async Task A_file_is_closed_once_its_row_groups_reach_the_size_limit()
    {
        var clock = new ManualClock(TestClassifications.T0);
        await using var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, Clock = clock, RowGroupRows = 100, FileMaxAge = TimeSpan.FromHours(1), FileMaxBytes = 1 });
        await sink.WriteAsync(TestClassifications.Range(1, 250)); // a row group at rows 100 and 200: each closes its file
        Assert.Equal(2, sink.FilesCommitted);
        Assert.True(sink.HoldsUndurableRows); // the last 50 rows are in a third, open file
        await sink.FlushAsync();
        Assert.Equal(3, Committed().Length);
        Assert.Equal(250, sink.RowsWritten);
    }

    [Fact]
    public async Task Redelivered_alerts_are_not_duplicated_within_a_run_nor_after_a_restart()
    {
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root }))
        {
            await sink.WriteAsync(TestClassifications.Range(1, 100));
            await sink.WriteAsync(TestClassifications.Range(50, 100)); // 50..100 again
            await sink.FlushAsync();
            Assert.Equal(149, sink.RowsWritten);
            Assert.Equal(51, sink.DuplicatesDropped);
        }
        await using (var restarted = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root }))
        {
            await restarted.WriteAsync(TestClassifications.Range(140, 20)); // 140..149 already archived
            await restarted.FlushAsync();
            Assert.Equal(10, restarted.RowsWritten);
        }
        using var db = Duck();
        Assert.Equal(159L, Convert.ToInt64(Scalar(db, $"select count(*) from read_parquet('{Glob}', hive_partitioning=true)")));
        Assert.Equal(159L, Convert.ToInt64(Scalar(db, $"select count(distinct alert_id) from read_parquet('{Glob}', hive_partitioning=true)")));
    }

    [Fact]
    public async Task A_writer_killed_mid_file_leaves_only_complete_files_and_the_restart_cleans_temporaries()
    {
        var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, RowGroupRows = 50 });
        await sink.WriteAsync(TestClassifications.Range(1, 120));
        await sink.FlushAsync();                                   // durable: 120 rows in one file
        await sink.WriteAsync(TestClassifications.Range(121, 130)); // two row groups on disk in a temp file, no footer
        sink.Abandon();                                             // the crash

        var temps = Directory.GetFiles(_root, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories);
        Assert.Single(temps);
        Assert.True(new FileInfo(temps[0]).Length > 0);
        using (var db = Duck())
            Assert.Equal(120L, Convert.ToInt64(Scalar(db, $"select count(*) from read_parquet('{Glob}', hive_partitioning=true)")));

        await using (var restarted = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, RowGroupRows = 50 }))
        {
            Assert.Equal(1, restarted.TemporariesCleaned);
            await restarted.WriteAsync(TestClassifications.Range(121, 130)); // re-delivered after the crash
            await restarted.FlushAsync();
        }
        Assert.Empty(Directory.GetFiles(_root, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories));
        using var db2 = Duck();
        Assert.Equal(250L, Convert.ToInt64(Scalar(db2, $"select count(distinct alert_id) from read_parquet('{Glob}', hive_partitioning=true)")));
        Assert.Equal(250L, Convert.ToInt64(Scalar(db2, $"select count(*) from read_parquet('{Glob}', hive_partitioning=true)")));
    }

    [Fact]
    public async Task A_start_deletes_other_writers_temporaries_only_once_they_are_stale()
    {
        // Temporaries of two other writers: a pod that died 7 hours ago and will never return under its name, and a
        // writer that is live right now. Another writer's fresh temporary must never be touched.
        var dir = Path.Combine(_root, "survey=ztf", "night=20240115");
        Directory.CreateDirectory(dir);
        var orphan = Path.Combine(dir, ".part-alerts_7d9f-000003.parquet" + AtomicFile.TempSuffix);
        var live = Path.Combine(dir, ".part-alerts_5c2a-000001.parquet" + AtomicFile.TempSuffix);
        File.WriteAllBytes(orphan, "PAR1 half a row group"u8.ToArray());
        File.WriteAllBytes(live, "PAR1 a row group being written"u8.ToArray());
        var now = DateTimeOffset.UtcNow;
        File.SetLastWriteTimeUtc(orphan, now.UtcDateTime.AddHours(-7));
        File.SetLastWriteTimeUtc(live, now.UtcDateTime.AddSeconds(-20));

        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, WriterId = "alerts_9b1e" }))
        {
            Assert.Equal(0, sink.TemporariesCleaned);
            Assert.Equal(1, sink.StaleTemporariesCleaned);
        }
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(live));

        // Disabled: nothing but the writer's own temporaries is deleted.
        File.SetLastWriteTimeUtc(live, now.UtcDateTime.AddDays(-2));
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, WriterId = "alerts_9b1e", StaleTemporaryAge = null }))
            Assert.Equal(0, sink.StaleTemporariesCleaned);
        Assert.True(File.Exists(live));
    }

    [Fact]
    public async Task Compaction_merges_a_night_without_losing_or_duplicating_rows()
    {
        // Three writers' worth of small files, with the overlap a crash-and-redeliver leaves between writers.
        for (int w = 0; w < 3; w++)
            await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, WriterId = "w" + w, DedupAgainstExistingFiles = false }))
                for (int f = 0; f < 4; f++)
                {
                    await sink.WriteAsync(TestClassifications.Range(w * 300 + f * 100, 110)); // overlaps the next file (dropped in-run) and the next writer (kept until compaction)
                    await sink.FlushAsync();
                }
        await using (var other = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root, WriterId = "x" }))
        { await other.WriteAsync(TestClassifications.Range(1, 5, mjd: 60325.5)); await other.FlushAsync(); }

        using var db = Duck();
        var src = $"read_parquet('{Glob}', hive_partitioning=true)";
        var before = Convert.ToInt64(Scalar(db, $"select count(distinct alert_id) from {src} where night='20240115'"));
        var checksum = Convert.ToDouble(Scalar(db, $"select sum(p_SNIa) + sum(mjd) from (select distinct on (alert_id) * from {src} where night='20240115')"));

        var results = await new ArchiveCompactor(_root, rowGroupRows: 500).CompactNightAsync("20240115");
        var r = Assert.Single(results);
        Assert.Equal(12, r.FilesIn);
        Assert.Equal(3 * (110 + 3 * 100), r.RowsIn);
        Assert.True(r.DuplicatesDropped > 0);
        Assert.Equal(before, r.RowsOut);
        Assert.Equal(r.RowsIn - r.RowsOut, r.DuplicatesDropped);

        Assert.Single(Directory.GetFiles(Path.Combine(_root, "survey=ztf", "night=20240115"), "*.parquet"));
        Assert.Equal(before, Convert.ToInt64(Scalar(db, $"select count(*) from {src} where night='20240115'")));
        Assert.Equal(before, Convert.ToInt64(Scalar(db, $"select count(distinct alert_id) from {src} where night='20240115'")));
        Assert.Equal(checksum, Convert.ToDouble(Scalar(db, $"select sum(p_SNIa) + sum(mjd) from {src} where night='20240115'")), 6);
        Assert.Equal(5L, Convert.ToInt64(Scalar(db, $"select count(*) from {src} where night='20240116'"))); // other night untouched
    }

    [Fact]
    public async Task An_interrupted_compaction_is_finished_by_deleting_its_inputs()
    {
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root }))
            for (int f = 0; f < 3; f++) { await sink.WriteAsync(TestClassifications.Range(f * 10, 10)); await sink.FlushAsync(); }
        var dir = Path.Combine(_root, "survey=ztf", "night=20240115");
        var inputs = Directory.GetFiles(dir, "*.parquet");
        var saved = inputs.ToDictionary(f => f, File.ReadAllBytes);
        await new ArchiveCompactor(_root).CompactNightAsync("20240115", Survey.Ztf);
        foreach (var (f, bytes) in saved) File.WriteAllBytes(f, bytes); // as if we died before deleting the inputs
        Assert.Equal(3, await ArchiveCompactor.FinishInterrupted(dir));
        Assert.Single(Directory.GetFiles(dir, "*.parquet"));
    }

    [Fact]
    public async Task Compaction_fills_p_SNIa_family_from_the_class_columns_of_an_archive_v1_file()
    {
        await using (var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = _root }))
            for (int f = 0; f < 2; f++) { await sink.WriteAsync(TestClassifications.Range(1 + f * 20, 20)); await sink.FlushAsync(); }
        var dir = Path.Combine(_root, "survey=ztf", "night=20240115");
        var files = Directory.GetFiles(dir, "*.parquet").Order(StringComparer.Ordinal).ToArray();
        await WriteWithoutFamilyColumnAsync(files[0], Path.Combine(dir, "part-v1-000000.parquet"));
        File.Delete(files[0]);

        var r = Assert.Single(await new ArchiveCompactor(_root).CompactNightAsync("20240115"));
        Assert.Equal(40, r.RowsOut);
        using var db = Duck();
        var src = $"read_parquet('{Glob}', hive_partitioning=true)";
        Assert.Equal(34L, Convert.ToInt64(Scalar(db, $"select count(p_SNIa_family) from {src}"))); // 1..40 less the 6 unclassified (3, 10, ..., 38)
        Assert.True(Convert.ToBoolean(Scalar(db, $"select bool_and(abs(p_SNIa_family - (p_SNIa + p_SNIax + p_SNIa_91bg)) < 1e-6) from {src} where label is not null")));
        Assert.Equal(0.89f, Convert.ToSingle(Scalar(db, $"select p_SNIa_family from {src} where alert_id = 11")), 6);
    }

    /// <summary>Copies an archive file column by column, leaving p_SNIa_family out (what an archive-v1 writer wrote).</summary>
    private static async Task WriteWithoutFamilyColumnAsync(string from, string to)
    {
        var fields = ArchiveSchema.Schema.DataFields.Where(f => f.Name != "p_SNIa_family").ToArray();
        await using var ins = File.OpenRead(from);
        await using var reader = await ParquetReader.CreateAsync(ins);
        await using var outs = File.Create(to);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), outs);
        writer.CustomMetadata = new Dictionary<string, string> { ["alerts.schema"] = "archive-v1" };
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            using var wg = writer.CreateRowGroup();
            int n = checked((int)rg.RowCount);
            foreach (var f in fields)
            {
                if (f is DataField<string>) { var a = new string?[n]; await rg.ReadAsync(f, a.AsMemory()); await wg.WriteAsync(f, a!); }
                else if (f.ClrType == typeof(long)) await Copy<long>(rg, wg, f, n);
                else if (f.ClrType == typeof(int)) await Copy<int>(rg, wg, f, n);
                else if (f.ClrType == typeof(double)) await Copy<double>(rg, wg, f, n);
                else if (f.ClrType == typeof(float)) await Copy<float>(rg, wg, f, n);
                else if (f.ClrType == typeof(DateTime)) await Copy<DateTime>(rg, wg, f, n);
                else throw new NotSupportedException($"{f.Name}: {f.ClrType}");
            }
            wg.CompleteValidate();
        }
    }

    private static async Task Copy<T>(ParquetRowGroupReader rg, ParquetRowGroupWriter wg, DataField f, int n) where T : struct
    {
        if (f.IsNullable) { var a = new T?[n]; await rg.ReadAsync(f, a.AsMemory()); await wg.WriteAsync<T>(f, (ReadOnlyMemory<T?>)a); }
        else { var a = new T[n]; await rg.ReadAsync(f, a.AsMemory()); await wg.WriteAsync(f, (ReadOnlyMemory<T>)a); }
    }
}

public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;
    public void Advance(TimeSpan by) => _now += by;
    public override DateTimeOffset GetUtcNow() => _now;
}
