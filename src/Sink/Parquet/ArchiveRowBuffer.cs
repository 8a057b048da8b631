using Alerts.Core;
using Parquet;

namespace Alerts.Sink.Parquet;

/// <summary>
/// Column buffers for one row group of the archive. Reused after <see cref="Clear"/>: arrays only grow, so a
/// writer in steady state allocates nothing per row except what Parquet.Net allocates while encoding.
/// </summary>
public sealed class ArchiveRowBuffer
{
    private long[] _alertId;
    private string[] _objectId;
    private double[] _mjd, _ra, _dec;
    private string?[] _label;
    private float?[] _labelP;
    private readonly float?[][] _p = new float?[T2Classes.Count][];
    private float?[] _pIa;
    private string[] _modelId;
    private int[] _points;
    private string[] _bands;
    private string?[] _reason;
    private string[] _origin;
    private int?[] _partition;
    private long[] _offset;
    private DateTime[] _ingested, _classified, _written;
    private DateTime?[] _sourceTs;
    private double[] _latency;

    public ArchiveRowBuffer(int capacity = 1024)
    {
        capacity = Math.Max(capacity, 16);
        _alertId = new long[capacity]; _objectId = new string[capacity];
        _mjd = new double[capacity]; _ra = new double[capacity]; _dec = new double[capacity];
        _label = new string?[capacity]; _labelP = new float?[capacity];
        for (int k = 0; k < _p.Length; k++) _p[k] = new float?[capacity];
        _pIa = new float?[capacity];
        _modelId = new string[capacity]; _points = new int[capacity]; _bands = new string[capacity]; _reason = new string?[capacity];
        _origin = new string[capacity]; _partition = new int?[capacity]; _offset = new long[capacity];
        _ingested = new DateTime[capacity]; _classified = new DateTime[capacity]; _written = new DateTime[capacity];
        _sourceTs = new DateTime?[capacity]; _latency = new double[capacity];
    }

    public int Count { get; private set; }

    /// <summary>When the first row of the current buffer was added (for row groups by time).</summary>
    public DateTimeOffset FirstRowAt { get; private set; }

    public long AlertIdAt(int i) => _alertId[i];

    public void Clear() => Count = 0;

    public void Add(Classification c, DateTimeOffset now)
    {
        if (Count == _alertId.Length) Grow(Count * 2);
        if (Count == 0) FirstRowAt = now;
        int i = Count++;
        var id = c.Identity;
        _alertId[i] = id.AlertId; _objectId[i] = id.ObjectId; _mjd[i] = id.Mjd; _ra[i] = id.Ra; _dec[i] = id.Dec;
        bool classified = c.IsClassified && c.Probabilities.Length > 0;
        _label[i] = c.Label;
        _labelP[i] = c.Label is null ? null : c.LabelProbability;
        for (int k = 0; k < _p.Length; k++)
            _p[k][i] = classified && k < c.Probabilities.Length ? c.Probabilities[k] : null;
        _pIa[i] = c.SNIaFamilyProbability;
        _modelId[i] = c.ModelId; _points[i] = c.PointCount; _bands[i] = c.Bands; _reason[i] = c.Reason;
        _origin[i] = c.Source.Origin ?? "";
        _partition[i] = c.Source.IsKafka ? c.Source.Partition : null;
        _offset[i] = c.Source.Offset;
        _ingested[i] = c.IngestedAt.UtcDateTime; _classified[i] = c.ClassifiedAt.UtcDateTime;
        _sourceTs[i] = c.SourceTimestamp?.UtcDateTime;
    }

