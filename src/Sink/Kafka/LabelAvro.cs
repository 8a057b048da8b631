using System.Buffers.Binary;
using System.Reflection;
using System.Text;
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

/// <summary>The decoded label message (schema alerts.label.Label v1, <c>schemas/labels/alerts.label.avsc</c>).</summary>
public sealed record LabelMessage(
    string Survey, long AlertId, string ObjectId, double Mjd, double Ra, double Dec,
    string? Label, float? LabelProbability, IReadOnlyDictionary<string, float> Probabilities,
    string ModelId, int PointCount, string Bands, string? Reason,
    string SourceOrigin, int SourcePartition, long SourceOffset, DateTimeOffset IngestedAt, DateTimeOffset ClassifiedAt);

/// <summary>
/// Writes the label record in Avro binary by hand: the schema is small and fixed, and a hand-written encoder into a
/// reused buffer costs no allocation per message (the Kafka client then copies the bytes).
/// Not thread-safe: one encoder per producing thread.
/// </summary>
public sealed class LabelAvroEncoder
{
    public static readonly string SchemaJson = LoadSchema();
    private static readonly byte[][] ClassKeys = T2Classes.Names.Select(n => System.Text.Encoding.UTF8.GetBytes(n)).ToArray();
    /// <summary>Each class name as an Avro string (varint length + UTF-8), ready to copy as a map key.</summary>
    private static readonly byte[][] ClassKeyStrings = ClassKeys.Select(k => (byte[])[(byte)(k.Length << 1), .. k]).ToArray();
    private static readonly byte[] OcfHeaderCache = BuildOcfHeader(out _);
    private static readonly byte[] Sync = BuildSync();

