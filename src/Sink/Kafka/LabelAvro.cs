using System.Buffers.Binary;
using Alerts.Avro;
using Alerts.Core;

namespace Alerts.Sink.Kafka;

/// <summary>How a label message's value is framed.</summary>
public enum LabelEncoding
{
    /// <summary>Confluent wire format: 0x00, 4-byte big-endian schema id, Avro binary body. Needs a registry id.</summary>
    ConfluentWire,
    /// <summary>A self-describing Avro object container holding one record (schema in the header), as ZTF distributes alerts.</summary>
    SingleRecordContainer,
}

/// <summary>
/// The decoded label message (schema alerts.label.Label v2, <c>schemas/labels/alerts.label.avsc</c>).
/// <see cref="SNIaFamilyProbability"/> is the schema's <c>p_SNIa_family</c>: null when not classified, and for v1
/// records, which end before it.
/// </summary>
public sealed record LabelMessage(
    string Survey, long AlertId, string ObjectId, double Mjd, double Ra, double Dec,
    string? Label, float? LabelProbability, IReadOnlyDictionary<string, float> Probabilities,
    string ModelId, int PointCount, string Bands, string? Reason,
    string SourceOrigin, int SourcePartition, long SourceOffset, DateTimeOffset IngestedAt, DateTimeOffset ClassifiedAt,
    float? SNIaFamilyProbability = null);

/// <summary>
/// Writes the label record in Avro binary with the shared <see cref="AvroBinaryWriter"/> into a reused buffer: the
/// schema is small and fixed, so the fields are written in schema order with no generic datum walk and no allocation
/// per message (the Kafka client then copies the bytes). The container framing is a
/// <see cref="SingleRecordContainerWriter"/> whose sync marker is derived from the schema, so every label container
/// starts with the same header bytes. Not thread-safe: one encoder per producing thread.
/// </summary>
public sealed class LabelAvroEncoder : IDisposable
{
    public static readonly string SchemaJson = LoadSchema();
    private static readonly int ClassKeyCount = T2Classes.Count;
    /// <summary>Each class name as an Avro string (varint length + UTF-8), ready to copy as a map key.</summary>
    private static readonly byte[][] ClassKeyStrings = T2Classes.Names.Select(AvroString).ToArray();
    private static readonly SingleRecordContainerWriter Container = new(SchemaJson, SyncFromSchema(SchemaJson));

    private readonly AvroBinaryWriter _out = new(1024);

    public LabelAvroEncoder(LabelEncoding encoding, int schemaId = 0)
    {
        if (encoding == LabelEncoding.ConfluentWire && schemaId <= 0)
            throw new ArgumentException("Confluent wire encoding needs the schema id registered for alerts.label.Label (Kafka:Labels:SchemaId); or use SingleRecordContainer.", nameof(schemaId));
        Encoding = encoding;
        SchemaId = schemaId;
    }

    public LabelEncoding Encoding { get; }
    public int SchemaId { get; }

    /// <summary>Encodes one label; the span is valid until the next call.</summary>
    public ReadOnlySpan<byte> Encode(Classification c)
    {
        if (Encoding == LabelEncoding.ConfluentWire)
        {
            // Header, then the body straight after it: no copy.
            _out.Reset();
            _out.WriteByte(0);
            _out.WriteInt32BigEndian(SchemaId);
            WriteBody(_out, c);
            return _out.WrittenSpan;
        }
        // Container: room for the header and block prefix, the body, then the prefix in front of it (no body copy).
        int start = Container.Begin(_out);
        WriteBody(_out, c);
        Container.End(_out, start);
        return _out.WrittenSpan;
    }

    private static void WriteBody(AvroBinaryWriter w, Classification c)
    {
        var id = c.Identity;
        w.WriteString(id.Survey.Name());
        w.WriteLong(id.AlertId);
        w.WriteString(id.ObjectId);
        w.WriteDouble(id.Mjd); w.WriteDouble(id.Ra); w.WriteDouble(id.Dec);
        if (c.Label is null) w.WriteUnionIndex(0); else { w.WriteUnionIndex(1); w.WriteString(c.Label); }
        if (c.Label is null) w.WriteUnionIndex(0); else { w.WriteUnionIndex(1); w.WriteFloat(c.LabelProbability); }
        int n = c.IsClassified ? Math.Min(c.Probabilities.Length, ClassKeyCount) : 0;
        w.WriteBlockStart(n);
        for (int k = 0; k < n; k++)
        {
            w.WriteRaw(ClassKeyStrings[k]);
            w.WriteFloat(c.Probabilities[k]);
        }
        w.WriteBlockEnd();
        w.WriteString(c.ModelId);
        w.WriteInt(c.PointCount);
        w.WriteString(c.Bands);
        if (c.Reason is null) w.WriteUnionIndex(0); else { w.WriteUnionIndex(1); w.WriteString(c.Reason); }
        w.WriteString(c.Source.Origin ?? "");
        w.WriteInt(c.Source.IsKafka ? c.Source.Partition : -1);
        w.WriteLong(c.Source.Offset);
        w.WriteLong(Micros(c.IngestedAt));
        w.WriteLong(Micros(c.ClassifiedAt));
        if (c.SNIaFamilyProbability is not { } ia) w.WriteUnionIndex(0); else { w.WriteUnionIndex(1); w.WriteFloat(ia); }
    }

