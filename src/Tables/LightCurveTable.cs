using System.Globalization;
using System.Text;
using Alerts.Core;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace Alerts.Tables;

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
/// Column names of the surveys and brokers are read too (<see cref="LightCurveColumns"/>): ZTF/ALeRCE
/// (objectId or oid, jd, fid 1/2/3, magpsf, sigmapsf), Rubin (diaObjectId, midpointMjdTai, band u..y, psfFlux and
/// psfFluxErr in nJy, which is the table's flux unit) and BTS/ANTARES (ant_mjd, ant_passband, ant_mag, ant_magerr,
/// with the object id from the CSV file name).
/// Rows with detected=1 become <see cref="PointKind.Detection"/>; detected=0 rows become <see cref="PointKind.ForcedPhotometry"/>
/// (flux is the measured forced flux), or <see cref="PointKind.NonDetection"/> when the flux is missing.
/// </summary>
public static class LightCurveTableReader
{
    /// <param name="columnsRead">Told once per file which columns were read as what ("objectId→object, fid→band, ...").</param>
    public static IEnumerable<(string ObjectId, LightCurve LightCurve)> Read(string path, Survey surveyHint = Survey.Ztf, Action<string>? columnsRead = null)
    {
        var rows = path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? ReadParquetRows(path, surveyHint, columnsRead) : ReadCsvRows(path, surveyHint, columnsRead);
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

    private static IEnumerable<(string, double, Band, double, double, bool, bool)> ReadCsvRows(string path, Survey survey, Action<string>? columnsRead)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{path}: empty file; expected a header with object_id,mjd,band,flux,flux_err,mag,mag_err,detected.");
        var names = header.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
        var cols = LightCurveColumns.Resolve(path, names, objectFromFileName: true);
        columnsRead?.Invoke($"{path}: read {cols.Describe()}");
        survey = cols.BandSurvey(survey);
        string fileId = Path.GetFileNameWithoutExtension(path);
        string? line; int lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var p = line.Split(',');
            string Field(int c) => c < p.Length ? p[c].Trim().Trim('"') : throw new InvalidDataException($"{path}:{lineNo}: {p.Length} fields, but the header has {names.Length}.");
            string id = cols.Object >= 0 ? Field(cols.Object) : fileId;
            double time = ParseD(Field(cols.Time));
            var band = cols.ParseBand(Field(cols.Band), survey, $"{path}:{lineNo}");
            double flux = cols.Flux >= 0 ? ParseD(Field(cols.Flux)) : double.NaN, err = cols.FluxErr >= 0 ? ParseD(Field(cols.FluxErr)) : double.NaN;
            double mag = cols.Mag >= 0 ? ParseD(Field(cols.Mag)) : double.NaN, magErr = cols.MagErr >= 0 ? ParseD(Field(cols.MagErr)) : double.NaN;
            yield return Row(id, cols.ToMjd(time), band, flux, err, mag, magErr, cols.Detected >= 0 ? ParseBool(Field(cols.Detected)) : null);
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

    private static IEnumerable<(string, double, Band, double, double, bool, bool)> ReadParquetRows(string path, Survey survey, Action<string>? columnsRead)
    {
        var rows = new List<(string, double, Band, double, double, bool, bool)>();
        ReadParquet(path, survey, rows, columnsRead).GetAwaiter().GetResult();
        return rows;
    }

    private static async Task ReadParquet(string path, Survey survey, List<(string, double, Band, double, double, bool, bool)> rows, Action<string>? columnsRead)
    {
        await using var stream = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(stream);
        var fields = reader.Schema.DataFields;
        var cols = LightCurveColumns.Resolve(path, fields.Select(f => f.Name).ToArray(), objectFromFileName: false);
        columnsRead?.Invoke($"{path}: read {cols.Describe()}");
        survey = cols.BandSurvey(survey);
        DataField? F(int c) => c < 0 ? null : fields[c];
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            int n = checked((int)rg.RowCount);
            var id = await ParquetTables.ReadTextAsync(rg, F(cols.Object)!, n);
            var band = await ParquetTables.ReadTextAsync(rg, F(cols.Band)!, n);
            var time = await ParquetTables.ReadDoublesAsync(rg, F(cols.Time)!, n);
            double[]? flux = F(cols.Flux) is { } ff ? await ParquetTables.ReadDoublesAsync(rg, ff, n) : null;
            double[]? err = F(cols.FluxErr) is { } fe ? await ParquetTables.ReadDoublesAsync(rg, fe, n) : null;
            double[]? mag = F(cols.Mag) is { } fm ? await ParquetTables.ReadDoublesAsync(rg, fm, n) : null;
            double[]? magErr = F(cols.MagErr) is { } fme ? await ParquetTables.ReadDoublesAsync(rg, fme, n) : null;
            bool?[]? det = F(cols.Detected) is { } fd ? await ParquetTables.ReadBoolsAsync(rg, fd, n) : null;
            for (int i = 0; i < n; i++)
            {
                var b = cols.ParseBand(band[i] ?? "", survey, $"{path}: row {i} of row group {g}");
                rows.Add(Row(id[i] ?? "", cols.ToMjd(time[i]), b, flux?[i] ?? double.NaN, err?[i] ?? double.NaN, mag?[i] ?? double.NaN, magErr?[i] ?? double.NaN, det?[i]));
            }
        }
    }
}

