using System.Reflection;
using System.Text.Json.Nodes;

namespace Alerts.Simulator.Avro;

/// <summary>
/// The project's own writer schemas (schemas/ztf/4.02, schemas/lsst/&lt;v&gt;), loaded from the assembly's embedded
/// resources. Builds the self-contained writer schema JSON that goes into an OCF header (named types inlined at
/// first use, as Avro requires) and compiles flat records into <see cref="RecordPlan"/>s for the encoder.
/// </summary>
public sealed class SchemaSet
{
    private readonly Dictionary<string, JsonObject> _named = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RecordPlan> _plans = new(StringComparer.Ordinal);

    public string TopLevelName { get; }
    /// <summary>Full writer schema JSON with every named type inlined once.</summary>
    public string FullSchemaJson { get; }

    private SchemaSet(IEnumerable<string> jsonTexts, string topLevelName)
    {
        foreach (var text in jsonTexts)
        {
            var node = JsonNode.Parse(text)!.AsObject();
            _named[FullName(node, null)] = node;
        }
        TopLevelName = topLevelName;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        FullSchemaJson = Inline(_named[topLevelName].DeepClone(), null, seen)!.ToJsonString();
    }

    public static SchemaSet Ztf402() => FromResources("schemas/ztf/4.02/", "ztf.alert");

    public static SchemaSet Lsst(string version) => version switch
    {
        "9.0" => FromResources("schemas/lsst/9.0/", "lsst.v9_0.alert"),
        "11.0" => FromResources("schemas/lsst/11.0/", "lsst.v11_0.alert"),
        _ => throw new ArgumentException($"Rubin schema version '{version}' is not shipped by the simulator; use 9.0 or 11.0.", nameof(version)),
    };

    /// <summary>Loads every .avsc under a folder on disk (used by tests to compare with the published schemas).</summary>
    public static SchemaSet FromFolder(string folder, string topLevelName) =>
        new(Directory.GetFiles(folder, "*.avsc").Order(StringComparer.Ordinal).Select(File.ReadAllText), topLevelName);

    private static SchemaSet FromResources(string prefix, string top)
    {
        var asm = typeof(SchemaSet).Assembly;
        var texts = asm.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(n => { using var s = asm.GetManifestResourceStream(n)!; using var r = new StreamReader(s); return r.ReadToEnd(); }).ToList();
        if (texts.Count == 0) throw new InvalidOperationException($"No embedded schema under '{prefix}': rebuild Alerts.Simulator (schemas/ is embedded at build time).");
        return new SchemaSet(texts, top);
    }

    public IEnumerable<string> NamedTypes => _named.Keys;

    /// <summary>The compiled field list of a flat record (all fields primitive or ["null", primitive]).</summary>
    public RecordPlan Plan(string fullName)
    {
        if (_plans.TryGetValue(fullName, out var p)) return p;
        if (!_named.TryGetValue(fullName, out var node))
            throw new KeyNotFoundException($"Schema '{fullName}' is not in this schema set ({string.Join(", ", _named.Keys)}).");
        p = RecordPlan.Compile(fullName, node);
        _plans[fullName] = p;
        return p;
    }

    private static string FullName(JsonObject node, string? enclosingNs)
    {
        var name = (string)node["name"]!;
        if (name.Contains('.')) return name;
        var ns = (string?)node["namespace"] ?? enclosingNs;
        return string.IsNullOrEmpty(ns) ? name : ns + "." + name;
    }

    private static string Namespace(string fullName) { int i = fullName.LastIndexOf('.'); return i < 0 ? "" : fullName[..i]; }

    private static readonly HashSet<string> Primitives = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

    private JsonNode? Inline(JsonNode? node, string? ns, HashSet<string> seen)
    {
        switch (node)
        {
            case JsonValue v when v.TryGetValue<string>(out var s):
                if (Primitives.Contains(s)) return v;
                var full = s.Contains('.') || ns is null ? s : ns + "." + s;
                if (!_named.ContainsKey(full) && _named.ContainsKey(s)) full = s;
                if (!_named.TryGetValue(full, out var def)) return v;
                if (!seen.Add(full)) return JsonValue.Create(full);
                return Inline(def.DeepClone(), ns, seen, full);
            case JsonArray a:
                var na = new JsonArray();
                foreach (var x in a) na.Add(Inline(x?.DeepClone(), ns, seen));
                return na;
            case JsonObject o:
                var t = o["type"];
                if (t is JsonValue tv && tv.TryGetValue<string>(out var ts) && ts is "record" or "enum" or "fixed")
                {
                    var fn = FullName(o, ns);
                    seen.Add(fn);
                    return Inline(o, ns, seen, fn);
                }
                var no = new JsonObject();
                foreach (var (k, val) in o) no[k] = k is "type" or "items" or "values" ? Inline(val?.DeepClone(), ns, seen) : val?.DeepClone();
                return no;
            default:
                return node;
        }
    }

    private JsonNode Inline(JsonNode defNode, string? _, HashSet<string> seen, string fullName)
    {
        var o = defNode.AsObject();
        var ns = Namespace(fullName);
        var res = new JsonObject();
        foreach (var (k, val) in o)
        {
            if (k == "fields")
            {
                var fields = new JsonArray();
                foreach (var f in val!.AsArray())
                {
                    var nf = new JsonObject();
                    foreach (var (fk, fv) in f!.AsObject())
                        nf[fk] = fk == "type" ? Inline(fv?.DeepClone(), ns, seen) : fv?.DeepClone();
                    fields.Add(nf);
                }
                res[k] = fields;
            }
            else res[k] = val?.DeepClone();
        }
        return res;
    }
}
