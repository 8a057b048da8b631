using Alerts.Avro;
using System.Formats.Tar;
using System.IO.Compression;
using Alerts.Core;
using Alerts.Tables;
using Alerts.Simulator.Alerts;
using Alerts.Simulator.Avro;
using Alerts.Simulator.Physics;

namespace Alerts.Simulator;

public enum AlertFormat { Container, Wire, Tarball, None }

/// <summary>What to simulate. Defaults: ZTF, 1,000 objects, seed 42, survey-like class mix, one year from 2026-01-01.</summary>
public sealed record SimulationOptions
{
    public Survey Survey { get; init; } = Survey.Ztf;
    public int Objects { get; init; } = 1000;
    public ulong Seed { get; init; } = 42;
    public AlertFormat Format { get; init; } = AlertFormat.Container;
    /// <summary>Rubin schema version: "9.0" or "11.0" (ZTF is always 4.02).</summary>
    public string SchemaVersion { get; init; } = "11.0";
    /// <summary>True: classes cycle so every class has the same number of objects. False: survey-like rates.</summary>
    public bool Balanced { get; init; }
    /// <summary>Only these classes (T2 names); null = all 14.</summary>
    public IReadOnlyList<string>? Classes { get; init; }
    public double StartMjd { get; init; } = 61041.0; // 2026-01-01
    public double SpanDays { get; init; } = 365;
    /// <summary>An object is kept only if it has at least this many detections (an alert stream only contains objects
    /// that were detected); otherwise it is redrawn from the next random stream (up to 400 tries). 0 keeps every draw.</summary>
    public int MinDetections { get; init; } = 1;
    /// <summary>Extragalactic redshifts are drawn up to where the brightest class member (M − 3σ) peaks at this
    /// magnitude; null = survey depth + 1 mag. The BTS comparison sets 18.5 (its selection limit) to save time.</summary>
    public double? RedshiftLimitMag { get; init; }

    /// <summary>
    /// A stream as the survey sends it: ZTF as Avro containers, Rubin as Confluent wire messages of schema 11.0, over
    /// <paramref name="spanDays"/> from the default start (the replay, bench and demo streams).
    /// </summary>
    public static SimulationOptions SurveyStream(Survey survey, int objects, ulong seed, double spanDays = 60) => new()
    {
        Survey = survey,
        Objects = objects,
        Seed = seed,
        Format = survey == Survey.Ztf ? AlertFormat.Container : AlertFormat.Wire,
        SchemaVersion = "11.0",
        SpanDays = spanDays,
    };
}

/// <summary>One alert as a survey would send it, with the truth attached.</summary>
public readonly record struct SimulatedAlert(long AlertId, string ObjectId, string ClassName, double Mjd, byte[] Bytes, SimulatedObject Object);

/// <summary>Totals of a simulation run.</summary>
public sealed record SimulationSummary(Dictionary<string, int> ObjectsPerClass, Dictionary<string, long> AlertsPerClass, long Alerts, long AlertBytes, long LightCurveRows, TimeSpan Elapsed);

/// <summary>
/// The labelled light-curve simulator: class models (physics) × survey model (cadence, depth, noise) → objects →
/// alerts encoded with our own Avro writer. Library entry points: <see cref="Objects"/>, <see cref="Generate"/>
/// (stream of alert bytes with labels, for in-process replay) and <see cref="WriteAsync"/> (a folder with alerts,
/// labels and light-curve tables, as `alerts simulate` writes it).
/// </summary>
public sealed class AlertSimulator
{
    private readonly SimulationOptions _o;
    private readonly ObjectSimulator _objects;
    private readonly string[] _classes;
    private readonly double[] _cumWeights;

    public AlertSimulator(SimulationOptions options)
    {
        _o = options;
        if (options.Objects < 0) throw new ArgumentOutOfRangeException(nameof(options), "Objects must be ≥ 0.");
        if (options.Survey == Survey.Lsst && options.SchemaVersion is not ("9.0" or "11.0"))
            throw new ArgumentException($"--schema-version {options.SchemaVersion} is not supported for Rubin; use 9.0 or 11.0.");
        _classes = (options.Classes ?? T2Classes.Names).ToArray();
        foreach (var c in _classes)
            if (T2Classes.IndexOf(c) < 0) throw new ArgumentException($"Unknown class '{c}'; expected one of {string.Join(", ", T2Classes.Names)}.");
        _objects = new ObjectSimulator(options.Survey, options.Seed, options.StartMjd, options.SpanDays, options.RedshiftLimitMag);
        _cumWeights = new double[_classes.Length];
        double s = 0;
        for (int i = 0; i < _classes.Length; i++) { s += ClassCatalog.NaturalWeight(_classes[i]); _cumWeights[i] = s; }
        for (int i = 0; i < _classes.Length; i++) _cumWeights[i] /= s;
    }

    public SimulationOptions Options => _o;