/// <summary>
/// Which column of a light-curve table is which field, from the table's own names (object_id, mjd, band, flux,
/// flux_err, mag, mag_err, detected) or the surveys' and brokers' names for them. Names match without case; the
/// first accepted name present wins.
/// </summary>
public sealed class LightCurveColumns
{
    public static readonly string[] ObjectNames = ["object_id", "objectId", "oid", "diaObjectId", "ZTFID"];
    public static readonly string[] TimeNames = ["mjd", "midpointMjdTai", "ant_mjd", "jd"];
    public static readonly string[] BandNames = ["band", "fid", "ant_passband", "passband", "filter"];
    public static readonly string[] FluxNames = ["flux", "psfFlux"];
    public static readonly string[] FluxErrNames = ["flux_err", "psfFluxErr"];
    public static readonly string[] MagNames = ["mag", "magpsf", "ant_mag"];
    public static readonly string[] MagErrNames = ["mag_err", "sigmapsf", "ant_magerr"];
    public static readonly string[] DetectedNames = ["detected"];

    /// <summary>Julian date minus this is the modified Julian date.</summary>
    public const double JdOffset = 2400000.5;

    private readonly string[] _names;
    public int Object { get; private init; }
    public int Time { get; private init; }
    public int Band { get; private init; }
    public int Flux { get; private init; }
    public int FluxErr { get; private init; }
    public int Mag { get; private init; }
    public int MagErr { get; private init; }
    public int Detected { get; private init; }

    private LightCurveColumns(string[] names) => _names = names;

    /// <summary>The time column holds Julian dates (ZTF's jd), converted to MJD on reading.</summary>
    public bool TimeIsJd => Name(Time).Equals("jd", StringComparison.OrdinalIgnoreCase);
    /// <summary>The band column is ZTF's filter id (1, 2, 3 for g, r, i).</summary>
    public bool BandIsFid => Name(Band).Equals("fid", StringComparison.OrdinalIgnoreCase);
    /// <summary>Rubin's column names (diaObjectId, midpointMjdTai, psfFlux): one-letter bands are Rubin's u..y.</summary>
    public bool RubinNames => new[] { Object, Time, Flux }.Any(c => c >= 0 && Name(c) is var n
        && (n.Equals("diaObjectId", StringComparison.OrdinalIgnoreCase) || n.Equals("midpointMjdTai", StringComparison.OrdinalIgnoreCase) || n.Equals("psfFlux", StringComparison.OrdinalIgnoreCase)));

    private string Name(int c) => c >= 0 ? _names[c] : "";

    /// <summary>Finds each field's column; the error names the file, the missing field and the names accepted for it.</summary>
    public static LightCurveColumns Resolve(string path, string[] names, bool objectFromFileName)
    {
        int Find(string[] accepted)
        {
            foreach (var a in accepted)
            {
                int i = Array.FindIndex(names, n => n.Equals(a, StringComparison.OrdinalIgnoreCase));
                if (i >= 0) return i;
            }
            return -1;
        }
        string Missing(string field, string[] accepted) =>
            $"{path}: no {field} column; accepted names: {string.Join(", ", accepted)} (columns: {string.Join(",", names)}).";
        var c = new LightCurveColumns(names)
        {
            Object = Find(ObjectNames), Time = Find(TimeNames), Band = Find(BandNames),
            Flux = Find(FluxNames), FluxErr = Find(FluxErrNames), Mag = Find(MagNames), MagErr = Find(MagErrNames), Detected = Find(DetectedNames),
        };
        if (c.Object < 0 && !objectFromFileName) throw new InvalidDataException(Missing("object", ObjectNames));
        if (c.Time < 0) throw new InvalidDataException(Missing("time (mjd)", TimeNames));
        if (c.Band < 0) throw new InvalidDataException(Missing("band", BandNames));
        if (c.Flux < 0 && c.Mag < 0)
            throw new InvalidDataException($"{path}: no flux or mag column; accepted names: {string.Join(", ", FluxNames)} (nJy) or {string.Join(", ", MagNames)} (AB) (columns: {string.Join(",", names)}).");
        return c;
    }