    private static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;

    private static byte[] AvroString(string s)
    {
        using var w = new AvroBinaryWriter(64);
        w.WriteString(s);
        return w.ToArray();
    }

    public void Dispose() => _out.Dispose();

    private static string LoadSchema()
    {
        using var s = typeof(LabelAvroEncoder).Assembly.GetManifestResourceStream("alerts.label.avsc")
            ?? throw new InvalidOperationException("alerts.label.avsc is not embedded in Alerts.Sink");
        return new StreamReader(s).ReadToEnd();
    }

    /// <summary>A fixed sync marker derived from the schema: every single-record container we write is byte-identical in its header.</summary>
    private static byte[] SyncFromSchema(string schemaJson) =>
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(schemaJson)).AsSpan(0, 16).ToArray();
}

/// <summary>Reads label messages in either framing (tests, replay tools, downstream .NET consumers).</summary>
public static class LabelAvroDecoder
{
    public static LabelMessage Decode(ReadOnlySpan<byte> value)
    {
        var r = new Reader(value);
        if (value.Length >= 5 && value[0] == 0)
        {
            r.Pos = 5;
            return ReadBody(ref r, value.Length);
        }
        if (value.Length >= 4 && value[0] == 'O' && value[1] == 'b' && value[2] == 'j' && value[3] == 1)
        {
            r.Pos = 4;
            string? codec = null;
            for (long n = r.Long(); n != 0; n = r.Long())
            {
                if (n < 0) { n = -n; r.Long(); }
                for (long i = 0; i < n; i++) { var k = r.String(); var v = r.Bytes(); if (k == "avro.codec") codec = System.Text.Encoding.UTF8.GetString(v); }
            }
            if (codec is not null and not "null") throw new FormatException($"label container uses codec '{codec}'; only 'null' is written by Alerts");
            r.Pos += 16;
            long count = r.Long();
            if (count != 1) throw new FormatException($"label container holds {count} records; expected exactly 1");
            long size = r.Long();
            if (size < 0 || size > value.Length - r.Pos) throw new FormatException($"label container block of {size} bytes does not fit in the {value.Length - r.Pos} left");
            return ReadBody(ref r, r.Pos + (int)size);
        }
        throw new FormatException("not a label message: neither Confluent wire format (0x00 + schema id) nor an Avro container ('Obj' 0x01)");
    }

    /// <summary>Reads one record ending at <paramref name="end"/>; a v1 record ends before p_SNIa_family.</summary>
    private static LabelMessage ReadBody(ref Reader r, int end)
    {
        var survey = r.String(); var alertId = r.Long(); var objectId = r.String();
        var mjd = r.Double(); var ra = r.Double(); var dec = r.Double();
        string? label = r.Long() == 1 ? r.String() : null;
        float? lp = r.Long() == 1 ? r.Float() : null;
        var probs = new Dictionary<string, float>();
        for (long n = r.Long(); n != 0; n = r.Long())
        {
            if (n < 0) { n = -n; r.Long(); }
            for (long i = 0; i < n; i++) { var k = r.String(); probs[k] = r.Float(); }
        }
        var model = r.String(); var points = (int)r.Long(); var bands = r.String();
        string? reason = r.Long() == 1 ? r.String() : null;
        var origin = r.String(); var part = (int)r.Long(); var off = r.Long();
        var ing = DateTimeOffset.UnixEpoch.AddTicks(r.Long() * 10);
        var cls = DateTimeOffset.UnixEpoch.AddTicks(r.Long() * 10);
        float? ia = r.Pos < end && r.Long() == 1 ? r.Float() : null;
        return new LabelMessage(survey, alertId, objectId, mjd, ra, dec, label, lp, probs, model, points, bands, reason, origin, part, off, ing, cls, ia);
    }

    private ref struct Reader(ReadOnlySpan<byte> s)
    {
        private readonly ReadOnlySpan<byte> _s = s;
        public int Pos;
        public long Long()
        {
            ulong z = 0; int shift = 0;
            while (true)
            {
                if (Pos >= _s.Length) throw new FormatException("label message truncated inside a varint");
                byte b = _s[Pos++];
                z |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) break;
                shift += 7;
                if (shift > 63) throw new FormatException("varint longer than 10 bytes");
            }
            return (long)(z >> 1) ^ -(long)(z & 1);
        }
        public double Double() { var d = BinaryPrimitives.ReadDoubleLittleEndian(_s.Slice(Pos, 8)); Pos += 8; return d; }
        public float Float() { var f = BinaryPrimitives.ReadSingleLittleEndian(_s.Slice(Pos, 4)); Pos += 4; return f; }
        public ReadOnlySpan<byte> Bytes() { int n = checked((int)Long()); var b = _s.Slice(Pos, n); Pos += n; return b; }
        public string String() => System.Text.Encoding.UTF8.GetString(Bytes());
    }
}
