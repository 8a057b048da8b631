using System.Buffers.Binary;
using System.Text;

namespace Alerts.Interop.TfCheckpoint;

/// <summary>One float32 variable of a TF checkpoint: its TF name (from the object graph), shape and values.</summary>
public sealed record CheckpointVariable(string Name, string CheckpointKey, int[] Shape, float[] Values);

/// <summary>
/// Reads a TensorFlow checkpoint bundle (a SavedModel's <c>variables/</c>): <c>variables.index</c> is a LevelDB-format
/// SSTable (uncompressed blocks) mapping checkpoint keys to BundleEntryProto (dtype, shape, shard, offset, size,
/// masked CRC32C); <c>variables.data-00000-of-00001</c> holds the raw little-endian tensors. The
/// <c>_CHECKPOINTABLE_OBJECT_GRAPH</c> entry (a TrackableObjectGraph proto) gives each key its TF variable name
/// (e.g. <c>transformer_block/multi_head_self_attention/dense/kernel</c>). Optimizer slots and metrics are skipped.
/// </summary>
public static class TfCheckpointBundle
{
    private const ulong TableMagic = 0xdb4775248b80fb57UL;

    public static Dictionary<string, CheckpointVariable> Read(string variablesDirectory)
    {
        string index = Path.Combine(variablesDirectory, "variables.index");
        string dataPath = Path.Combine(variablesDirectory, "variables.data-00000-of-00001");
        if (!File.Exists(index)) throw new FileNotFoundException($"{index}: not found; pass a SavedModel's variables/ folder", index);
        if (!File.Exists(dataPath)) throw new FileNotFoundException($"{dataPath}: not found (only single-shard bundles are supported)", dataPath);
        var entries = ReadTable(File.ReadAllBytes(index), index);
        var data = File.ReadAllBytes(dataPath);
        if (!entries.TryGetValue("_CHECKPOINTABLE_OBJECT_GRAPH", out var graphEntry))
            throw new InvalidDataException($"{index}: no _CHECKPOINTABLE_OBJECT_GRAPH entry; TF1 name-based checkpoints are not supported");
        var names = ObjectGraphNames(Slice(data, ParseEntry(graphEntry, "_CHECKPOINTABLE_OBJECT_GRAPH"), dataPath, "_CHECKPOINTABLE_OBJECT_GRAPH", checkCrc: false));

        var result = new Dictionary<string, CheckpointVariable>(StringComparer.Ordinal);
        foreach (var (key, value) in entries.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (key.Length == 0 || key == "_CHECKPOINTABLE_OBJECT_GRAPH" || key.Contains("optimizer", StringComparison.Ordinal) || key.StartsWith("keras_api/", StringComparison.Ordinal)) continue;
            var e = ParseEntry(value, key);
            if (e.DType != 1) continue;   // DT_FLOAT only: step counters and strings are not weights
            if (e.Shard != 0) throw new InvalidDataException($"{index}: '{key}' is in shard {e.Shard}; only single-shard bundles are supported");
            var bytes = Slice(data, e, dataPath, key, checkCrc: true);
            long count = e.Shape.Aggregate(1L, (a, d) => a * d);
            if (bytes.Length != count * 4) throw new InvalidDataException($"{dataPath}: '{key}' has shape [{string.Join(",", e.Shape)}] but {bytes.Length} bytes");
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
            string name = names.TryGetValue(key, out var n) ? n : key;
            result[name] = new CheckpointVariable(name, key, e.Shape, values);
        }
        return result;
    }

    private sealed record Entry(int DType, int[] Shape, int Shard, long Offset, long Size, uint? Crc);

    private static ReadOnlySpan<byte> Slice(byte[] data, Entry e, string path, string key, bool checkCrc)
    {
        if (e.Offset < 0 || e.Size < 0 || e.Offset + e.Size > data.Length)
            throw new InvalidDataException($"{path}: '{key}' claims bytes [{e.Offset}, {e.Offset + e.Size}) but the file has {data.Length} (truncated?)");
        var s = data.AsSpan((int)e.Offset, (int)e.Size);
        if (checkCrc && e.Crc is { } expected && Crc32C.Mask(Crc32C.Compute(s)) != expected)
            throw new InvalidDataException($"{path}: '{key}' fails its CRC32C check (corrupt data file)");
        return s;
    }

    private static Entry ParseEntry(byte[] proto, string key)
    {
        int dtype = 0, shard = 0; long offset = 0, size = 0; uint? crc = null; int[] shape = [];
        foreach (var (field, wire, v, bytes) in Proto.Fields(proto, key))
        {
            switch (field)
            {
                case 1 when wire == 0: dtype = (int)v; break;
                case 2 when wire == 2: shape = Proto.Fields(bytes, key + " shape").Where(f => f.Field == 2).Select(f => (int)Proto.Fields(f.Bytes, key + " dim").FirstOrDefault(d => d.Field == 1).Value).ToArray(); break;
                case 3 when wire == 0: shard = (int)v; break;
                case 4 when wire == 0: offset = (long)v; break;
                case 5 when wire == 0: size = (long)v; break;
                case 6 when wire == 5: crc = (uint)v; break;
                case 7: throw new NotSupportedException($"'{key}' is stored as slices (partitioned variable); not supported");
            }
        }
        return new Entry(dtype, shape, shard, offset, size, crc);
    }

