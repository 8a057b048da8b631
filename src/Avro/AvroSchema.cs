using System.Text;
using System.Text.Json;

namespace Alerts.Avro;

public enum AvroType : byte
{
    Null, Boolean, Int, Long, Float, Double, Bytes, String, Record, Enum, Array, Map, Union, Fixed,
}

/// <summary>
/// A parsed Avro schema node. Named types (record, enum, fixed) are shared instances: a reference by name
/// resolves to the same object, so recursive schemas are graphs, not trees.
/// </summary>
/// <summary>How to skip a value without looking at its schema again (precomputed: the skip loop is the hot path).</summary>
internal enum SkipKind : byte { None, One, Four, Eight, VarInt, LengthPrefixed, Fixed, Complex }

public abstract class AvroSchema
{
    protected AvroSchema(AvroType type)
    {
        Type = type;
        SkipKind = type switch
        {
            AvroType.Null => SkipKind.None,
            AvroType.Boolean => SkipKind.One,
            AvroType.Int or AvroType.Long or AvroType.Enum => SkipKind.VarInt,
            AvroType.Float => SkipKind.Four,
            AvroType.Double => SkipKind.Eight,
            AvroType.Bytes or AvroType.String => SkipKind.LengthPrefixed,
            AvroType.Fixed => SkipKind.Fixed,
            _ => SkipKind.Complex,
        };
    }

    /// <summary>A plain field, not a virtual property: the decoder switches on it for every value.</summary>
    public AvroType Type { get; }

    internal readonly SkipKind SkipKind;

    /// <summary>Parsing Canonical Form (Avro spec 1.12, "Parsing Canonical Form for Schemas").</summary>
    public string CanonicalForm
    {
        get
        {
            var sb = new StringBuilder();
            WriteCanonical(sb, new HashSet<string>());
            return sb.ToString();
        }
    }

    /// <summary>CRC-64-AVRO (Rabin) fingerprint of the canonical form: the id of single-object encoding.</summary>
    public ulong Fingerprint => RabinFingerprint.Compute(Encoding.UTF8.GetBytes(CanonicalForm));

    internal abstract void WriteCanonical(StringBuilder sb, HashSet<string> seen);

    public static AvroSchema Parse(string json, Func<string, string?>? resolveNamed = null) =>
        new AvroSchemaParser(resolveNamed).ParseTop(json);

    /// <summary>Parses a writer schema bounded by <paramref name="limits"/> (JSON size and nesting depth); too large or too deep is an <see cref="AvroSchemaException"/>.</summary>
    public static AvroSchema Parse(string json, AvroLimits limits, Func<string, string?>? resolveNamed = null)
    {
        if (json.Length > limits.MaxSchemaJsonBytes)
            throw new AvroSchemaException($"the schema JSON has {json.Length} characters, more than MaxSchemaJsonBytes {limits.MaxSchemaJsonBytes}: refused");
        return new AvroSchemaParser(resolveNamed, limits.MaxSchemaDepth).ParseTop(json);
    }

    /// <summary>Unwraps a two-branch union with null: returns the non-null branch, else this.</summary>
    public AvroSchema NonNull => this is UnionSchema u && u.NullIndex >= 0 && u.Branches.Count == 2 ? u.Branches[1 - u.NullIndex] : this;

    public override string ToString() => CanonicalForm;
}

public sealed class PrimitiveSchema : AvroSchema
{
    private PrimitiveSchema(AvroType type) : base(type) { }

    public static readonly PrimitiveSchema Null = new(AvroType.Null), Boolean = new(AvroType.Boolean), Int = new(AvroType.Int),
        Long = new(AvroType.Long), Float = new(AvroType.Float), Double = new(AvroType.Double), Bytes = new(AvroType.Bytes), String = new(AvroType.String);

    public static PrimitiveSchema? FromName(string name) => name switch
    {
        "null" => Null, "boolean" => Boolean, "int" => Int, "long" => Long, "float" => Float,
        "double" => Double, "bytes" => Bytes, "string" => String, _ => null,
    };

    public string Name => Type switch
    {
        AvroType.Null => "null", AvroType.Boolean => "boolean", AvroType.Int => "int", AvroType.Long => "long",
        AvroType.Float => "float", AvroType.Double => "double", AvroType.Bytes => "bytes", _ => "string",
    };

    internal override void WriteCanonical(StringBuilder sb, HashSet<string> seen) => sb.Append('"').Append(Name).Append('"');
}

public abstract class NamedSchema(string fullName, AvroType type) : AvroSchema(type)
{
    public string FullName { get; } = fullName;
    public string Name => FullName[(FullName.LastIndexOf('.') + 1)..];
    public string Namespace => FullName.LastIndexOf('.') is var i and >= 0 ? FullName[..i] : "";
}

