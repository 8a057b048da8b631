using System.Globalization;
using System.Text;
using Alerts.Core;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace Alerts.Ingest.Tables;

/// <summary>One row of the light-curve table (see docs in /work/briefs/tables.md and src/Simulator/README.md).</summary>
public readonly record struct LightCurveRow(string ObjectId, double Mjd, Band Band, double Flux, double FluxErr, double Mag, double MagErr, bool Detected);

/// <summary>
/// Writes the shared light-curve table: columns object_id, mjd, band, flux, flux_err (nJy), mag, mag_err (AB, NaN
/// when not detected), detected. CSV uses '1'/'0' for detected and an empty field for NaN; Parquet writes the same
/// columns (doubles with NaN, bool). Rows are buffered per Parquet row group (64k rows) so memory stays bounded.
/// </summary>
public sealed class LightCurveTableWriter : IAsyncDisposable
{
    public static readonly string[] Columns = ["object_id", "mjd", "band", "flux", "flux_err", "mag", "mag_err", "detected"];
    private const int RowGroupSize = 65536;

    private readonly StreamWriter? _csv;
    private readonly Stream? _parquetStream;
    private ParquetWriter? _parquet;
    private readonly ParquetSchema _schema;
    private readonly List<LightCurveRow> _pending = new(RowGroupSize);
    public long RowCount { get; private set; }

    /// <param name="csvPath">CSV output, or null to skip.</param>
    /// <param name="parquetPath">Parquet output, or null to skip.</param>
    public LightCurveTableWriter(string? csvPath, string? parquetPath)
    {
        _schema = new ParquetSchema(
            new DataField<string>("object_id"), new DataField<double>("mjd"), new DataField<string>("band"),
            new DataField<double>("flux"), new DataField<double>("flux_err"), new DataField<double>("mag"),
            new DataField<double>("mag_err"), new DataField<bool>("detected"));
        if (csvPath is not null)
        {
            _csv = new StreamWriter(csvPath, false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
            _csv.WriteLine(string.Join(',', Columns));
        }
        if (parquetPath is not null) _parquetStream = File.Create(parquetPath);
    }

    public async ValueTask WriteAsync(LightCurveRow row)
    {
        RowCount++;
        if (_csv is not null) WriteCsv(_csv, row);
        if (_parquetStream is null) return;
        _pending.Add(row);
        if (_pending.Count >= RowGroupSize) await FlushRowGroupAsync();
    }

    /// <summary>Writes every point of a light curve (detections are points whose kind is Detection).</summary>
    public async ValueTask WriteAsync(string objectId, LightCurve lc)
    {
        for (int i = 0; i < lc.Count; i++)
        {
            double f = lc.Flux[i], e = lc.FluxErr[i];
            bool det = lc.Kind[i] == PointKind.Detection;
            double mag = det && f != 0 ? Photometry.FluxToMag(Math.Abs(f)) : double.NaN;
            double magErr = det && f != 0 ? 2.5 / Math.Log(10) * e / Math.Abs(f) : double.NaN;
            await WriteAsync(new LightCurveRow(objectId, lc.Mjd[i], lc.Band[i], f, e, mag, magErr, det));
        }
    }

    private static void WriteCsv(StreamWriter w, in LightCurveRow r)
    {
        Span<char> buf = stackalloc char[32];
        w.Write(r.ObjectId); w.Write(',');
        WriteNum(w, r.Mjd, buf); w.Write(',');
        w.Write(r.Band.Name()); w.Write(',');
        WriteNum(w, r.Flux, buf); w.Write(',');
        WriteNum(w, r.FluxErr, buf); w.Write(',');
        WriteNum(w, r.Mag, buf); w.Write(',');
        WriteNum(w, r.MagErr, buf); w.Write(',');
        w.Write(r.Detected ? '1' : '0');
        w.Write('\n');
    }

    internal static void WriteNum(TextWriter w, double x, Span<char> buf)
    {
        if (double.IsNaN(x)) return;
        // "R" round-trips doubles exactly, so CSV and Parquet hold identical values.
        if (x.TryFormat(buf, out int n, "R", CultureInfo.InvariantCulture)) w.Write(buf[..n]);
        else w.Write(x.ToString("R", CultureInfo.InvariantCulture));
    }

    private async ValueTask FlushRowGroupAsync()
    {
        if (_pending.Count == 0 || _parquetStream is null) return;
        _parquet ??= await ParquetWriter.CreateAsync(_schema, _parquetStream, ParquetTables.Options);
        int n = _pending.Count;
        var id = new string[n]; var mjd = new double[n]; var band = new string[n]; var flux = new double[n];
        var err = new double[n]; var mag = new double[n]; var magErr = new double[n]; var det = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var r = _pending[i];
            id[i] = r.ObjectId; mjd[i] = r.Mjd; band[i] = r.Band.Name(); flux[i] = r.Flux; err[i] = r.FluxErr;
            mag[i] = r.Mag; magErr[i] = r.MagErr; det[i] = r.Detected;
        }
        using (var rg = _parquet.CreateRowGroup())
        {
            var f = _schema.DataFields;
            await ParquetTables.WriteAsync(rg, f[0], id);
            await ParquetTables.WriteAsync(rg, f[1], mjd);
            await ParquetTables.WriteAsync(rg, f[2], band);
            await ParquetTables.WriteAsync(rg, f[3], flux);
            await ParquetTables.WriteAsync(rg, f[4], err);
            await ParquetTables.WriteAsync(rg, f[5], mag);
            await ParquetTables.WriteAsync(rg, f[6], magErr);
            await ParquetTables.WriteAsync(rg, f[7], det);
        }
        _pending.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        if (_csv is not null) await _csv.DisposeAsync();
        if (_parquetStream is not null)
        {
            await FlushRowGroupAsync();
            _parquet ??= await ParquetWriter.CreateAsync(_schema, _parquetStream, ParquetTables.Options);
            await _parquet.DisposeAsync();
            await _parquetStream.DisposeAsync();
        }
    }
}

