using Alerts.Core;
using Parquet;

namespace Alerts.Sink.Parquet;

public sealed record CompactionResult(string Directory, int FilesIn, long RowsIn, long RowsOut, long DuplicatesDropped, string? Output, int LeftoversRemoved);

/// <summary>One night partition compacted by <see cref="ArchiveCompactor.CompactAllAsync"/>, counted from the files before and after.</summary>
public sealed record NightCompaction(Survey Survey, string Night, int FilesBefore, int FilesAfter, long RowsBefore, long RowsAfter, long DuplicatesDropped, CompactionResult Result)
{
    /// <summary>Every row read is in the output or was a duplicate of one that is.</summary>
    public bool RowsAccountedFor => RowsAfter + DuplicatesDropped == RowsBefore;
}

/// <summary>
/// Merges the files of one night into one file per partition directory (row groups of <see cref="RowGroupRows"/>),
/// dropping rows whose alert id already appeared (the at-least-once duplicates a crash can leave), so every alert id
/// is in the night exactly once. The output is written atomically and records its inputs in the key-value metadata
/// key <c>alerts.compacted_from</c>; inputs are deleted after the rename. If the process dies between rename and
/// deletion, the next compaction (or <see cref="FinishInterrupted"/>) deletes the leftovers first.
/// Must not run while a writer is still writing that night.
/// </summary>
public sealed class ArchiveCompactor(string root, int rowGroupRows = 100_000, CompressionMethod compression = CompressionMethod.Snappy)
{
    public const string CompactedFromKey = "alerts.compacted_from";
    public int RowGroupRows { get; } = rowGroupRows;

    public async Task<IReadOnlyList<CompactionResult>> CompactNightAsync(string night, Survey? survey = null, CancellationToken ct = default)
    {
        if (night.Length != 8 || !night.All(char.IsAsciiDigit))
            throw new ArgumentException($"night '{night}' must be YYYYMMDD (e.g. 20240115)", nameof(night));
        var results = new List<CompactionResult>();
        var surveys = survey is { } s ? [s] : Enum.GetValues<Survey>();
        foreach (var sv in surveys)
        {
            var dir = Path.Combine(root, ArchiveSchema.PartitionDirectory(sv, night));
            if (Directory.Exists(dir)) results.Add(await CompactDirectoryAsync(dir, ct));
        }
        return results;
    }

    /// <summary>The night partitions (survey=&lt;s&gt;/night=&lt;YYYYMMDD&gt;) under the root, by night then survey.</summary>
    public IReadOnlyList<(Survey Survey, string Night, string Directory)> NightPartitions(Survey? survey = null)
    {
        var found = new List<(Survey, string, string)>();
        if (!Directory.Exists(root)) return found;
        foreach (var sv in survey is { } one ? [one] : Enum.GetValues<Survey>())
        {
            var surveyDir = Path.Combine(root, "survey=" + sv.Name());
            if (!Directory.Exists(surveyDir)) continue;
            foreach (var dir in Directory.GetDirectories(surveyDir, "night=*"))
            {
                var night = Path.GetFileName(dir)["night=".Length..];
                if (night.Length == 8 && night.All(char.IsAsciiDigit)) found.Add((sv, night, dir));
            }
        }
        return found.OrderBy(p => p.Item2, StringComparer.Ordinal).ThenBy(p => p.Item1).ToList();
    }

    /// <summary>
    /// Compacts every night partition under the root, counting files and rows from the files themselves before and
    /// after each merge (after finishing an interrupted compaction, whose leftovers the output already holds).
    /// </summary>
    public async Task<IReadOnlyList<NightCompaction>> CompactAllAsync(Survey? survey = null, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        var results = new List<NightCompaction>();
        foreach (var (sv, night, dir) in NightPartitions(survey))
        {
            progress?.Report($"{sv.Name()} night {night}");
            AtomicFile.CleanTemporaries(dir, "part-compact-");
            await FinishInterrupted(dir, ct);
            var (filesBefore, rowsBefore) = await CountAsync(dir, ct);
            var r = await CompactDirectoryAsync(dir, ct);
            var (filesAfter, rowsAfter) = await CountAsync(dir, ct);
            results.Add(new NightCompaction(sv, night, filesBefore, filesAfter, rowsBefore, rowsAfter, r.DuplicatesDropped, r));
        }
        return results;
    }

