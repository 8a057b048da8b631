using System.Globalization;
using System.Text;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace Alerts.Tables;

/// <summary>One label row: object id, t2 class name, survey, redshift (NaN for Galactic) and true parameters.</summary>
public sealed record LabelRow(string ObjectId, string Class, string Survey, double Redshift, IReadOnlyDictionary<string, double> Parameters);

/// <summary>
/// Writes labels.csv / labels.parquet: object_id, class, survey, redshift, then one column per parameter name given
/// at construction (blank / NaN when a class does not use it). Rows are held until dispose (one row per object).
/// </summary>
public sealed class LabelTableWriter : IAsyncDisposable
{
    private readonly string? _csvPath, _parquetPath;
    private readonly string[] _parameterColumns;
    private readonly List<LabelRow> _rows = new();

    public LabelTableWriter(string? csvPath, string? parquetPath, IEnumerable<string> parameterColumns)
    {
        _csvPath = csvPath; _parquetPath = parquetPath; _parameterColumns = parameterColumns.ToArray();
    }

    public IReadOnlyList<string> Columns => ["object_id", "class", "survey", "redshift", .. _parameterColumns];

    public void Write(LabelRow row) => _rows.Add(row);

    public async ValueTask DisposeAsync()
    {
        if (_csvPath is not null)
        {
            await using var w = new StreamWriter(_csvPath, false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
            w.WriteLine(string.Join(',', Columns));
            Span<char> buf = stackalloc char[32];
            foreach (var r in _rows)
            {
                w.Write(r.ObjectId); w.Write(','); w.Write(r.Class); w.Write(','); w.Write(r.Survey); w.Write(',');
                LightCurveTableWriter.WriteNum(w, r.Redshift, buf);
                foreach (var c in _parameterColumns)
                {
                    w.Write(',');
                    if (r.Parameters.TryGetValue(c, out var v)) LightCurveTableWriter.WriteNum(w, v, buf);
                }
                w.Write('\n');
            }
        }
        if (_parquetPath is not null)
        {
            var fields = new List<DataField> { new DataField<string>("object_id"), new DataField<string>("class"), new DataField<string>("survey"), new DataField<double>("redshift") };
            fields.AddRange(_parameterColumns.Select(c => new DataField<double>(c)));
            var schema = new ParquetSchema(fields.Cast<Field>().ToArray());
            await using var s = File.Create(_parquetPath);
            await using var pw = await ParquetWriter.CreateAsync(schema, s, ParquetTables.Options);
            using var rg = pw.CreateRowGroup();
            await ParquetTables.WriteAsync(rg, fields[0], _rows.Select(r => r.ObjectId).ToArray());
            await ParquetTables.WriteAsync(rg, fields[1], _rows.Select(r => r.Class).ToArray());
            await ParquetTables.WriteAsync(rg, fields[2], _rows.Select(r => r.Survey).ToArray());
            await ParquetTables.WriteAsync(rg, fields[3], _rows.Select(r => r.Redshift).ToArray());
            for (int i = 0; i < _parameterColumns.Length; i++)
            {
                var c = _parameterColumns[i];
                await ParquetTables.WriteAsync(rg, fields[4 + i], _rows.Select(r => r.Parameters.TryGetValue(c, out var v) ? v : double.NaN).ToArray());
            }
        }
    }

    /// <summary>Reads labels.csv into (object_id → class) plus raw columns.</summary>
    public static IReadOnlyList<Dictionary<string, string>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new InvalidDataException($"{path}: empty label table; expected header object_id,class,...");
        var cols = lines[0].Split(',');
        var list = new List<Dictionary<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0) continue;
            var p = line.Split(',');
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < cols.Length && i < p.Length; i++) d[cols[i]] = p[i];
            list.Add(d);
        }
        return list;
    }
}