/// <summary>
/// Reads a light-curve table (CSV or Parquet, chosen by extension) and yields one light curve per object, in
/// the order objects first appear. Accepts the full column set, or only mag/mag_err (flux derived with
/// <see cref="Photometry.MagToFlux"/>, every row detected), or only flux/flux_err (detected when |flux| ≥ 5σ
/// unless a detected column exists). Band names: Core <see cref="Bands.Name"/> or short letters with a survey hint.
/// Also reads the BTS/ANTARES layout (ant_mjd, ant_passband, ant_mag, ant_magerr) with an object id from the file name.
/// Rows with detected=1 become <see cref="PointKind.Detection"/>; detected=0 rows become <see cref="PointKind.ForcedPhotometry"/>
/// (flux is the measured forced flux), or <see cref="PointKind.NonDetection"/> when the flux is missing.
/// </summary>
public static class LightCurveTableReader
{
    public static IEnumerable<(string ObjectId, LightCurve LightCurve)> Read(string path, Survey surveyHint = Survey.Ztf)
    {
        var rows = path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? ReadParquetRows(path, surveyHint) : ReadCsvRows(path, surveyHint);
        return Group(rows);
    }

    private static IEnumerable<(string, LightCurve)> Group(IEnumerable<(string Id, double Mjd, Band Band, double Flux, double Err, bool Det, bool HasFlux)> rows)
    {
        var order = new List<string>();
        var map = new Dictionary<string, LightCurve>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            if (!map.TryGetValue(r.Id, out var lc)) { lc = new LightCurve(16); map[r.Id] = lc; order.Add(r.Id); }
            var kind = r.Det ? PointKind.Detection : r.HasFlux ? PointKind.ForcedPhotometry : PointKind.NonDetection;
            lc.Add(r.Mjd, r.Band, (float)r.Flux, (float)r.Err, kind);
        }
        foreach (var id in order) yield return (id, map[id]);
    }

    private static double ParseD(string s) =>
        string.IsNullOrWhiteSpace(s) || s.Equals("nan", StringComparison.OrdinalIgnoreCase) ? double.NaN : double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static bool ParseBool(string s) => s.Trim() switch
    {
        "1" or "true" or "True" or "TRUE" or "t" => true,
        "0" or "false" or "False" or "FALSE" or "f" or "" => false,
        var x => double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d != 0 :
            throw new FormatException($"detected value '{x}' is not 1/0/true/false"),
    };

    private static IEnumerable<(string, double, Band, double, double, bool, bool)> ReadCsvRows(string path, Survey survey)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{path}: empty file; expected a header with object_id,mjd,band,flux,flux_err,mag,mag_err,detected.");
        var cols = header.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
        int Col(params string[] names) { foreach (var n in names) { int i = Array.FindIndex(cols, c => c.Equals(n, StringComparison.OrdinalIgnoreCase)); if (i >= 0) return i; } return -1; }
        int cId = Col("object_id", "objectId", "ZTFID"), cMjd = Col("mjd", "ant_mjd"), cBand = Col("band", "ant_passband", "passband", "filter");
        int cFlux = Col("flux"), cErr = Col("flux_err"), cMag = Col("mag", "ant_mag", "magpsf"), cMagErr = Col("mag_err", "ant_magerr", "sigmapsf"), cDet = Col("detected");
        string fileId = Path.GetFileNameWithoutExtension(path);
        if (cMjd < 0) throw new InvalidDataException($"{path}: no 'mjd' column in header '{header}'; the light-curve table needs object_id,mjd,band and flux/flux_err or mag/mag_err.");
        if (cBand < 0) throw new InvalidDataException($"{path}: no 'band' column in header '{header}'.");
        if (cFlux < 0 && cMag < 0) throw new InvalidDataException($"{path}: neither 'flux' nor 'mag' column in header '{header}'.");
        string? line; int lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var p = line.Split(',');
            string id = cId >= 0 ? p[cId] : fileId;
            double mjd = ParseD(p[cMjd]);
            var band = Bands.Parse(p[cBand], survey);
            if (band == Band.Unknown) throw new InvalidDataException($"{path}:{lineNo}: band '{p[cBand]}' is unknown; use ztfg/ztfr/ztfi/lsstu..lssty or g/r/i with --survey.");
            double flux = cFlux >= 0 ? ParseD(p[cFlux]) : double.NaN, err = cErr >= 0 ? ParseD(p[cErr]) : double.NaN;
            double mag = cMag >= 0 ? ParseD(p[cMag]) : double.NaN, magErr = cMagErr >= 0 ? ParseD(p[cMagErr]) : double.NaN;
            yield return Row(id, mjd, band, flux, err, mag, magErr, cDet >= 0 ? ParseBool(p[cDet]) : null);
        }
    }

    private static (string, double, Band, double, double, bool, bool) Row(string id, double mjd, Band band, double flux, double err, double mag, double magErr, bool? det)
    {
        bool hasFlux = !double.IsNaN(flux);
        if (!hasFlux && !double.IsNaN(mag))
        {
            flux = Photometry.MagToFlux(mag);
            err = double.IsNaN(magErr) ? double.NaN : Photometry.MagErrToFluxErr(flux, magErr);
            return (id, mjd, band, flux, err, det ?? true, true);
        }
        bool detected = det ?? (hasFlux && !double.IsNaN(err) && Math.Abs(flux) >= 5 * err);
        return (id, mjd, band, hasFlux ? flux : 0, err, detected, hasFlux);
    }

    private static IEnumerable<(string, double, Band, double, double, bool, bool)> ReadParquetRows(string path, Survey survey)
    {
        var rows = new List<(string, double, Band, double, double, bool, bool)>();
        ReadParquet(path, survey, rows).GetAwaiter().GetResult();
        return rows;
    }

    private static async Task ReadParquet(string path, Survey survey, List<(string, double, Band, double, double, bool, bool)> rows)
    {
        await using var stream = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(stream);
        var fields = reader.Schema.DataFields;
        DataField? F(string name) => fields.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        var fId = F("object_id") ?? throw new InvalidDataException($"{path}: no object_id column; the light-curve table needs object_id,mjd,band,...");
        var fMjd = F("mjd") ?? throw new InvalidDataException($"{path}: no mjd column.");
        var fBand = F("band") ?? throw new InvalidDataException($"{path}: no band column.");
        DataField? fFlux = F("flux"), fErr = F("flux_err"), fMag = F("mag"), fMagErr = F("mag_err"), fDet = F("detected");
        if (fFlux is null && fMag is null) throw new InvalidDataException($"{path}: neither flux nor mag column.");
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            int n = checked((int)rg.RowCount);
            var id = await ParquetTables.ReadStringsAsync(rg, fId, n);
            var band = await ParquetTables.ReadStringsAsync(rg, fBand, n);
            var mjd = await ParquetTables.ReadDoublesAsync(rg, fMjd, n);
            double[]? flux = fFlux is null ? null : await ParquetTables.ReadDoublesAsync(rg, fFlux, n);
            double[]? err = fErr is null ? null : await ParquetTables.ReadDoublesAsync(rg, fErr, n);
            double[]? mag = fMag is null ? null : await ParquetTables.ReadDoublesAsync(rg, fMag, n);
            double[]? magErr = fMagErr is null ? null : await ParquetTables.ReadDoublesAsync(rg, fMagErr, n);
            bool?[]? det = fDet is null ? null : await ParquetTables.ReadBoolsAsync(rg, fDet, n);
            for (int i = 0; i < n; i++)
            {
                var b = Bands.Parse(band[i] ?? "", survey);
                if (b == Band.Unknown) throw new InvalidDataException($"{path}: row {i} of row group {g}: band '{band[i]}' is unknown; use ztfg/ztfr/ztfi/lsstu..lssty.");
                rows.Add(Row(id[i] ?? "", mjd[i], b, flux?[i] ?? double.NaN, err?[i] ?? double.NaN, mag?[i] ?? double.NaN, magErr?[i] ?? double.NaN, det?[i]));
            }
        }
    }
}

