using Alerts.Avro;
using System.Text.Json.Nodes;

namespace Alerts.Simulator.Avro;

public enum AvroPrimitive : byte { Null, Boolean, Int, Long, Float, Double, String, Bytes }

/// <summary>One field of a flat record: its primitive type, whether it is the union ["null", T], and its default.</summary>
public readonly record struct FieldPlan(string Name, AvroPrimitive Type, bool Nullable, double DefaultNumber, string? DefaultString, bool HasNonNullDefault);

/// <summary>
/// A flat Avro record compiled for fast writing: the encoder fills a <see cref="RecordValues"/> by field slot and
/// <see cref="Write"/> walks the fields in schema order. Fields left unset are written as null when nullable,
/// else as the schema default, else as zero / empty string. Only fields the simulator knows are ever set.
/// </summary>
public sealed class RecordPlan
{
    public string FullName { get; }
    public FieldPlan[] Fields { get; }
    private readonly Dictionary<string, int> _slots;

    private RecordPlan(string fullName, FieldPlan[] fields)
    {
        FullName = fullName;
        Fields = fields;
        _slots = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < fields.Length; i++) _slots[fields[i].Name] = i;
    }

    /// <summary>Slot of a field, or -1 when this schema version does not have it.</summary>
    public int Slot(string name) => _slots.TryGetValue(name, out var i) ? i : -1;

    public RecordValues NewValues() => new(this);

    internal static RecordPlan Compile(string fullName, JsonObject node)
    {
        var list = new List<FieldPlan>();
        foreach (var f in node["fields"]!.AsArray())
        {
            var name = (string)f!["name"]!;
            var type = f["type"]!;
            bool nullable = false;
            string prim;
            if (type is JsonArray arr)
            {
                if (arr.Count != 2 || (string?)arr[0] != "null" || arr[1] is not JsonValue)
                    throw new NotSupportedException($"{fullName}.{name}: only [\"null\", primitive] unions are supported in flat records.");
                nullable = true;
                prim = (string)arr[1]!;
            }
            else if (type is JsonValue) prim = (string)type!;
            else throw new NotSupportedException($"{fullName}.{name}: nested types are not supported in flat records.");
            var p = prim switch
            {
                "boolean" => AvroPrimitive.Boolean, "int" => AvroPrimitive.Int, "long" => AvroPrimitive.Long,
                "float" => AvroPrimitive.Float, "double" => AvroPrimitive.Double, "string" => AvroPrimitive.String,
                "bytes" => AvroPrimitive.Bytes, "null" => AvroPrimitive.Null,
                _ => throw new NotSupportedException($"{fullName}.{name}: type {prim}"),
            };
            double dn = 0; string? ds = null; bool hasDefault = false;
            if (f.AsObject().TryGetPropertyValue("default", out var d) && d is not null)
            {
                hasDefault = true;
                if (d is JsonValue dv)
                {
                    if (dv.TryGetValue<double>(out var x)) dn = x;
                    else if (dv.TryGetValue<bool>(out var bb)) dn = bb ? 1 : 0;
                    else if (dv.TryGetValue<string>(out var s)) ds = s;
                }
            }
            list.Add(new FieldPlan(name, p, nullable, dn, ds, hasDefault));
        }
        return new RecordPlan(fullName, list.ToArray());
    }

    public void Write(AvroBinaryWriter w, RecordValues v)
    {
        var fields = Fields;
        var set = v.IsSet;
        var num = v.Number;
        var str = v.Text;
        for (int i = 0; i < fields.Length; i++)
        {
            ref readonly var f = ref fields[i];
            bool has = set[i];
            if (f.Nullable)
            {
                if (!has) { w.WriteUnionIndex(0); continue; }
                w.WriteUnionIndex(1);
            }
            double x = has ? num[i] : f.DefaultNumber;
            switch (f.Type)
            {
                case AvroPrimitive.Double: w.WriteDouble(x); break;
                case AvroPrimitive.Float: w.WriteFloat((float)x); break;
                case AvroPrimitive.Int: w.WriteLong((int)x); break;
                case AvroPrimitive.Long: w.WriteLong(has ? v.Long[i] : (long)f.DefaultNumber); break;
                case AvroPrimitive.Boolean: w.WriteBoolean(x != 0); break;
                case AvroPrimitive.String: w.WriteString((has ? str[i] : f.DefaultString) ?? ""); break;
                case AvroPrimitive.Bytes: w.WriteLong(0); break;
                case AvroPrimitive.Null: break;
            }
        }
    }
}

/// <summary>Values of one flat record, by slot; reused across records (call <see cref="Clear"/>).</summary>
public sealed class RecordValues
{
    public RecordPlan Plan { get; }
    internal readonly bool[] IsSet;
    internal readonly double[] Number;
    internal readonly long[] Long;
    internal readonly string?[] Text;

    public RecordValues(RecordPlan plan)
    {
        Plan = plan;
        int n = plan.Fields.Length;
        IsSet = new bool[n]; Number = new double[n]; Long = new long[n]; Text = new string?[n];
    }

    public void Clear() => Array.Clear(IsSet);

    /// <summary>Sets a numeric field (slot -1 = field absent in this version: ignored).</summary>
    public void Set(int slot, double value) { if (slot < 0) return; IsSet[slot] = true; Number[slot] = value; Long[slot] = (long)value; }
    public void SetLong(int slot, long value) { if (slot < 0) return; IsSet[slot] = true; Long[slot] = value; Number[slot] = value; }
    public void SetString(int slot, string value) { if (slot < 0) return; IsSet[slot] = true; Text[slot] = value; }
    public void Unset(int slot) { if (slot >= 0) IsSet[slot] = false; }
}