    /// <summary>"objectId→object, jd→mjd (JD − 2400000.5), fid→band (1/2/3 → ztfg/ztfr/ztfi), magpsf→mag, sigmapsf→mag_err".</summary>
    public string Describe()
    {
        var parts = new List<string> { Object >= 0 ? $"{Name(Object)}→object" : "file name→object" };
        parts.Add(TimeIsJd ? $"{Name(Time)}→mjd (JD − {JdOffset})" : $"{Name(Time)}→mjd");
        parts.Add(BandIsFid ? $"{Name(Band)}→band (1/2/3 → ztfg/ztfr/ztfi)" : RubinNames ? $"{Name(Band)}→band (u..y → lsstu..lssty)" : $"{Name(Band)}→band");
        foreach (var (c, field) in new[] { (Flux, "flux (nJy)"), (FluxErr, "flux_err (nJy)"), (Mag, "mag"), (MagErr, "mag_err"), (Detected, "detected") })
            if (c >= 0) parts.Add($"{Name(c)}→{field}");
        return string.Join(", ", parts);
    }

    /// <summary>The survey whose one-letter band names apply: Rubin's for Rubin's column names, else the hint.</summary>
    public Survey BandSurvey(Survey hint) => RubinNames && hint == Survey.Ztf ? Survey.Lsst : hint;

    public double ToMjd(double time) => TimeIsJd ? time - JdOffset : time;

    public Band ParseBand(string text, Survey survey, string where)
    {
        if (BandIsFid)
        {
            var t = text.Trim();
            return t switch
            {
                "1" or "1.0" => Core.Band.ZtfG,
                "2" or "2.0" => Core.Band.ZtfR,
                "3" or "3.0" => Core.Band.ZtfI,
                _ => throw new InvalidDataException($"{where}: fid '{text}' is not a ZTF filter id (1 = g, 2 = r, 3 = i)."),
            };
        }
        var band = Bands.Parse(text, survey);
        if (band == Core.Band.Unknown)
            throw new InvalidDataException($"{where}: band '{text}' is unknown; use ztfg/ztfr/ztfi/lsstu..lssty, g/r/i with --survey ztf, u/g/r/i/z/y with --survey lsst, or fid 1/2/3.");
        return band;
    }
}

/// <summary>Parquet.Net 6 helpers shared by the table readers and writers.</summary>
internal static class ParquetTables
{
    public static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.Snappy };

    public static Task WriteAsync(ParquetRowGroupWriter rg, DataField f, string[] values) => rg.WriteAsync(f, values);
    public static Task WriteAsync(ParquetRowGroupWriter rg, DataField f, double[] values) => rg.WriteAsync<double>(f, values.AsMemory());
    public static Task WriteAsync(ParquetRowGroupWriter rg, DataField f, bool[] values) => rg.WriteAsync<bool>(f, values.AsMemory());

    /// <summary>A column as text: strings as they are, integers (ids, ZTF fid) and doubles formatted invariantly.</summary>
    public static async Task<string?[]> ReadTextAsync(ParquetRowGroupReader rg, DataField f, int n)
    {
        if (f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>)) return await ReadStringsAsync(rg, f, n);
        if (f.ClrType == typeof(long) || f.ClrType == typeof(int) || f.ClrType == typeof(short) || f.ClrType == typeof(sbyte) || f.ClrType == typeof(byte))
        {
            var a = new long?[n];
            if (f.ClrType == typeof(long))
            {
                if (f.IsNullable) await rg.ReadAsync<long>(f, a.AsMemory());
                else { var v = new long[n]; await rg.ReadAsync<long>(f, v.AsMemory()); for (int i = 0; i < n; i++) a[i] = v[i]; }
            }
            else if (f.ClrType == typeof(int))
            {
                if (f.IsNullable) { var v = new int?[n]; await rg.ReadAsync<int>(f, v.AsMemory()); for (int i = 0; i < n; i++) a[i] = v[i]; }
                else { var v = new int[n]; await rg.ReadAsync<int>(f, v.AsMemory()); for (int i = 0; i < n; i++) a[i] = v[i]; }
            }
            else throw new InvalidDataException($"column '{f.Name}' has type {f.ClrType.Name}; expected text, int32 or int64.");
            return a.Select(x => x?.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        if (f.ClrType == typeof(double) || f.ClrType == typeof(float))
            return (await ReadDoublesAsync(rg, f, n)).Select(x => double.IsNaN(x) ? null : x.ToString("R", CultureInfo.InvariantCulture)).ToArray();
        throw new InvalidDataException($"column '{f.Name}' has type {f.ClrType.Name}; expected text or a number.");
    }

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