    private byte[] _buf = new byte[1024];
    private byte[] _body = new byte[1024];
    private int _pos;

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
            _pos = 0;
            Ensure(5);
            _buf[0] = 0;
            BinaryPrimitives.WriteInt32BigEndian(_buf.AsSpan(1), SchemaId);
            _pos = 5;
            WriteBody(c);
            return _buf.AsSpan(0, _pos);
        }
        // Container: body first (its length is needed for the block header).
        (_buf, _body) = (_body, _buf);
        _pos = 0;
        WriteBody(c);
        int bodyLen = _pos;
        (_buf, _body) = (_body, _buf); // _body now holds the body
        _pos = 0;
        Ensure(OcfHeaderCache.Length + 20 + bodyLen + 16);
        OcfHeaderCache.CopyTo(_buf, 0);
        _pos = OcfHeaderCache.Length;
        WriteLong(1);        // objects in block
        WriteLong(bodyLen);  // block size in bytes
        Ensure(bodyLen + 16);
        _body.AsSpan(0, bodyLen).CopyTo(_buf.AsSpan(_pos));
        _pos += bodyLen;
        Sync.CopyTo(_buf, _pos);
        _pos += Sync.Length;
        return _buf.AsSpan(0, _pos);
    }

    private void WriteBody(Classification c)
    {
        var id = c.Identity;
        WriteString(id.Survey.Name());
        WriteLong(id.AlertId);
        WriteString(id.ObjectId);
        WriteDouble(id.Mjd); WriteDouble(id.Ra); WriteDouble(id.Dec);
        if (c.Label is null) WriteLong(0); else { WriteLong(1); WriteString(c.Label); }
        if (c.Label is null) WriteLong(0); else { WriteLong(1); WriteFloat(c.LabelProbability); }
        int n = c.IsClassified ? Math.Min(c.Probabilities.Length, ClassKeys.Length) : 0;
        if (n > 0)
        {
            WriteLong(n);
            Ensure(n * 24);
            for (int k = 0; k < n; k++)
            {
                var key = ClassKeyStrings[k];
                key.CopyTo(_buf, _pos);
                _pos += key.Length;
                BinaryPrimitives.WriteSingleLittleEndian(_buf.AsSpan(_pos), c.Probabilities[k]);
                _pos += 4;
            }
        }
        WriteLong(0);
        WriteString(c.ModelId);
        WriteLong(c.PointCount);
        WriteString(c.Bands);
        if (c.Reason is null) WriteLong(0); else { WriteLong(1); WriteString(c.Reason); }
        WriteString(c.Source.Origin ?? "");
        WriteLong(c.Source.IsKafka ? c.Source.Partition : -1);
        WriteLong(c.Source.Offset);
        WriteLong(Micros(c.IngestedAt));
        WriteLong(Micros(c.ClassifiedAt));
    }

    private static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;

    private void Ensure(int more)
    {
        if (_pos + more > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _pos + more));
    }

    private void WriteLong(long v)
    {
        Ensure(10);
        ulong z = (ulong)((v << 1) ^ (v >> 63));
        while (z >= 0x80) { _buf[_pos++] = (byte)(z | 0x80); z >>= 7; }
        _buf[_pos++] = (byte)z;
    }

    private void WriteDouble(double d) { Ensure(8); BinaryPrimitives.WriteDoubleLittleEndian(_buf.AsSpan(_pos), d); _pos += 8; }
    private void WriteFloat(float f) { Ensure(4); BinaryPrimitives.WriteSingleLittleEndian(_buf.AsSpan(_pos), f); _pos += 4; }

    private void WriteString(string s)
    {
        // Fast path, nearly every string here (ids, labels, bands, topics): under 64 UTF-8 bytes the length is a
        // one-byte varint, so encode straight after a reserved byte and fill it in; no separate byte count.
        if (s.Length < 64)
        {
            Ensure(1 + 3 * s.Length);
            int written = System.Text.Encoding.UTF8.GetBytes(s, _buf.AsSpan(_pos + 1));
            if (written < 64)
            {
                _buf[_pos] = (byte)(written << 1); // zigzag(written)
                _pos += 1 + written;
                return;
            }
        }
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length);
        Ensure(max + 10);
        // Length prefix needs the exact byte count; ASCII (the usual case) is length == byte count.
        int len = System.Text.Encoding.UTF8.GetByteCount(s);
        WriteLong(len);
        System.Text.Encoding.UTF8.GetBytes(s, _buf.AsSpan(_pos));
        _pos += len;
    }

    private void WriteBytes(byte[] b) { WriteLong(b.Length); Ensure(b.Length); b.CopyTo(_buf, _pos); _pos += b.Length; }

    private static string LoadSchema()
    {
        using var s = typeof(LabelAvroEncoder).Assembly.GetManifestResourceStream("alerts.label.avsc")
            ?? throw new InvalidOperationException("alerts.label.avsc is not embedded in Alerts.Sink");
        return new StreamReader(s).ReadToEnd();
    }

    private static byte[] BuildSync()
    {
        // A fixed sync marker derived from the schema: every single-record container we write is byte-identical in its header.
        var h = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(LoadSchema()));
        return h.AsSpan(0, 16).ToArray();
    }

    private static byte[] BuildOcfHeader(out int length)
    {
        var e = new LabelAvroEncoder(LabelEncoding.ConfluentWire, 1);
        e._pos = 0;
        e.Ensure(4); e._buf[0] = (byte)'O'; e._buf[1] = (byte)'b'; e._buf[2] = (byte)'j'; e._buf[3] = 1; e._pos = 4;
        e.WriteLong(2);
        e.WriteString("avro.schema"); e.WriteBytes(System.Text.Encoding.UTF8.GetBytes(LoadSchema()));
        e.WriteString("avro.codec"); e.WriteBytes("null"u8.ToArray());
        e.WriteLong(0);
        var sync = BuildSync();
        e.Ensure(16); sync.CopyTo(e._buf, e._pos); e._pos += 16;
        length = e._pos;
        return e._buf.AsSpan(0, e._pos).ToArray();
    }
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
            return ReadBody(ref r);
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
            r.Long();
            return ReadBody(ref r);
        }
        throw new FormatException("not a label message: neither Confluent wire format (0x00 + schema id) nor an Avro container ('Obj' 0x01)");
    }

    private static LabelMessage ReadBody(ref Reader r)
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
        return new LabelMessage(survey, alertId, objectId, mjd, ra, dec, label, lp, probs, model, points, bands, reason, origin, part, off, ing, cls);
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