public sealed record AvroField(string Name, AvroSchema Schema, int Position, IReadOnlyList<string> Aliases);

public sealed class RecordSchema(string fullName) : NamedSchema(fullName, AvroType.Record)
{
    private AvroSchema[]? _fieldSchemas;
    public List<AvroField> Fields { get; } = [];

    /// <summary>Field schemas in order, as an array (built on first use, after parsing has finished).</summary>
    internal AvroSchema[] FieldSchemas => _fieldSchemas ??= Fields.Select(f => f.Schema).ToArray();
    /// <summary>Extra top-level attributes kept for mapping decisions (e.g. ZTF's "version").</summary>
    public Dictionary<string, string> Properties { get; } = [];

    public AvroField? Field(string name)
    {
        foreach (var f in Fields) if (f.Name == name) return f;
        return null;
    }

    internal override void WriteCanonical(StringBuilder sb, HashSet<string> seen)
    {
        if (!seen.Add(FullName)) { sb.Append('"').Append(FullName).Append('"'); return; }
        sb.Append("{\"name\":\"").Append(FullName).Append("\",\"type\":\"record\",\"fields\":[");
        for (int i = 0; i < Fields.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("{\"name\":\"").Append(Fields[i].Name).Append("\",\"type\":");
            Fields[i].Schema.WriteCanonical(sb, seen);
            sb.Append('}');
        }
        sb.Append("]}");
    }
}

public sealed class EnumSchema(string fullName, IReadOnlyList<string> symbols) : NamedSchema(fullName, AvroType.Enum)
{
    public IReadOnlyList<string> Symbols { get; } = symbols;

    internal override void WriteCanonical(StringBuilder sb, HashSet<string> seen)
    {
        if (!seen.Add(FullName)) { sb.Append('"').Append(FullName).Append('"'); return; }
        sb.Append("{\"name\":\"").Append(FullName).Append("\",\"type\":\"enum\",\"symbols\":[");
        for (int i = 0; i < Symbols.Count; i++) { if (i > 0) sb.Append(','); sb.Append('"').Append(Symbols[i]).Append('"'); }
        sb.Append("]}");
    }
}

public sealed class FixedSchema(string fullName, int size) : NamedSchema(fullName, AvroType.Fixed)
{
    public int Size { get; } = size;

    internal override void WriteCanonical(StringBuilder sb, HashSet<string> seen)
    {
        if (!seen.Add(FullName)) { sb.Append('"').Append(FullName).Append('"'); return; }
        sb.Append("{\"name\":\"").Append(FullName).Append("\",\"type\":\"fixed\",\"size\":").Append(Size).Append('}');
    }
}

public sealed class ArraySchema(AvroSchema items) : AvroSchema(AvroType.Array)
{
    public AvroSchema Items { get; } = items;

    internal override void WriteCanonical(StringBuilder sb, HashSet<string> seen)
    {
        sb.Append("{\"type\":\"array\",\"items\":");
        Items.WriteCanonical(sb, seen);
        sb.Append('}');
    }
}

public sealed class MapSchema(AvroSchema values) : AvroSchema(AvroType.Map)
{
    public AvroSchema Values { get; } = values;

    internal override void WriteCanonical(StringBuilder sb, HashSet<string> seen)
    {
        sb.Append("{\"type\":\"map\",\"values\":");
        Values.WriteCanonical(sb, seen);
        sb.Append('}');
    }
}

public sealed class UnionSchema : AvroSchema
{
    public UnionSchema(IReadOnlyList<AvroSchema> branches) : base(AvroType.Union)
    {
        Branches = branches;
        BranchArray = branches.ToArray();
        NullIndex = -1;
        for (int i = 0; i < branches.Count; i++) if (branches[i].Type == AvroType.Null) { NullIndex = i; break; }
    }

    public IReadOnlyList<AvroSchema> Branches { get; }
    internal readonly AvroSchema[] BranchArray;
    /// <summary>Index of the null branch (0 in ["null",T], 1 in [T,"null"]), or -1.</summary>
    public int NullIndex { get; }

    internal override void WriteCanonical(StringBuilder sb, HashSet<string> seen)
    {
        sb.Append('[');
        for (int i = 0; i < Branches.Count; i++) { if (i > 0) sb.Append(','); Branches[i].WriteCanonical(sb, seen); }
        sb.Append(']');
    }
}

/// <summary>Thrown for a schema that is not valid Avro JSON, or that names an unknown type.</summary>
public sealed class AvroSchemaException(string message) : Exception(message);