    /// <summary>The class of object <paramref name="index"/>: cycling when balanced, else drawn from survey-like rates.</summary>
    public string ClassOf(long index)
    {
        if (_o.Balanced) return _classes[index % _classes.Length];
        double u = Rng.ForObject(_o.Seed, index, stream: 7).NextDouble();
        for (int i = 0; i < _cumWeights.Length; i++) if (u < _cumWeights[i]) return _classes[i];
        return _classes[^1];
    }

    public SimulatedObject SimulateObject(long index)
    {
        var cls = ClassOf(index);
        SimulatedObject obj = _objects.Simulate(index, cls, 0);
        for (int attempt = 1; attempt < 400 && _o.MinDetections > 0 && obj.DetectionCount < _o.MinDetections; attempt++)
            obj = _objects.Simulate(index, cls, attempt);
        return obj;
    }

    /// <summary>Every simulated object, in index order (deterministic for a seed).</summary>
    public IEnumerable<SimulatedObject> Objects()
    {
        for (long i = 0; i < _o.Objects; i++) yield return SimulateObject(i);
    }

    /// <summary>Streams every alert (one per detection) with its label; Bytes is an OCF file (ZTF; Rubin container) or a
    /// Confluent wire message (Rubin, Format = Wire). Objects in index order, alerts of an object in time order.</summary>
    public IEnumerable<SimulatedAlert> Generate()
    {
        using var enc = new AlertWriter(_o);
        foreach (var obj in Objects())
            for (int i = 0; i < obj.Observations.Length; i++)
            {
                if (!obj.Observations[i].Detected) continue;
                enc.Write(obj, i);
                yield return new SimulatedAlert(obj.AlertId(i), obj.ObjectId, obj.ClassName, obj.Observations[i].Mjd, enc.Buffer.ToArray(), obj);
            }
    }

    /// <summary>
    /// Writes a folder: alerts (per <see cref="SimulationOptions.Format"/>), labels.csv/.parquet and
    /// lightcurves.csv/.parquet. <paramref name="progress"/> gets the number of objects done.
    /// </summary>
    public async Task<SimulationSummary> WriteAsync(string outDir, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Directory.CreateDirectory(outDir);
        var alertsDir = Path.Combine(outDir, "alerts");
        if (_o.Format is AlertFormat.Container or AlertFormat.Wire) Directory.CreateDirectory(alertsDir);
        var perClass = new Dictionary<string, int>(StringComparer.Ordinal);
        var alertsPerClass = new Dictionary<string, long>(StringComparer.Ordinal);
        long alerts = 0, bytes = 0;
        using var enc = _o.Format == AlertFormat.None ? null : new AlertWriter(_o);
        var tarballs = new TarballSet(outDir);
        long rows;
        await using (var lcw = new LightCurveTableWriter(Path.Combine(outDir, "lightcurves.csv"), Path.Combine(outDir, "lightcurves.parquet")))
        await using (var labels = new LabelTableWriter(Path.Combine(outDir, "labels.csv"), Path.Combine(outDir, "labels.parquet"),
            [.. SourceModel.LabelColumns, "ra", "dec", "n_points", "n_detections"]))
        {
            for (long idx = 0; idx < _o.Objects; idx++)
            {
                ct.ThrowIfCancellationRequested();
                var obj = SimulateObject(idx);
                perClass[obj.ClassName] = perClass.GetValueOrDefault(obj.ClassName) + 1;
                int nDet = 0;
                for (int k = 0; k < obj.Observations.Length; k++)
                {
                    var o = obj.Observations[k];
                    await lcw.WriteAsync(new LightCurveRow(obj.ObjectId, o.Mjd, o.Band, o.Flux, o.FluxErr,
                        o.Detected ? o.Mag : double.NaN, o.Detected ? o.MagErr : double.NaN, o.Detected));
                    if (o.Detected) nDet++;
                }
                var p = new Dictionary<string, double>(obj.Source.Parameters)
                {
                    ["ra"] = obj.Ra, ["dec"] = obj.Dec, ["n_points"] = obj.Observations.Length, ["n_detections"] = nDet,
                };
                labels.Write(new LabelRow(obj.ObjectId, obj.ClassName, _o.Survey.Name(), obj.Redshift, p));
                if (enc is not null)
                {
                    for (int i = 0; i < obj.Observations.Length; i++)
                    {
                        if (!obj.Observations[i].Detected) continue;
                        enc.Write(obj, i);
                        long id = obj.AlertId(i);
                        switch (_o.Format)
                        {
                            case AlertFormat.Container:
                                await File.WriteAllBytesAsync(Path.Combine(alertsDir, id + ".avro"), enc.Buffer.WrittenMemory, ct);
                                break;
                            case AlertFormat.Wire:
                                await File.WriteAllBytesAsync(Path.Combine(alertsDir, id + ".wire"), enc.Buffer.WrittenMemory, ct);
                                break;
                            case AlertFormat.Tarball:
                                tarballs.Add(obj.Observations[i].Mjd, id, enc.Buffer.WrittenMemory);
                                break;
                        }
                        alerts++; bytes += enc.Buffer.Length;
                        alertsPerClass[obj.ClassName] = alertsPerClass.GetValueOrDefault(obj.ClassName) + 1;
                    }
                }
                progress?.Report((int)(idx + 1));
            }
            rows = lcw.RowCount;
        }
        tarballs.Dispose();
        return new SimulationSummary(perClass, alertsPerClass, alerts, bytes, rows, sw.Elapsed);
    }
}