    /// <summary>Copies row <paramref name="i"/> of another buffer (compaction keeps written_at and latency as they were).</summary>
    public void AddFrom(ArchiveRowBuffer o, int i)
    {
        if (Count == _alertId.Length) Grow(Count * 2);
        int j = Count++;
        _alertId[j] = o._alertId[i]; _objectId[j] = o._objectId[i]; _mjd[j] = o._mjd[i]; _ra[j] = o._ra[i]; _dec[j] = o._dec[i];
        _label[j] = o._label[i]; _labelP[j] = o._labelP[i];
        for (int k = 0; k < _p.Length; k++) _p[k][j] = o._p[k][i];
        _pIa[j] = o._pIa[i];
        _modelId[j] = o._modelId[i]; _points[j] = o._points[i]; _bands[j] = o._bands[i]; _reason[j] = o._reason[i];
        _origin[j] = o._origin[i]; _partition[j] = o._partition[i]; _offset[j] = o._offset[i];
        _ingested[j] = o._ingested[i]; _classified[j] = o._classified[i]; _written[j] = o._written[i];
        _sourceTs[j] = o._sourceTs[i]; _latency[j] = o._latency[i];
    }

    /// <summary>Stamps written_at and latency on every row not yet stamped (rows added with <see cref="Add"/>).</summary>
    public void StampWritten(DateTimeOffset writtenAt)
    {
        var w = writtenAt.UtcDateTime;
        for (int i = 0; i < Count; i++)
        {
            _written[i] = w;
            var from = _sourceTs[i] ?? _ingested[i];
            _latency[i] = (w - from).TotalMilliseconds;
        }
    }