internal sealed class AvroSchemaParser(Func<string, string?>? resolveNamed, int maxDepth = 64)
{
    private readonly Dictionary<string, NamedSchema> _named = new(StringComparer.Ordinal);
    private readonly HashSet<string> _resolving = [];

    public AvroSchema ParseTop(string json)
    {
        using var doc = ParseJson(json);
        return Parse(doc.RootElement, "");
    }

    private JsonDocument ParseJson(string json)
    {
        try { return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxDepth }); }
        catch (JsonException ex) when (ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            throw new AvroSchemaException($"the schema JSON nests deeper than MaxSchemaDepth {maxDepth}: refused ({ex.Message})");
        }
    }

    private AvroSchema Parse(JsonElement e, string ns)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return ByName(e.GetString()!, ns);
            case JsonValueKind.Array:
            {
                var branches = new List<AvroSchema>();
                foreach (var b in e.EnumerateArray()) branches.Add(Parse(b, ns));
                return new UnionSchema(branches);
            }
            case JsonValueKind.Object:
                break;
            default:
                throw new AvroSchemaException($"unexpected JSON {e.ValueKind} where a schema was expected");
        }

        if (!e.TryGetProperty("type", out var typeEl)) throw new AvroSchemaException("schema object without \"type\"");
        if (typeEl.ValueKind != JsonValueKind.String) return Parse(typeEl, ns); // {"type": {...}} or {"type": [...]}
        var type = typeEl.GetString()!;
        switch (type)
        {
            case "record":
            case "error":
            {
                var full = FullName(e, ns);
                var rec = new RecordSchema(full);
                Register(rec);
                foreach (var p in e.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.String && p.Name is not ("name" or "namespace" or "type" or "doc"))
                        rec.Properties[p.Name] = p.Value.GetString()!;
                var childNs = rec.Namespace;
                if (!e.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array)
                    throw new AvroSchemaException($"record {full} has no \"fields\" array");
                int pos = 0;
                foreach (var f in fields.EnumerateArray())
                {
                    var fname = f.GetProperty("name").GetString()!;
                    if (!f.TryGetProperty("type", out var ft)) throw new AvroSchemaException($"field {full}.{fname} has no type");
                    var aliases = new List<string>();
                    if (f.TryGetProperty("aliases", out var al) && al.ValueKind == JsonValueKind.Array)
                        foreach (var a in al.EnumerateArray()) aliases.Add(a.GetString()!);
                    rec.Fields.Add(new AvroField(fname, Parse(ft, childNs), pos++, aliases));
                }
                return rec;
            }
            case "enum":
            {
                var syms = new List<string>();
                foreach (var s in e.GetProperty("symbols").EnumerateArray()) syms.Add(s.GetString()!);
                var en = new EnumSchema(FullName(e, ns), syms);
                Register(en);
                return en;
            }
            case "fixed":
            {
                var fx = new FixedSchema(FullName(e, ns), e.GetProperty("size").GetInt32());
                Register(fx);
                return fx;
            }
            case "array":
                return new ArraySchema(Parse(e.GetProperty("items"), ns));
            case "map":
                return new MapSchema(Parse(e.GetProperty("values"), ns));
            default:
                // {"type":"long","logicalType":...} and similar: the logical type is ignored, the primitive kept.
                return ByName(type, ns);
        }
    }

    private static string FullName(JsonElement e, string ns)
    {
        var name = e.GetProperty("name").GetString()!;
        if (name.Contains('.')) return name;
        if (e.TryGetProperty("namespace", out var n) && n.ValueKind == JsonValueKind.String) ns = n.GetString()!;
        return string.IsNullOrEmpty(ns) ? name : ns + "." + name;
    }

    private void Register(NamedSchema s)
    {
        // A second definition with the same name replaces the first (Spark-written files repeat names); the binary
        // layout is taken from the definition in scope, which is what Avro writers do too.
        _named[s.FullName] = s;
    }

    private AvroSchema ByName(string name, string ns)
    {
        if (PrimitiveSchema.FromName(name) is { } p) return p;
        var full = name.Contains('.') || string.IsNullOrEmpty(ns) ? name : ns + "." + name;
        if (_named.TryGetValue(full, out var s)) return s;
        if (_named.TryGetValue(name, out s)) return s;
        if (resolveNamed is not null && _resolving.Add(full))
        {
            var json = resolveNamed(full);
            if (json is not null)
            {
                using var doc = ParseJson(json);
                var parsed = Parse(doc.RootElement, full.LastIndexOf('.') is var i and >= 0 ? full[..i] : "");
                if (_named.TryGetValue(full, out s)) return s;
                return parsed;
            }
        }
        throw new AvroSchemaException($"unknown type name \"{name}\" (namespace \"{ns}\"): define it before use or put its .avsc file in the schema folder");
    }
}