/// <summary>
/// Encodes alerts of one run into a reusable buffer: ZTF 4.02 OCF, Rubin OCF or Rubin Confluent wire
/// (0x00, big-endian schema id, datum). Not thread-safe: one per thread.
/// </summary>
public sealed class AlertWriter : IDisposable
{
    public AvroBinaryWriter Buffer { get; } = new(256 * 1024);
    private readonly ZtfAlertEncoder? _ztf;
    private readonly LsstAlertEncoder? _lsst;
    private readonly SingleRecordContainerWriter? _ocf;
    private readonly bool _wire;

    public AlertWriter(SimulationOptions o)
    {
        var stamps = new StampPool(o.Seed, gzip: o.Survey == Survey.Ztf);
        var sync = ContainerSyncFromSeed(o.Seed);
        if (o.Survey == Survey.Ztf)
        {
            if (o.Format == AlertFormat.Wire) throw new ArgumentException("ZTF alerts are distributed as Avro container files; use --format container or tarball for ZTF.");
            _ztf = new ZtfAlertEncoder(stamps);
            _ocf = new SingleRecordContainerWriter(_ztf.Schemas.FullSchemaJson, sync);
        }
        else
        {
            if (o.Format == AlertFormat.Tarball) throw new ArgumentException("Rubin alerts are written as --format container or wire; tarball is the ZTF nightly archive format.");
            _lsst = new LsstAlertEncoder(o.SchemaVersion, stamps);
            _wire = o.Format == AlertFormat.Wire;
            if (!_wire) _ocf = new SingleRecordContainerWriter(_lsst.Schemas.FullSchemaJson, sync);
        }
    }

    public int SchemaId => _lsst?.SchemaId ?? 0;

    /// <summary>The run's container sync marker, derived from its seed so a rerun writes the same bytes.</summary>
    private static byte[] ContainerSyncFromSeed(ulong seed)
    {
        var r = new Rng(seed ^ 0x53594E43UL);
        var s = new byte[16];
        BitConverter.TryWriteBytes(s.AsSpan(0, 8), r.NextULong());
        BitConverter.TryWriteBytes(s.AsSpan(8, 8), r.NextULong());
        return s;
    }

    /// <summary>Encodes the alert of observation <paramref name="i"/> into <see cref="Buffer"/> (replacing its content).</summary>
    public void Write(SimulatedObject obj, int i)
    {
        Buffer.Reset();
        if (_wire)
        {
            Buffer.WriteByte(0);
            Buffer.WriteInt32BigEndian(_lsst!.SchemaId);
            _lsst.WriteDatum(Buffer, obj, i);
            return;
        }
        int start = _ocf!.Begin(Buffer);
        if (_ztf is not null) _ztf.WriteDatum(Buffer, obj, i); else _lsst!.WriteDatum(Buffer, obj, i);
        _ocf.End(Buffer, start);
    }

    public void Dispose() => Buffer.Dispose();
}

/// <summary>ZTF nightly archives: one ztf_public_YYYYMMDD.tar.gz per night, members &lt;candid&gt;.avro, entry mtime = alert time.</summary>
internal sealed class TarballSet : IDisposable
{
    private readonly string _dir;
    private readonly SortedDictionary<string, (FileStream File, GZipStream Gzip, TarWriter Tar)> _open = new(StringComparer.Ordinal);

    public TarballSet(string dir) => _dir = dir;

    public void Add(double mjd, long candid, ReadOnlyMemory<byte> bytes)
    {
        var night = AlertIdentity.NightOf(mjd);
        if (!_open.TryGetValue(night, out var t))
        {
            var fs = File.Create(Path.Combine(_dir, $"ztf_public_{night}.tar.gz"));
            var gz = new GZipStream(fs, CompressionLevel.Fastest, leaveOpen: true);
            t = (fs, gz, new TarWriter(gz, TarEntryFormat.Ustar, leaveOpen: true));
            _open[night] = t;
        }
        var entry = new UstarTarEntry(TarEntryType.RegularFile, candid + ".avro")
        {
            ModificationTime = new DateTimeOffset(new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc).AddDays(mjd)),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            DataStream = new MemoryStream(bytes.ToArray(), writable: false),
        };
        t.Tar.WriteEntry(entry);
    }

    public void Dispose()
    {
        foreach (var (_, t) in _open) { t.Tar.Dispose(); t.Gzip.Dispose(); t.File.Dispose(); }
        _open.Clear();
    }
}