/// <summary>Parquet.Net 6 helpers shared by the table readers and writers.</summary>
internal static class ParquetTables
{
    public static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.Snappy };

    public static Task WriteAsync(ParquetRowGroupWriter rg, DataField f, string[] values) => rg.WriteAsync(f, values);
    public static Task WriteAsync(ParquetRowGroupWriter rg, DataField f, double[] values) => rg.WriteAsync<double>(f, values.AsMemory());
    public static Task WriteAsync(ParquetRowGroupWriter rg, DataField f, bool[] values) => rg.WriteAsync<bool>(f, values.AsMemory());

    public static async Task<string?[]> ReadStringsAsync(ParquetRowGroupReader rg, DataField f, int n)
    {
        var a = new string?[n];
        await rg.ReadAsync(f, a.AsMemory());
        return a;
    }

    public static async Task<double[]> ReadDoublesAsync(ParquetRowGroupReader rg, DataField f, int n)
    {
        var res = new double[n];
        if (f.ClrType == typeof(double))
        {
            if (f.IsNullable) { var a = new double?[n]; await rg.ReadAsync<double>(f, a.AsMemory()); for (int i = 0; i < n; i++) res[i] = a[i] ?? double.NaN; }
            else await rg.ReadAsync<double>(f, res.AsMemory());
        }
        else if (f.ClrType == typeof(float))
        {
            if (f.IsNullable) { var a = new float?[n]; await rg.ReadAsync<float>(f, a.AsMemory()); for (int i = 0; i < n; i++) res[i] = a[i] ?? double.NaN; }
            else { var a = new float[n]; await rg.ReadAsync<float>(f, a.AsMemory()); for (int i = 0; i < n; i++) res[i] = a[i]; }
        }
        else throw new InvalidDataException($"column '{f.Name}' has type {f.ClrType.Name}; expected double or float.");
        return res;
    }

    public static async Task<bool?[]> ReadBoolsAsync(ParquetRowGroupReader rg, DataField f, int n)
    {
        var res = new bool?[n];
        if (f.ClrType != typeof(bool)) throw new InvalidDataException($"column '{f.Name}' has type {f.ClrType.Name}; expected bool.");
        if (f.IsNullable) await rg.ReadAsync<bool>(f, res.AsMemory());
        else { var a = new bool[n]; await rg.ReadAsync<bool>(f, a.AsMemory()); for (int i = 0; i < n; i++) res[i] = a[i]; }
        return res;
    }
}