    public async Task WriteRowGroupAsync(ParquetWriter writer, CancellationToken ct)
    {
        int n = Count;
        using var rg = writer.CreateRowGroup();
        await rg.WriteAsync(ArchiveSchema.AlertId, (ReadOnlyMemory<long>)_alertId.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.ObjectId, new ArraySegment<string>(_objectId, 0, n), null);
        await rg.WriteAsync(ArchiveSchema.Mjd, (ReadOnlyMemory<double>)_mjd.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.Ra, (ReadOnlyMemory<double>)_ra.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.Dec, (ReadOnlyMemory<double>)_dec.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.Label, new ArraySegment<string>(_label!, 0, n), null);
        await rg.WriteAsync<float>(ArchiveSchema.LabelProbability, Nullable(_labelP, n), null, null, ct);
        for (int k = 0; k < _p.Length; k++)
            await rg.WriteAsync<float>(ArchiveSchema.ClassProbabilities[k], Nullable(_p[k], n), null, null, ct);
        await rg.WriteAsync<float>(ArchiveSchema.SNIaFamilyProbability, Nullable(_pIa, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.ModelId, new ArraySegment<string>(_modelId, 0, n), null);
        await rg.WriteAsync(ArchiveSchema.PointCount, (ReadOnlyMemory<int>)_points.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.Bands, new ArraySegment<string>(_bands, 0, n), null);
        await rg.WriteAsync(ArchiveSchema.Reason, new ArraySegment<string>(_reason!, 0, n), null);
        await rg.WriteAsync(ArchiveSchema.SourceOrigin, new ArraySegment<string>(_origin, 0, n), null);
        await rg.WriteAsync<int>(ArchiveSchema.SourcePartition, Nullable(_partition, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.SourceOffset, (ReadOnlyMemory<long>)_offset.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.IngestedAt, (ReadOnlyMemory<DateTime>)_ingested.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.ClassifiedAt, (ReadOnlyMemory<DateTime>)_classified.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.WrittenAt, (ReadOnlyMemory<DateTime>)_written.AsMemory(0, n), null, null, ct);
        await rg.WriteAsync<DateTime>(ArchiveSchema.SourceTimestamp, Nullable(_sourceTs, n), null, null, ct);
        await rg.WriteAsync(ArchiveSchema.LatencyMs, (ReadOnlyMemory<double>)_latency.AsMemory(0, n), null, null, ct);
        rg.CompleteValidate();
    }

    /// <summary>
    /// Replaces the buffer's content with one row group read from an archive file. An archive-v1 file has no
    /// p_SNIa_family column: it is computed from the class columns (null where they are).
    /// </summary>
    public async Task ReadRowGroupAsync(ParquetReader reader, int rowGroup, CancellationToken ct)
    {
        using var rg = reader.OpenRowGroupReader(rowGroup);
        int n = checked((int)rg.RowCount);
        if (n > _alertId.Length) Grow(n);
        Count = n;
        await rg.ReadAsync(ArchiveSchema.AlertId, _alertId.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.ObjectId, _objectId.AsMemory(0, n)!, null, ct);
        await rg.ReadAsync(ArchiveSchema.Mjd, _mjd.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.Ra, _ra.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.Dec, _dec.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.Label, _label.AsMemory(0, n)!, null, ct);
        await rg.ReadAsync(ArchiveSchema.LabelProbability, _labelP.AsMemory(0, n), null, ct);
        for (int k = 0; k < _p.Length; k++)
            await rg.ReadAsync(ArchiveSchema.ClassProbabilities[k], _p[k].AsMemory(0, n), null, ct);
        if (rg.ColumnExists(ArchiveSchema.SNIaFamilyProbability))
            await rg.ReadAsync(ArchiveSchema.SNIaFamilyProbability, _pIa.AsMemory(0, n), null, ct);
        else
            for (int i = 0; i < n; i++) _pIa[i] = SumOfMembers(i, ClassFamilies.SNIaFamily);
        await rg.ReadAsync(ArchiveSchema.ModelId, _modelId.AsMemory(0, n)!, null, ct);
        await rg.ReadAsync(ArchiveSchema.PointCount, _points.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.Bands, _bands.AsMemory(0, n)!, null, ct);
        await rg.ReadAsync(ArchiveSchema.Reason, _reason.AsMemory(0, n)!, null, ct);
        await rg.ReadAsync(ArchiveSchema.SourceOrigin, _origin.AsMemory(0, n)!, null, ct);
        await rg.ReadAsync(ArchiveSchema.SourcePartition, _partition.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.SourceOffset, _offset.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.IngestedAt, _ingested.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.ClassifiedAt, _classified.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.WrittenAt, _written.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.SourceTimestamp, _sourceTs.AsMemory(0, n), null, ct);
        await rg.ReadAsync(ArchiveSchema.LatencyMs, _latency.AsMemory(0, n), null, ct);
    }

    /// <summary>Reads only the alert_id column of every row group (to seed dedup after a restart).</summary>
    public static async Task ReadAlertIdsAsync(Stream file, ICollection<long> into, CancellationToken ct)
    {
        await using var reader = await ParquetReader.CreateAsync(file, null, leaveStreamOpen: true, ct);
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            var ids = new long[rg.RowCount];
            await rg.ReadAsync(ArchiveSchema.AlertId, ids.AsMemory(), null, ct);
            foreach (var id in ids) into.Add(id);
        }
    }

    private float? SumOfMembers(int row, ClassFamily family)
    {
        double s = 0;
        foreach (var k in family.Members)
        {
            if (_p[k][row] is not { } v) return null;
            s += v;
        }
        return (float)s;
    }

    private static ReadOnlyMemory<T?> Nullable<T>(T?[] a, int n) where T : struct => new(a, 0, n);

    private void Grow(int n)
    {
        Array.Resize(ref _alertId, n); Array.Resize(ref _objectId, n);
        Array.Resize(ref _mjd, n); Array.Resize(ref _ra, n); Array.Resize(ref _dec, n);
        Array.Resize(ref _label, n); Array.Resize(ref _labelP, n);
        for (int k = 0; k < _p.Length; k++) Array.Resize(ref _p[k], n);
        Array.Resize(ref _pIa, n);
        Array.Resize(ref _modelId, n); Array.Resize(ref _points, n); Array.Resize(ref _bands, n); Array.Resize(ref _reason, n);
        Array.Resize(ref _origin, n); Array.Resize(ref _partition, n); Array.Resize(ref _offset, n);
        Array.Resize(ref _ingested, n); Array.Resize(ref _classified, n); Array.Resize(ref _written, n);
        Array.Resize(ref _sourceTs, n); Array.Resize(ref _latency, n);
    }
}
