using System.Runtime.CompilerServices;
using System.Text;

namespace Alerts.Avro;

/// <summary>
/// The fields a survey mapper needs, by path. A path is dot-separated field names; each segment may list the
/// names the field had across schema versions, separated by '|' (e.g. "diaSource.midpointMjdTai|midPointTai").
/// Scalars at the root or inside (nullable) nested records land in the root row; arrays of records become tables.
/// </summary>
public sealed class ProjectionSpec
{
    internal readonly List<string[][]> RootColumns = [];
    internal readonly List<TableSpec> Tables = [];

    /// <summary>Adds a scalar column; returns its slot in <see cref="ProjectedRecord.Root"/>.</summary>
    public int Column(string path)
    {
        RootColumns.Add(Split(path));
        return RootColumns.Count - 1;
    }

    /// <summary>Adds a table for a top-level array of records (or nullable array of records).</summary>
    public TableSpec Table(string name)
    {
        var t = new TableSpec(name.Split('|'), Tables.Count);
        Tables.Add(t);
        return t;
    }

    internal static string[][] Split(string path) => path.Split('.').Select(s => s.Split('|')).ToArray();
}

public sealed class TableSpec
{
    internal TableSpec(string[] names, int index) { Names = names; Index = index; }
    internal string[] Names { get; }
    internal readonly List<string[][]> Columns = [];

    /// <summary>Index of this table in <see cref="ProjectedRecord.Tables"/>.</summary>
    public int Index { get; }

    public int Column(string path)
    {
        Columns.Add(ProjectionSpec.Split(path));
        return Columns.Count - 1;
    }
}

public enum ValueKind : byte { Missing = 0, Long, Double, Bytes }

/// <summary>A projected scalar. Strings and bytes are (start, length) into the datum, never copied.</summary>
public struct ProjectedValue
{
    public ValueKind Kind;
    public int Start;
    public int Length;
    public long Long;
    public double Double;

    public readonly bool IsMissing => Kind == ValueKind.Missing;
    public readonly double AsDouble => Kind switch { ValueKind.Double => Double, ValueKind.Long => Long, _ => double.NaN };
    public readonly long AsLong => Kind switch { ValueKind.Long => Long, ValueKind.Double => (long)Double, _ => 0 };
    public readonly ReadOnlySpan<byte> Utf8(ReadOnlySpan<byte> datum) => Kind == ValueKind.Bytes ? datum.Slice(Start, Length) : default;
    public readonly string? AsString(ReadOnlySpan<byte> datum) => Kind switch
    {
        ValueKind.Bytes => Encoding.UTF8.GetString(datum.Slice(Start, Length)),
        ValueKind.Long => Long.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}

/// <summary>Rows of one projected array of records. Reused across records: cells grow, never shrink.</summary>
public sealed class ProjectedTable(int width)
{
    private ProjectedValue[] _cells = new ProjectedValue[Math.Max(width, 1) * 32];
    public int Width { get; } = width;
    public int Rows { get; private set; }
    /// <summary>False when the array itself was null (or absent from the writer schema).</summary>
    public bool Present { get; internal set; }

    public ref readonly ProjectedValue this[int row, int column] => ref _cells[row * Width + column];

    internal void Clear() { Rows = 0; Present = false; }

    internal Span<ProjectedValue> AddRow()
    {
        int need = (Rows + 1) * Width;
        if (need > _cells.Length) Array.Resize(ref _cells, Math.Max(need, _cells.Length * 2));
        var row = _cells.AsSpan(Rows * Width, Width);
        row.Clear();
        Rows++;
        return row;
    }
}

/// <summary>The output buffer of a <see cref="CompiledProjection"/>: root scalars plus tables. Reused per record.</summary>
public sealed class ProjectedRecord
{
    public ProjectedRecord(ProjectionSpec spec)
    {
        Root = new ProjectedValue[spec.RootColumns.Count];
        Tables = spec.Tables.Select(t => new ProjectedTable(t.Columns.Count)).ToArray();
    }

    public ProjectedValue[] Root { get; }
    public ProjectedTable[] Tables { get; }