    /// <summary>Parquet files in a partition directory and the rows their footers hold.</summary>
    public static async Task<(int Files, long Rows)> CountAsync(string dir, CancellationToken ct = default)
    {
        var files = Directory.GetFiles(dir, "*.parquet");
        long rows = 0;
        foreach (var f in files)
        {
            await using var s = File.OpenRead(f);
            await using var reader = await ParquetReader.CreateAsync(s, null, true, ct);
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var rg = reader.OpenRowGroupReader(g);
                rows += rg.RowCount;
            }
        }
        return (files.Length, rows);
    }

    public async Task<CompactionResult> CompactDirectoryAsync(string dir, CancellationToken ct = default)
    {
        AtomicFile.CleanTemporaries(dir, "part-compact-");
        int leftovers = await FinishInterrupted(dir, ct);
        var inputs = Directory.GetFiles(dir, "*.parquet").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (inputs.Length <= 1)
            return new CompactionResult(dir, inputs.Length, -1, -1, 0, null, leftovers);

        var final = Path.Combine(dir, $"part-compact-{DateTime.UtcNow:yyyyMMddHHmmssfff}-000000.parquet");
        var temp = AtomicFile.TempPathFor(final);
        long rowsIn = 0, rowsOut = 0, dups = 0;
        var seen = new HashSet<long>();
        var inBuf = new ArchiveRowBuffer();
        var outBuf = new ArchiveRowBuffer(Math.Min(RowGroupRows, 1 << 16));
        var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        try
        {
            await using (var writer = await ParquetWriter.CreateAsync(ArchiveSchema.Schema, fs, new ParquetOptions { CompressionMethod = compression }, false, ct))
            {
                writer.CustomMetadata = new Dictionary<string, string>
                {
                    ["alerts.writer"] = "compact",
                    [ArchiveSchema.VersionKey] = ArchiveSchema.Version,
                    [CompactedFromKey] = string.Join('\n', inputs.Select(Path.GetFileName)),
                };
                foreach (var input in inputs)
                {
                    await using var ins = File.OpenRead(input);
                    await using var reader = await ParquetReader.CreateAsync(ins, null, true, ct);
                    for (int g = 0; g < reader.RowGroupCount; g++)
                    {
                        await inBuf.ReadRowGroupAsync(reader, g, ct);
                        rowsIn += inBuf.Count;
                        for (int i = 0; i < inBuf.Count; i++)
                        {
                            if (!seen.Add(inBuf.AlertIdAt(i))) { dups++; continue; }
                            outBuf.AddFrom(inBuf, i);
                            if (outBuf.Count >= RowGroupRows) { await outBuf.WriteRowGroupAsync(writer, ct); rowsOut += outBuf.Count; outBuf.Clear(); }
                        }
                    }
                }
                if (outBuf.Count > 0) { await outBuf.WriteRowGroupAsync(writer, ct); rowsOut += outBuf.Count; outBuf.Clear(); }
            }
            AtomicFile.Commit(fs, temp, final);
        }
        catch
        {
            fs.Dispose();
            File.Delete(temp);
            throw;
        }
        foreach (var input in inputs) File.Delete(input);
        AtomicFile.FsyncDirectory(dir);
        return new CompactionResult(dir, inputs.Length, rowsIn, rowsOut, dups, final, leftovers);
    }

    /// <summary>Deletes inputs that a committed compacted file already holds (a compaction died after its rename).</summary>
    public static async Task<int> FinishInterrupted(string dir, CancellationToken ct = default)
    {
        int n = 0;
        foreach (var f in Directory.GetFiles(dir, "part-compact-*.parquet"))
        {
            await using var s = File.OpenRead(f);
            await using var reader = await ParquetReader.CreateAsync(s, null, true, ct);
            if (!reader.CustomMetadata.TryGetValue(CompactedFromKey, out var list)) continue;
            foreach (var name in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var p = Path.Combine(dir, name);
                if (p != f && File.Exists(p)) { File.Delete(p); n++; }
            }
        }
        return n;
    }
}
