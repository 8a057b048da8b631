using Alerts.Core;
using Parquet;

namespace Alerts.Sink.Parquet;

public sealed record ParquetArchiveOptions
{
    /// <summary>Archive root; files go to root/survey=&lt;s&gt;/night=&lt;YYYYMMDD&gt;/part-&lt;writer&gt;-&lt;seq&gt;.parquet.</summary>
    public required string Root { get; init; }

    /// <summary>Unique among writers sharing a root at the same time; keep it stable across restarts so the restart cleans its own temporaries.</summary>
    public string WriterId { get; init; } = "w0";

    /// <summary>A row group is written when this many rows are buffered for a partition...</summary>
    public int RowGroupRows { get; init; } = 50_000;

    /// <summary>...or when the oldest buffered row is this old (checked on each write).</summary>
    public TimeSpan RowGroupMaxAge { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A file is closed (made durable and visible) once it holds this many rows, even without a flush.</summary>
    public long FileMaxRows { get; init; } = 2_000_000;

    /// <summary>
    /// On the pipeline's periodic flush (<see cref="ParquetArchiveSink.FlushDueAsync"/>), open files are kept open
    /// until the oldest is this old, then all are closed together; null closes them on every flush. Until they close,
    /// their rows are not durable and no offset past them is committed: this is also the longest a commit waits.
    /// </summary>
    public TimeSpan? FileMaxAge { get; init; }

    /// <summary>A file is closed once its written row groups reach this size, even without a flush.</summary>
    public long FileMaxBytes { get; init; } = 64L << 20;

    public CompressionMethod Compression { get; init; } = CompressionMethod.Snappy;

    /// <summary>On first write to a partition, load the alert ids already archived there by any writer, so a
    /// restart that re-consumes uncommitted offsets does not duplicate rows.</summary>
    public bool DedupAgainstExistingFiles { get; init; } = true;

    /// <summary>At start, also delete any writer's temporaries not written to for this long (null: only this writer's).
    /// Keep it far above the flush interval; writers whose id changes on restart (Deployment pods) leave theirs behind.</summary>
    public TimeSpan? StaleTemporaryAge { get; init; } = TimeSpan.FromHours(6);

    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// Archives classifications as a Hive-partitioned Parquet dataset. Rows of a (survey, night) partition go to an open
/// temporary file, a row group at a time; <see cref="FlushAsync"/> writes what is buffered, closes every open file,
/// fsyncs it and renames it into place, so after it returns every row written so far is durable and visible.
/// Re-delivered alerts (same survey and alert id) are dropped. Not thread-safe: one writer per pipeline.
/// </summary>
public sealed class ParquetArchiveSink : IDeferringSink
{
    private readonly ParquetArchiveOptions _o;
    private readonly Dictionary<(Survey, string), PartitionFile> _open = new();
    private readonly Dictionary<(Survey, string), HashSet<long>> _seen = new();
    private readonly ParquetOptions _parquetOptions;
    private readonly Stack<ArchiveRowBuffer> _spareBuffers = new(); // reused across files: no per-flush column arrays
    private long _seq;

    public ParquetArchiveSink(ParquetArchiveOptions options)
    {
        _o = options;
        if (options.RowGroupRows < 1) throw new ArgumentException($"RowGroupRows must be at least 1 (got {options.RowGroupRows}).", nameof(options));
        if (options.WriterId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.')))
            throw new ArgumentException($"WriterId '{options.WriterId}' may hold only letters, digits, '_' and '.' (it is part of file names and '-' separates the sequence).", nameof(options));
        _parquetOptions = new ParquetOptions { CompressionMethod = options.Compression };
        Directory.CreateDirectory(options.Root);
        TemporariesCleaned = AtomicFile.CleanTemporaries(options.Root, "part-" + options.WriterId + "-");
        if (options.StaleTemporaryAge is { } age)
            StaleTemporariesCleaned = AtomicFile.CleanStaleTemporaries(options.Root, age, options.Clock.GetUtcNow());
    }

    public string Name => "parquet:" + _o.Root;

    /// <summary>Temporaries of this writer id left by a previous crash and deleted at start.</summary>
    public int TemporariesCleaned { get; }

    /// <summary>Other writers' temporaries older than <see cref="ParquetArchiveOptions.StaleTemporaryAge"/>, deleted at start.</summary>
    public int StaleTemporariesCleaned { get; }

    public long RowsWritten { get; private set; }
    public long DuplicatesDropped { get; private set; }
    public long FilesCommitted { get; private set; }
    public IReadOnlyList<string> CommittedFiles => _committed;

    /// <summary>Raised after a file was renamed into place (durable and visible), with its path and row count.</summary>
    public event Action<string, long>? FileCommitted;
    private readonly List<string> _committed = new();

    public async ValueTask WriteAsync(IReadOnlyList<Classification> batch, CancellationToken cancellationToken = default)
    {
        var now = _o.Clock.GetUtcNow();
        for (int i = 0; i < batch.Count; i++)
        {
            var c = batch[i];
            var key = (c.Identity.Survey, c.Identity.Night);
            var seen = await SeenAsync(key, cancellationToken);
            if (!seen.Add(c.Identity.AlertId)) { DuplicatesDropped++; continue; }
            if (!_open.TryGetValue(key, out var pf)) _open[key] = pf = await OpenAsync(key, cancellationToken);
            pf.Buffer.Add(c, now);
            RowsWritten++;
            if (pf.Buffer.Count >= _o.RowGroupRows) await WriteRowGroupAsync(pf, cancellationToken);
            if (pf.RowsInFile >= _o.FileMaxRows || (pf.RowsInFile > 0 && pf.Stream.Length >= _o.FileMaxBytes)) await CloseAsync(key, pf, cancellationToken);
        }
        // Row groups by time: partitions that receive little traffic still get their rows written out.
        foreach (var (key, pf) in _open.ToArray())
            if (pf.Buffer.Count > 0 && now - pf.Buffer.FirstRowAt >= _o.RowGroupMaxAge)
                await WriteRowGroupAsync(pf, cancellationToken);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (key, pf) in _open.ToArray())
            await CloseAsync(key, pf, cancellationToken);
    }

    /// <summary>
    /// The periodic flush: with <see cref="ParquetArchiveOptions.FileMaxAge"/> set, closes every open file once the
    /// oldest was opened that long ago (else keeps them open, their rows not yet durable); without it, as
    /// <see cref="FlushAsync"/>.
    /// </summary>
    public async ValueTask FlushDueAsync(CancellationToken cancellationToken = default)
    {
        if (_o.FileMaxAge is { } age)
        {
            var now = _o.Clock.GetUtcNow();
            if (!_open.Values.Any(pf => now - pf.OpenedAt >= age)) return;
        }
        await FlushAsync(cancellationToken);
    }

    /// <summary>Rows are in files not yet renamed into place.</summary>
    public bool HoldsUndurableRows => _open.Count > 0;

    /// <summary>Files open now (not yet durable).</summary>
    public int OpenFiles => _open.Count;

    public async ValueTask DisposeAsync() => await FlushAsync();

    /// <summary>Drops open files without committing them, as a crash would (tests and fault injection).</summary>
    public void Abandon()
    {
        foreach (var pf in _open.Values) pf.Stream.Dispose();
        _open.Clear();
    }

    private async ValueTask<HashSet<long>> SeenAsync((Survey, string) key, CancellationToken ct)
    {
        if (_seen.TryGetValue(key, out var set)) return set;
        set = new HashSet<long>();
        var dir = Path.Combine(_o.Root, ArchiveSchema.PartitionDirectory(key.Item1, key.Item2));
        if (_o.DedupAgainstExistingFiles && Directory.Exists(dir))
            foreach (var f in Directory.EnumerateFiles(dir, "*.parquet"))
            {
                await using var fs = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
                await ArchiveRowBuffer.ReadAlertIdsAsync(fs, set, ct);
            }
        _seen[key] = set;
        return set;
    }

    private async Task<PartitionFile> OpenAsync((Survey, string) key, CancellationToken ct)
    {
        var dir = Path.Combine(_o.Root, ArchiveSchema.PartitionDirectory(key.Item1, key.Item2));
        Directory.CreateDirectory(dir);
        string final;
        do final = Path.Combine(dir, $"part-{_o.WriterId}-{_seq++:D6}.parquet");
        while (File.Exists(final) || File.Exists(AtomicFile.TempPathFor(final)));
        var temp = AtomicFile.TempPathFor(final);
        var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        var writer = await ParquetWriter.CreateAsync(ArchiveSchema.Schema, fs, _parquetOptions, append: false, ct);
        writer.CustomMetadata = new Dictionary<string, string> { ["alerts.writer"] = _o.WriterId, [ArchiveSchema.VersionKey] = ArchiveSchema.Version };
        var buffer = _spareBuffers.Count > 0 ? _spareBuffers.Pop() : new ArchiveRowBuffer(Math.Min(_o.RowGroupRows, 1 << 16));
        buffer.Clear();
        return new PartitionFile(final, temp, fs, writer, buffer) { OpenedAt = _o.Clock.GetUtcNow() };
    }

    private async Task WriteRowGroupAsync(PartitionFile pf, CancellationToken ct)
    {
        if (pf.Buffer.Count == 0) return;
        pf.Buffer.StampWritten(_o.Clock.GetUtcNow());
        await pf.Buffer.WriteRowGroupAsync(pf.Writer, ct);
        pf.RowsInFile += pf.Buffer.Count;
        pf.Buffer.Clear();
    }

    private async Task CloseAsync((Survey, string) key, PartitionFile pf, CancellationToken ct)
    {
        await WriteRowGroupAsync(pf, ct);
        _open.Remove(key);
        _spareBuffers.Push(pf.Buffer);
        await pf.Writer.DisposeAsync(); // writes the footer
        if (pf.RowsInFile == 0) { pf.Stream.Dispose(); File.Delete(pf.TempPath); return; }
        AtomicFile.Commit(pf.Stream, pf.TempPath, pf.FinalPath);
        FilesCommitted++;
        _committed.Add(pf.FinalPath);
        FileCommitted?.Invoke(pf.FinalPath, pf.RowsInFile);
    }

    private sealed class PartitionFile(string finalPath, string tempPath, FileStream stream, ParquetWriter writer, ArchiveRowBuffer buffer)
    {
        public string FinalPath { get; } = finalPath;
        public string TempPath { get; } = tempPath;
        public FileStream Stream { get; } = stream;
        public ParquetWriter Writer { get; } = writer;
        public ArchiveRowBuffer Buffer { get; } = buffer;
        public long RowsInFile { get; set; }
        public DateTimeOffset OpenedAt { get; init; }
    }
}