    internal void Clear()
    {
        Array.Clear(Root);
        foreach (var t in Tables) t.Clear();
    }
}

/// <summary>
/// A reader compiled once from a writer schema and a <see cref="ProjectionSpec"/>: a flat list of ops per record
/// (read scalar into slot, descend into record, fill table, or skip). Skipping never allocates; bytes fields
/// such as cutouts are skipped by length. Immutable and thread-safe; the <see cref="ProjectedRecord"/> is not.
/// </summary>
public sealed class CompiledProjection
{
    private enum OpKind : byte { Skip, SkipSimple, SkipUnion, Scalar, Record, Table }

    private sealed class RecordProgram
    {
        public Op[] Ops = [];
    }

    private readonly struct Op(OpKind kind, AvroSchema schema, int slot, RecordProgram? sub, SkipKind simple = SkipKind.Complex, SkipKind[]? unionKinds = null)
    {
        public readonly OpKind Kind = kind;
        public readonly SkipKind Simple = simple;
        public readonly AvroSchema Schema = schema;
        public readonly int Slot = slot;
        public readonly RecordProgram? Sub = sub;
        /// <summary>For a skipped union: how to skip each branch (Complex: fall back to the schema walk).</summary>
        public readonly SkipKind[]? UnionKinds = unionKinds;
    }

    /// <summary>The cheapest op that skips a field: most ZTF/Rubin fields are a primitive or a [primitive, null] union.</summary>
    private static Op SkipOp(AvroSchema s)
    {
        if (s.SkipKind is not (SkipKind.Complex or SkipKind.Fixed)) return new Op(OpKind.SkipSimple, s, 0, null, s.SkipKind);
        if (s is UnionSchema u)
            return new Op(OpKind.SkipUnion, s, 0, null, SkipKind.Complex,
                u.BranchArray.Select(b => b.SkipKind is SkipKind.Fixed ? SkipKind.Complex : b.SkipKind).ToArray());
        return new Op(OpKind.Skip, s, 0, null);
    }

    private readonly RecordProgram _root;

    public RecordSchema WriterSchema { get; }
    public ProjectionSpec Spec { get; }
    /// <summary>Whether each root column was found in the writer schema (false: always Missing).</summary>
    public bool[] RootBound { get; }
    /// <summary>Whether each table was found in the writer schema.</summary>
    public bool[] TableBound { get; }

    public CompiledProjection(RecordSchema writer, ProjectionSpec spec)
    {
        WriterSchema = writer;
        Spec = spec;
        RootBound = new bool[spec.RootColumns.Count];
        TableBound = new bool[spec.Tables.Count];
        var cols = spec.RootColumns.Select((p, i) => (Path: p, Slot: i)).ToList();
        _root = Compile(writer, cols, spec.Tables, RootBound, TableBound);
    }

    private static bool Matches(string[] names, string field) => Array.IndexOf(names, field) >= 0;

    private static RecordSchema? RecordOf(AvroSchema s) => s.NonNull as RecordSchema;

    private static RecordSchema? ArrayItemRecordOf(AvroSchema s) => s.NonNull is ArraySchema a ? RecordOf(a.Items) : null;

    private static RecordProgram Compile(RecordSchema rec, List<(string[][] Path, int Slot)> cols, IReadOnlyList<TableSpec> tables, bool[] bound, bool[]? tableBound)
    {
        var prog = new RecordProgram();
        var ops = new List<Op>(rec.Fields.Count);
        foreach (var f in rec.Fields)
        {
            var scalar = cols.FirstOrDefault(c => c.Path.Length == 1 && Matches(c.Path[0], f.Name) && !bound[c.Slot]);
            var nested = cols.Where(c => c.Path.Length > 1 && Matches(c.Path[0], f.Name)).ToList();
            var table = tables.FirstOrDefault(t => Matches(t.Names, f.Name));
            if (scalar.Path is not null && IsScalar(f.Schema))
            {
                bound[scalar.Slot] = true;
                ops.Add(new Op(OpKind.Scalar, f.Schema, scalar.Slot, null));
            }
            else if (nested.Count > 0 && RecordOf(f.Schema) is { } sub)
            {
                var subCols = nested.Select(c => (c.Path[1..], c.Slot)).ToList();
                ops.Add(new Op(OpKind.Record, f.Schema, 0, Compile(sub, subCols, [], bound, null)));
            }
            else if (table is not null && tableBound is not null && ArrayItemRecordOf(f.Schema) is { } item)
            {
                tableBound[table.Index] = true;
                var tcols = table.Columns.Select((p, i) => (p, i)).ToList();
                ops.Add(new Op(OpKind.Table, f.Schema, table.Index, Compile(item, tcols, [], new bool[table.Columns.Count], null)));
            }
            else ops.Add(SkipOp(f.Schema));
        }
        prog.Ops = ops.ToArray();
        return prog;
    }

