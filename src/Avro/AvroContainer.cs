using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Alerts.Avro;

public enum AvroCodec : byte { Null, Deflate, Unsupported }

/// <summary>The parsed header of an Avro Object Container File: where the schema JSON, codec and data blocks are.</summary>
public readonly struct ContainerHeader
{
    public static ReadOnlySpan<byte> Magic => "Obj\x01"u8;

    public int SchemaStart { get; init; }
    public int SchemaLength { get; init; }
    public AvroCodec Codec { get; init; }
    public string CodecName { get; init; }
    public int SyncStart { get; init; }
    /// <summary>Offset of the first data block.</summary>
    public int DataStart => SyncStart + 16;

    public ReadOnlySpan<byte> SchemaJson(ReadOnlySpan<byte> file) => file.Slice(SchemaStart, SchemaLength);
    public ReadOnlySpan<byte> Sync(ReadOnlySpan<byte> file) => file.Slice(SyncStart, 16);

    public static bool HasMagic(ReadOnlySpan<byte> data) => data.Length >= 4 && data[..4].SequenceEqual(Magic);

    /// <summary>Parses the header; throws <see cref="AvroFormatException"/> when it is malformed or has no schema.</summary>
    public static ContainerHeader Parse(ReadOnlySpan<byte> file)
    {
        if (!HasMagic(file)) throw new AvroFormatException("not an Avro container file (the first 4 bytes are not 'Obj\\x01')", 0);
        var r = new AvroReader(file, 4);
        int schemaStart = -1, schemaLen = 0;
        var codec = AvroCodec.Null;
        string codecName = "null";
        while (true)
        {
            long count = r.ReadBlockCount(out _);
            if (count == 0) break;
            for (long i = 0; i < count; i++)
            {
                var key = r.ReadBytes();
                int vs = r.ReadBytesStart(out int vl);
                if (key.SequenceEqual("avro.schema"u8)) { schemaStart = vs; schemaLen = vl; }
                else if (key.SequenceEqual("avro.codec"u8))
                {
                    var v = file.Slice(vs, vl);
                    codec = v.SequenceEqual("null"u8) || vl == 0 ? AvroCodec.Null : v.SequenceEqual("deflate"u8) ? AvroCodec.Deflate : AvroCodec.Unsupported;
                    codecName = codec switch { AvroCodec.Null => "null", AvroCodec.Deflate => "deflate", _ => Encoding.UTF8.GetString(v) };
                }
            }
        }
        if (schemaStart < 0) throw new AvroFormatException("container header has no avro.schema entry", r.Position);
        int sync = r.Position;
        r.Skip(16);
        return new ContainerHeader { SchemaStart = schemaStart, SchemaLength = schemaLen, Codec = codec, CodecName = codecName, SyncStart = sync };
    }
}

/// <summary>One data block of a container file: record count and the (possibly compressed) bytes.</summary>
public readonly record struct ContainerBlock(long Count, int DataStart, int DataLength, int NextBlock);

public static class AvroContainer
{
    /// <summary>
    /// Reads the block at <paramref name="offset"/>. Returns false at the end of the file. Throws
    /// <see cref="AvroFormatException"/> for a truncated block or a sync marker that does not match the header.
    /// </summary>
    public static bool TryReadBlock(ReadOnlySpan<byte> file, in ContainerHeader header, int offset, out ContainerBlock block)
    {
        block = default;
        if (offset >= file.Length) return false;
        var r = new AvroReader(file, offset);
        long count = r.ReadLong();
        long size = r.ReadLong();
        if (count < 0 || size < 0) throw new AvroFormatException($"bad block header (count {count}, size {size})", offset);
        if (size > r.Remaining - 16) throw new AvroFormatException($"block of {size} bytes at byte {offset} runs past the end of the file ({file.Length} bytes)", offset);
        int start = r.Position;
        r.Skip((int)size);
        if (!r.ReadFixed(16).SequenceEqual(header.Sync(file)))
            throw new AvroFormatException($"sync marker after the block at byte {offset} does not match the header", r.Position - 16);
        block = new ContainerBlock(count, start, (int)size, r.Position);
        return true;
    }

    /// <summary>Finds the next sync marker at or after <paramref name="from"/>; returns the offset just after it, or -1.</summary>
    public static int ResyncAfter(ReadOnlySpan<byte> file, in ContainerHeader header, int from)
    {
        if (from >= file.Length) return -1;
        int i = file[from..].IndexOf(header.Sync(file));
        return i < 0 ? -1 : from + i + 16;
    }

