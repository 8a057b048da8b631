using Alerts.Avro;

namespace Alerts.Ingest.Tests;

/// <summary>
/// Writes a datum of any schema with <see cref="AvroBinaryWriter"/>: values for chosen paths come from a lookup
/// ("candidate.jd", "prv_candidates[].magpsf"); everything else gets random content from the seed, including
/// random null branches, so every union order and every field between the ones we read is exercised.
/// A lookup value of null selects the null branch; arrays are given as a row count under the array path.
/// </summary>
/// <summary>A row count given for an array path.</summary>
internal sealed record Rows(int N);

internal sealed class RandomDatumWriter(Random random, Func<string, int, (bool Has, object? Value)> lookup)
{
    public void Write(AvroBinaryWriter w, AvroSchema s) => Write(w, s, "", -1);

    private void Write(AvroBinaryWriter w, AvroSchema s, string path, int row)
    {
        var (has, value) = lookup(path, row);
        if (has) { WriteGiven(w, s, path, value, row); return; }
        switch (s)
        {
            case RecordSchema r:
                foreach (var f in r.Fields) Write(w, f.Schema, path.Length == 0 ? f.Name : path + "." + f.Name, row);
                return;
            case UnionSchema u:
            {
                int b = random.Next(u.Branches.Count);
                w.WriteUnionIndex(b);
                Write(w, u.Branches[b], path, row);
                return;
            }
            case ArraySchema a:
            {
                int n = random.Next(3);
                w.WriteBlockStart(n);
                for (int i = 0; i < n; i++) Write(w, a.Items, path + "[]", i);
                w.WriteBlockEnd();
                return;
            }
            case MapSchema m:
            {
                int n = random.Next(3);
                w.WriteBlockStart(n);
                for (int i = 0; i < n; i++) { w.WriteString("k" + i); Write(w, m.Values, path + "{}", i); }
                w.WriteBlockEnd();
                return;
            }
            case EnumSchema e: w.WriteEnum(random.Next(e.Symbols.Count)); return;
            case FixedSchema fx: { var b = new byte[fx.Size]; random.NextBytes(b); w.WriteFixed(b); return; }
        }
        switch (s.Type)
        {
            case AvroType.Null: return;
            case AvroType.Boolean: w.WriteBoolean(random.Next(2) == 1); return;
            case AvroType.Int: w.WriteInt(random.Next(int.MinValue, int.MaxValue)); return;
            case AvroType.Long: w.WriteLong(random.NextInt64(long.MinValue, long.MaxValue)); return;
            case AvroType.Float: w.WriteFloat((float)(random.NextDouble() * 100)); return;
            case AvroType.Double: w.WriteDouble(random.NextDouble() * 1e5); return;
            case AvroType.String: w.WriteString(new string('x', random.Next(12))); return;
            case AvroType.Bytes: { var b = new byte[random.Next(3000)]; random.NextBytes(b); w.WriteBytes(b); return; }
        }
    }

    private void WriteGiven(AvroBinaryWriter w, AvroSchema s, string path, object? value, int row)
    {
        if (s is UnionSchema u)
        {
            int b = value is null ? u.NullIndex : FirstNonNull(u, value);
            if (b < 0) throw new InvalidOperationException($"{path}: null given for a non-nullable union");
            w.WriteUnionIndex(b);
            if (value is not null) WriteGiven(w, u.Branches[b], path, value, row);
            return;
        }
        if (value is null) { if (s.Type != AvroType.Null) throw new InvalidOperationException($"{path}: null given for non-nullable {s.Type}"); return; }
        switch (s)
        {
            case ArraySchema a:
            {
                int n = ((Rows)value).N;
                w.WriteBlockStart(n);
                for (int i = 0; i < n; i++) Write(w, a.Items, path + "[]", i);
                w.WriteBlockEnd();
                return;
            }
            case RecordSchema r:
                foreach (var f in r.Fields) Write(w, f.Schema, path + "." + f.Name, row);
                return;
        }
        switch (s.Type)
        {
            case AvroType.Int: w.WriteInt(Convert.ToInt32(value)); return;
            case AvroType.Long: w.WriteLong(Convert.ToInt64(value)); return;
            case AvroType.Float: w.WriteFloat(Convert.ToSingle(value)); return;
            case AvroType.Double: w.WriteDouble(Convert.ToDouble(value)); return;
            case AvroType.String: w.WriteString((string)value); return;
            case AvroType.Boolean: w.WriteBoolean((bool)value); return;
            case AvroType.Bytes: w.WriteBytes((byte[])value); return;
            default: throw new InvalidOperationException($"{path}: cannot write {value.GetType().Name} as {s.Type}");
        }
    }

    private static int FirstNonNull(UnionSchema u, object value)
    {
        for (int i = 0; i < u.Branches.Count; i++)
        {
            var t = u.Branches[i].Type;
            bool fits = value switch
            {
                int => t is AvroType.Int or AvroType.Long,
                long => t is AvroType.Long,
                float => t is AvroType.Float or AvroType.Double,
                double => t is AvroType.Double or AvroType.Float,
                string => t is AvroType.String,
                byte[] => t is AvroType.Bytes,
                bool => t is AvroType.Boolean,
                _ => t is AvroType.Record or AvroType.Array,
            };
            if (fits) return i;
        }
        return -1;
    }
}