    // (String tensors are checksummed over TF's length-prefixed encoding, not these bytes; only float tensors are checked.)
    /// <summary>checkpoint_key -> full_name from the TrackableObjectGraph (a DT_STRING scalar: varint length, masked CRC of lengths, bytes).</summary>
    private static Dictionary<string, string> ObjectGraphNames(ReadOnlySpan<byte> tensor)
    {
        var bytes = tensor.ToArray();
        int pos = 0;
        ulong len = Proto.Varint(bytes, ref pos, "object graph length");
        pos += 4;
        if (pos + (long)len > bytes.Length) throw new InvalidDataException("object graph string is truncated");
        var graph = bytes.AsSpan(pos, (int)len).ToArray();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in Proto.Fields(graph, "object graph").Where(f => f.Field == 1))
            foreach (var attr in Proto.Fields(node.Bytes, "object graph node").Where(f => f.Field == 2))
            {
                string? full = null, ck = null;
                foreach (var f in Proto.Fields(attr.Bytes, "object graph attribute"))
                {
                    if (f.Field == 2) full = Encoding.UTF8.GetString(f.Bytes);
                    if (f.Field == 3) ck = Encoding.UTF8.GetString(f.Bytes);
                }
                if (full is not null && ck is not null) map[ck] = full;
            }
        return map;
    }

    /// <summary>All key/value pairs of an uncompressed LevelDB table (footer -> index block -> data blocks).</summary>
    private static Dictionary<string, byte[]> ReadTable(byte[] file, string path)
    {
        if (file.Length < 48) throw new InvalidDataException($"{path}: {file.Length} bytes is too short for a table footer");
        var footer = file.AsSpan(file.Length - 48);
        if (BinaryPrimitives.ReadUInt64LittleEndian(footer[40..]) != TableMagic) throw new InvalidDataException($"{path}: not a TF checkpoint index (table magic missing)");
        var fb = footer.ToArray();
        int p = 0;
        Proto.Varint(fb, ref p, "metaindex offset"); Proto.Varint(fb, ref p, "metaindex size");
        long indexOffset = (long)Proto.Varint(fb, ref p, "index offset"), indexSize = (long)Proto.Varint(fb, ref p, "index size");
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (_, handle) in Block(file, indexOffset, indexSize, path))
        {
            int q = 0;
            long off = (long)Proto.Varint(handle, ref q, "block offset"), size = (long)Proto.Varint(handle, ref q, "block size");
            foreach (var (k, v) in Block(file, off, size, path)) result[Encoding.UTF8.GetString(k)] = v;
        }
        return result;
    }

    private static List<(byte[] Key, byte[] Value)> Block(byte[] file, long offset, long size, string path)
    {
        if (offset < 0 || size < 4 || offset + size + 5 > file.Length) throw new InvalidDataException($"{path}: block [{offset}, +{size}) lies outside the file");
        byte type = file[offset + size];
        if (type != 0) throw new NotSupportedException($"{path}: block compression type {type} (snappy) is not supported; TF writes bundles uncompressed");
        var b = file.AsSpan((int)offset, (int)size).ToArray();
        int restarts = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(b.Length - 4));
        int end = b.Length - 4 - 4 * restarts;
        if (end < 0) throw new InvalidDataException($"{path}: block at {offset} has {restarts} restarts, more than fit");
        var list = new List<(byte[], byte[])>();
        var key = Array.Empty<byte>();
        int i = 0;
        while (i < end)
        {
            int shared = (int)Proto.Varint(b, ref i, "key"), nonShared = (int)Proto.Varint(b, ref i, "key"), valueLen = (int)Proto.Varint(b, ref i, "value");
            if (shared > key.Length || i + nonShared + valueLen > end) throw new InvalidDataException($"{path}: corrupt entry in block at {offset}");
            key = [.. key.AsSpan(0, shared), .. b.AsSpan(i, nonShared)];
            i += nonShared;
            list.Add((key, b.AsSpan(i, valueLen).ToArray()));
            i += valueLen;
        }
        return list;
    }
}

/// <summary>Just enough protobuf wire-format reading for BundleEntryProto and TrackableObjectGraph.</summary>
internal static class Proto
{
    public static ulong Varint(byte[] b, ref int pos, string what)
    {
        ulong r = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= b.Length) throw new InvalidDataException($"{what}: truncated varint");
            byte c = b[pos++];
            r |= (ulong)(c & 0x7f) << shift;
            if (c < 0x80) return r;
        }
        throw new InvalidDataException($"{what}: varint too long");
    }

    public static List<(int Field, int Wire, ulong Value, byte[] Bytes)> Fields(byte[] b, string what)
    {
        var list = new List<(int, int, ulong, byte[])>();
        int i = 0;
        while (i < b.Length)
        {
            ulong tag = Varint(b, ref i, what);
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            switch (wire)
            {
                case 0: list.Add((field, wire, Varint(b, ref i, what), [])); break;
                case 1: if (i + 8 > b.Length) throw new InvalidDataException($"{what}: truncated"); list.Add((field, wire, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(i)), [])); i += 8; break;
                case 5: if (i + 4 > b.Length) throw new InvalidDataException($"{what}: truncated"); list.Add((field, wire, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i)), [])); i += 4; break;
                case 2:
                {
                    int len = (int)Varint(b, ref i, what);
                    if (len < 0 || i + len > b.Length) throw new InvalidDataException($"{what}: truncated length-delimited field {field}");
                    list.Add((field, wire, 0, b.AsSpan(i, len).ToArray())); i += len; break;
                }
                default: throw new InvalidDataException($"{what}: unsupported wire type {wire}");
            }
        }
        return list;
    }
}

/// <summary>CRC32C (Castagnoli) and LevelDB's mask, as TF's tensor bundles store checksums.</summary>
internal static class Crc32C
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    public static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}