    /// <summary>Inflates a deflate block (raw RFC 1951, as Avro specifies) into a pooled buffer; returns the length.</summary>
    public static int Inflate(ReadOnlySpan<byte> compressed, ref byte[] buffer) => Inflate(compressed, ref buffer, AvroLimits.Default.MaxInflatedBytes);

    /// <summary>As <see cref="Inflate(ReadOnlySpan{byte}, ref byte[])"/>, refusing (AvroFormatException, Limit "MaxInflatedBytes") a block that inflates past <paramref name="maxBytes"/>.</summary>
    public static int Inflate(ReadOnlySpan<byte> compressed, ref byte[] buffer, int maxBytes)
    {
        using var ms = new MemoryStream(compressed.ToArray(), writable: false);
        using var z = new DeflateStream(ms, CompressionMode.Decompress);
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                var nb = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, 1 << 16));
                buffer.AsSpan(0, total).CopyTo(nb);
                if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
                buffer = nb;
            }
            int n = z.Read(buffer, total, buffer.Length - total);
            if (n == 0) return total;
            total += n;
            if (total > maxBytes)
                throw new AvroFormatException($"a {compressed.Length}-byte deflate block inflates past MaxInflatedBytes {maxBytes}: refused (a compression bomb or a wrong codec)", 0, limit: "MaxInflatedBytes");
        }
    }

    /// <summary>Writes a container file header: magic, the metadata map {avro.schema, avro.codec} and the sync marker.</summary>
    public static void WriteHeader(AvroBinaryWriter w, string schemaJson, string codec, ReadOnlySpan<byte> sync)
    {
        if (sync.Length != 16) throw new ArgumentException("Avro sync markers are 16 bytes.", nameof(sync));
        w.WriteRaw(ContainerHeader.Magic);
        w.WriteBlockStart(2);
        w.WriteString("avro.schema"); w.WriteBytes(Encoding.UTF8.GetBytes(schemaJson));
        w.WriteString("avro.codec"); w.WriteBytes(Encoding.UTF8.GetBytes(codec));
        w.WriteBlockEnd();
        w.WriteFixed(sync);
    }

    /// <summary>Writes a container file holding <paramref name="records"/> (already-encoded datums) in one block.</summary>
    public static byte[] Write(string schemaJson, IReadOnlyList<ReadOnlyMemory<byte>> records, string codec = "null", byte[]? sync = null)
    {
        sync ??= Guid.NewGuid().ToByteArray();
        using var w = new AvroBinaryWriter(1024);
        WriteHeader(w, schemaJson, codec, sync);
        if (records.Count > 0)
        {
            var body = new MemoryStream();
            foreach (var rec in records) body.Write(rec.Span);
            byte[] data = body.ToArray();
            if (codec == "deflate")
            {
                var cs = new MemoryStream();
                using (var z = new DeflateStream(cs, CompressionLevel.Fastest, leaveOpen: true)) z.Write(data);
                data = cs.ToArray();
            }
            else if (codec != "null") throw new ArgumentException($"codec {codec} is not supported: use null or deflate", nameof(codec));
            w.WriteLong(records.Count);
            w.WriteLong(data.Length);
            w.WriteRaw(data);
            w.WriteFixed(sync);
        }
        return w.ToArray();
    }
}

/// <summary>Avro single-object encoding: C3 01, 8-byte little-endian CRC-64-AVRO fingerprint, datum.</summary>
public static class SingleObjectEncoding
{
    public const int HeaderLength = 10;

    public static bool HasMarker(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0xC3 && data[1] == 0x01;

    public static ulong Fingerprint(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(2, 8));

    public static byte[] Encode(ulong fingerprint, ReadOnlySpan<byte> datum)
    {
        var b = new byte[HeaderLength + datum.Length];
        b[0] = 0xC3; b[1] = 0x01;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(2), fingerprint);
        datum.CopyTo(b.AsSpan(HeaderLength));
        return b;
    }
}

/// <summary>Confluent wire format: 0x00, big-endian int32 schema id, datum.</summary>
public static class ConfluentWireFormat
{
    public const int HeaderLength = 5;

    public static bool HasMarker(ReadOnlySpan<byte> data) => data.Length >= HeaderLength && data[0] == 0x00;

    public static int SchemaId(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadInt32BigEndian(data.Slice(1, 4));

    public static byte[] Encode(int schemaId, ReadOnlySpan<byte> datum)
    {
        var b = new byte[HeaderLength + datum.Length];
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(1), schemaId);
        datum.CopyTo(b.AsSpan(HeaderLength));
        return b;
    }
}
