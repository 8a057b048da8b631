using System.Collections.Concurrent;
using System.Text;

namespace Alerts.Avro;

/// <summary>
/// In-process schema registry shared by sources and decoders (thread-safe). Resolves a writer schema from:
/// a CRC-64-AVRO fingerprint (single-object encoding; container sources register their header schema here),
/// a Confluent schema id (Rubin: major*100+minor, loaded from a folder in the lsst/alert_packet layout
/// <c>&lt;dir&gt;/&lt;major&gt;.&lt;minor&gt;/lsst.v&lt;major&gt;_&lt;minor&gt;.alert.avsc</c>), or a container header's
/// schema bytes (cached by content so the JSON is parsed once per distinct schema, not once per file).
/// </summary>
public sealed class AvroSchemaRegistry
{
    private readonly ConcurrentDictionary<ulong, AvroSchema> _byFingerprint = new();
    private readonly ConcurrentDictionary<int, AvroSchema> _byId = new();
    private readonly ConcurrentDictionary<int, ulong> _idFingerprints = new();
    private readonly ConcurrentDictionary<int, string> _idErrors = new();
    private readonly ConcurrentDictionary<int, HeaderEntry[]> _byHeaderHash = new();

    private sealed record HeaderEntry(byte[] Json, AvroSchema Schema, ulong Fingerprint);

    public AvroSchemaRegistry(string? schemaFolder = null) => SchemaFolder = schemaFolder;

    /// <summary>Bounds on container-header schemas (JSON size, nesting depth).</summary>
    public AvroLimits Limits { get; init; } = AvroLimits.Default;

    /// <summary>Folder of Confluent-id schemas (lsst/alert_packet layout), or null.</summary>
    public string? SchemaFolder { get; }

    public ulong Register(AvroSchema schema)
    {
        var fp = schema.Fingerprint;
        _byFingerprint.TryAdd(fp, schema);
        return fp;
    }

    /// <summary>Registers a schema under an explicit Confluent id (overrides the folder lookup).</summary>
    public void Register(int schemaId, AvroSchema schema)
    {
        _byId[schemaId] = schema;
        _idFingerprints[schemaId] = Register(schema);
    }

    /// <summary>Resolves a Confluent schema id and returns the schema's CRC-64-AVRO fingerprint too (cached).</summary>
    public bool TryGetById(int schemaId, out AvroSchema schema, out ulong fingerprint, out string error)
    {
        fingerprint = 0;
        if (!TryGetById(schemaId, out schema, out error)) return false;
        if (!_idFingerprints.TryGetValue(schemaId, out fingerprint)) _idFingerprints[schemaId] = fingerprint = schema.Fingerprint;
        return true;
    }

    public bool TryGet(ulong fingerprint, out AvroSchema schema) => _byFingerprint.TryGetValue(fingerprint, out schema!);

    /// <summary>The schema embedded in a container header; parsed once per distinct JSON text.</summary>
    public (AvroSchema Schema, ulong Fingerprint) FromHeader(ReadOnlySpan<byte> schemaJson)
    {
        int hash = HashOf(schemaJson);
        if (_byHeaderHash.TryGetValue(hash, out var entries))
            foreach (var e in entries)
                if (schemaJson.SequenceEqual(e.Json)) return (e.Schema, e.Fingerprint);

        if (schemaJson.Length > Limits.MaxSchemaJsonBytes)
            throw new AvroSchemaException($"the avro.schema header has {schemaJson.Length} bytes, more than MaxSchemaJsonBytes {Limits.MaxSchemaJsonBytes}: refused");
        var schema = AvroSchema.Parse(Encoding.UTF8.GetString(schemaJson), Limits);
        var fp = Register(schema);
        var entry = new HeaderEntry(schemaJson.ToArray(), schema, fp);
        _byHeaderHash.AddOrUpdate(hash, [entry], (_, old) => [.. old, entry]);
        return (schema, fp);
    }

    /// <summary>Resolves a Confluent schema id; on failure <paramref name="error"/> names the file looked for and the fix.</summary>
    public bool TryGetById(int schemaId, out AvroSchema schema, out string error)
    {
        error = "";
        if (_byId.TryGetValue(schemaId, out schema!)) return true;
        if (_idErrors.TryGetValue(schemaId, out error!)) return false;
        try
        {
            schema = LoadFromFolder(schemaId);
            _idFingerprints[schemaId] = Register(schema);
            _byId[schemaId] = schema;
            return true;
        }
        catch (Exception ex) when (ex is IOException or AvroSchemaException or System.Text.Json.JsonException or UnauthorizedAccessException or KeyNotFoundException or InvalidOperationException)
        {
            error = ex.Message;
            _idErrors[schemaId] = error;
            return false;
        }
    }

    private AvroSchema LoadFromFolder(int schemaId)
    {
        if (SchemaFolder is null)
            throw new IOException($"schema id {schemaId} is not registered and no schema folder was given: pass --schemas DIR (lsst/alert_packet layout)");
        if (schemaId <= 0) throw new IOException($"schema id {schemaId} is not a Rubin id (major*100+minor)");
        int major = schemaId / 100, minor = schemaId % 100;
        var dir = Path.Combine(SchemaFolder, $"{major}.{minor}");
        var top = Path.Combine(dir, $"lsst.v{major}_{minor}.alert.avsc");
        if (!File.Exists(top))
            throw new IOException($"schema id {schemaId} (v{major}.{minor}): {top} does not exist; add the v{major}.{minor} schema files to {SchemaFolder} or pass another --schemas DIR");
        return AvroSchema.Parse(File.ReadAllText(top), name =>
        {
            var f = Path.Combine(dir, name + ".avsc");
            return File.Exists(f) ? File.ReadAllText(f) : null;
        });
    }

    /// <summary>Loads a top-level .avsc whose named types live in sibling files named &lt;fullname&gt;.avsc.</summary>
    public static AvroSchema LoadFile(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return AvroSchema.Parse(File.ReadAllText(path), name =>
        {
            var f = Path.Combine(dir, name + ".avsc");
            if (File.Exists(f)) return File.ReadAllText(f);
            var shortName = name[(name.LastIndexOf('.') + 1)..];
            f = Path.Combine(dir, shortName + ".avsc");
            return File.Exists(f) ? File.ReadAllText(f) : null;
        });
    }

    private static int HashOf(ReadOnlySpan<byte> data)
    {
        // Length plus the first and last 64 bytes: a bucket key that touches two cache lines, not the whole
        // (often 20+ KB) JSON; equality is always checked with SequenceEqual, so a collision only costs a compare.
        var h = new HashCode();
        h.Add(data.Length);
        h.AddBytes(data[..Math.Min(64, data.Length)]);
        h.AddBytes(data[Math.Max(0, data.Length - 64)..]);
        return h.ToHashCode();
    }
}
