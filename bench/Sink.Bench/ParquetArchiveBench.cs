using Alerts.Core;
using Alerts.Sink.Parquet;
using BenchmarkDotNet.Attributes;
using Parquet;

namespace Alerts.Sink.Bench;

/// <summary>
/// Parquet rows/s with all 33 file columns. Baseline: the same rows encoded by Parquet.Net into memory (no file, no
/// fsync, no dedup); measured: the full ParquetArchiveSink path (dedup, Hive layout, temp file, fsync, rename).
/// </summary>
[MemoryDiagnoser]
public class ParquetArchiveBench
{
    [Params(50_000)] public int Rows;
    private List<Classification> _rows = null!;
    private string _root = null!;
    private int _run;

    [GlobalSetup]
    public void Setup()
    {
        _rows = BenchData.Make(Rows);
        _root = Directory.CreateTempSubdirectory("alerts-bench-parquet").FullName;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, true);

    [Benchmark(Baseline = true, Description = "Parquet.Net encode to memory (all columns)")]
    public async Task<long> EncodeToMemory()
    {
        var buf = new ArchiveRowBuffer(Rows);
        var now = DateTimeOffset.UtcNow;
        foreach (var c in _rows) buf.Add(c, now);
        buf.StampWritten(now);
        using var ms = new MemoryStream();
        await using (var w = await ParquetWriter.CreateAsync(ArchiveSchema.Schema, ms, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }))
            await buf.WriteRowGroupAsync(w, default);
        return ms.Length;
    }

    [Benchmark(Description = "ParquetArchiveSink write + durable flush")]
    public async Task<long> ArchiveSinkDurable()
    {
        var root = Path.Combine(_root, "r" + _run++);
        await using var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = root, RowGroupRows = 50_000, DedupAgainstExistingFiles = false });
        await sink.WriteAsync(_rows);
        await sink.FlushAsync();
        Directory.Delete(root, true);
        return sink.RowsWritten;
    }
}