    private static bool IsScalar(AvroSchema s) => s.NonNull.Type is not (AvroType.Record or AvroType.Array or AvroType.Map or AvroType.Union);

    /// <summary>Reads one datum starting at the reader's position into <paramref name="output"/> (cleared first).</summary>
    public void Read(ref AvroReader reader, ProjectedRecord output)
    {
        output.Clear();
        Run(ref reader, _root, output.Root, output);
    }

    private static void Run(ref AvroReader r, RecordProgram p, Span<ProjectedValue> row, ProjectedRecord output)
    {
        var ops = p.Ops;
        for (int i = 0; i < ops.Length; i++)
        {
            ref readonly var op = ref ops[i];
            switch (op.Kind)
            {
                case OpKind.SkipSimple:
                    r.SkipSimple(op.Simple);
                    break;
                case OpKind.SkipUnion:
                {
                    var kinds = op.UnionKinds!;
                    int b = r.ReadUnionIndex(kinds.Length);
                    var k = kinds[b];
                    if (k == SkipKind.Complex) r.SkipValue(((UnionSchema)op.Schema).BranchArray[b]);
                    else r.SkipSimple(k);
                    break;
                }
                case OpKind.Skip:
                    r.SkipValue(op.Schema);
                    break;
                case OpKind.Scalar:
                    ReadScalar(ref r, op.Schema, ref row[op.Slot]);
                    break;
                case OpKind.Record:
                {
                    var s = op.Schema;
                    if (s is UnionSchema u)
                    {
                        s = u.Branches[r.ReadUnionIndex(u.Branches.Count)];
                        if (s.Type == AvroType.Null) break;
                    }
                    Run(ref r, op.Sub!, row, output);
                    break;
                }
                case OpKind.Table:
                {
                    var s = op.Schema;
                    if (s is UnionSchema u)
                    {
                        s = u.Branches[r.ReadUnionIndex(u.Branches.Count)];
                        if (s.Type == AvroType.Null) break;
                    }
                    var table = output.Tables[op.Slot];
                    table.Present = true;
                    // Spark writes array items as [record, "null"]: each element then carries its own branch index.
                    var itemUnion = ((ArraySchema)s).Items as UnionSchema;
                    while (true)
                    {
                        long count = r.ReadBlockCount(out _);
                        if (count == 0) break;
                        for (long k = 0; k < count; k++)
                        {
                            if (itemUnion is not null && itemUnion.Branches[r.ReadUnionIndex(itemUnion.Branches.Count)].Type == AvroType.Null)
                            {
                                table.AddRow(); // a null element: a row of missing values, which the mapper counts and skips
                                continue;
                            }
                            Run(ref r, op.Sub!, table.AddRow(), output);
                        }
                    }
                    break;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ReadScalar(ref AvroReader r, AvroSchema s, ref ProjectedValue v)
    {
        while (true)
        {
            switch (s.Type)
            {
                case AvroType.Null: v.Kind = ValueKind.Missing; return;
                case AvroType.Boolean: v.Kind = ValueKind.Long; v.Long = r.ReadBoolean() ? 1 : 0; return;
                case AvroType.Int:
                case AvroType.Long:
                case AvroType.Enum: v.Kind = ValueKind.Long; v.Long = r.ReadLong(); return;
                case AvroType.Float: v.Kind = ValueKind.Double; v.Double = r.ReadFloat(); return;
                case AvroType.Double: v.Kind = ValueKind.Double; v.Double = r.ReadDouble(); return;
                case AvroType.String:
                case AvroType.Bytes: v.Kind = ValueKind.Bytes; v.Start = r.ReadBytesStart(out v.Length); return;
                case AvroType.Fixed:
                {
                    int size = ((FixedSchema)s).Size;
                    v.Kind = ValueKind.Bytes; v.Start = r.Position; v.Length = size; r.Skip(size); return;
                }
                case AvroType.Union:
                {
                    var b = ((UnionSchema)s).BranchArray;
                    s = b[r.ReadUnionIndex(b.Length)];
                    continue;
                }
                default:
                    r.SkipValue(s); v.Kind = ValueKind.Missing; return;
            }
        }
    }
}
