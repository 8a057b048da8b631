using System.Buffers.Binary;
using System.Text;

namespace Alerts.Compression.Evaluation;

/// <summary>One initializer of an .ort file: name, ONNX data type, dims and the bytes of its raw data.</summary>
public sealed record OrtInitializer(string Name, int DataType, long[] Dims, long RawBytes);

/// <summary>
/// Where the bytes of an ORT flatbuffer go, by part of ORT's schema (onnxruntime/core/flatbuffers/schema/ort.fbs).
/// Every byte is owned by the first object that reaches it (a vtable shared by many tables counts once);
/// <see cref="Unaccounted"/> is what no object covers: the root offset, file identifier and alignment padding.
/// </summary>
public sealed record OrtByteBreakdown(long TotalBytes, IReadOnlyList<(string Part, long Bytes)> Parts, long Unaccounted,
    IReadOnlyList<OrtInitializer> Initializers, IReadOnlyList<string> NodeOpTypes, int NodeArgs, int UnusedNodeArgs)
{
    public long Part(string name) => Parts.FirstOrDefault(p => p.Part == name).Bytes;
}

/// <summary>
/// Reads an ORT-format model (the flatbuffer ONNX Runtime writes with session.save_model_format = ORT) and attributes
/// its bytes to the parts of the schema: initializer data, initializer records, node-arg (value info) records, nodes,
/// node edges, runtime optimisation records, the kernel type string resolver. Written to find out why the .ort of a
/// small model is larger than the .onnx it was saved from. Bounds-checked: a corrupt file throws
/// <see cref="InvalidDataException"/> naming what was being read.
/// </summary>
public static class OrtFileLayout
{
    public const string InitializerData = "initializer raw data";
    public const string InitializerRecords = "initializer records (names, dims, tables)";
    public const string NodeArgs = "node_args (value names, types, shapes)";
    public const string UnusedNodeArgs = "node_args no node or graph input/output uses";
    public const string Nodes = "nodes (names, op types, input/output names, attributes)";
    public const string NodeEdges = "node_edges";
    public const string GraphIo = "graph inputs/outputs";
    public const string RuntimeOptimizations = "runtime optimisation records";
    public const string KernelTypeStrResolver = "kernel type string resolver";
    public const string Header = "session/model header (version, opsets, producer, metadata)";

    public static OrtByteBreakdown Analyze(byte[] ort)
    {
        var w = new Walker(ort);
        if (ort.Length < 8 || Encoding.ASCII.GetString(ort, 4, 4) != "ORTM")
            throw new InvalidDataException($"not an ORT-format model: the flatbuffer file identifier at bytes 4-7 is not 'ORTM' ({ort.Length} bytes)");
        int session = w.Table(0, Header, "InferenceSession");
        w.String(session, 0, Header, "ort_version");
        int? resolver = w.SubTable(session, 3, KernelTypeStrResolver, "kernel_type_str_resolver");
        int? model = w.SubTable(session, 1, Header, "model");
        var initializers = new List<OrtInitializer>();
        var opTypes = new List<string>();
        int nodeArgCount = 0, unusedNodeArgCount = 0;
        if (model is int m)
        {
            foreach (int opset in w.TableVector(m, 1, Header, "opset_import")) w.String(opset, 0, Header, "opset.domain");
            foreach (int f in new[] { 2, 3, 4, 6, 8 }) w.String(m, f, Header, "model string");
            foreach (int kv in w.TableVector(m, 9, Header, "metadata_props")) { w.String(kv, 0, Header, "key"); w.String(kv, 1, Header, "value"); }
            if (w.SubTable(m, 7, Header, "graph") is int g)
            {
                foreach (int t in w.TableVector(g, 0, InitializerRecords, "initializers")) initializers.Add(Tensor(w, t));
                var used = new HashSet<string>(StringComparer.Ordinal);
                foreach (int n in w.TableVector(g, 2, Nodes, "nodes")) opTypes.Add(Node(w, n, used));
                used.UnionWith(w.StringVector(g, 5, GraphIo, "inputs"));
                used.UnionWith(w.StringVector(g, 6, GraphIo, "outputs"));
                // ORT keeps the NodeArg of every value a fusion removed; those records are dead weight in the file.
                var nodeArgs = w.OffsetsOf(g, 1, NodeArgs, "node_args");
                nodeArgCount = nodeArgs.Count;
                foreach (long at in nodeArgs)
                {
                    string name = w.PeekTableString(at, 0) ?? "";
                    bool isUsed = used.Contains(name);
                    if (!isUsed) unusedNodeArgCount++;
                    ValueInfo(w, w.Table(at, isUsed ? NodeArgs : UnusedNodeArgs, "node_arg"), isUsed ? NodeArgs : UnusedNodeArgs);
                }
                foreach (int e in w.TableVector(g, 4, NodeEdges, "node_edges"))
                {
                    w.ScalarVector(e, 1, 12, NodeEdges, "input_edges");
                    w.ScalarVector(e, 2, 12, NodeEdges, "output_edges");
                }
                foreach (int s in w.TableVector(g, 7, InitializerRecords, "sparse_initializers"))
                {
                    if (w.SubTable(s, 0, InitializerRecords, "values") is int values) initializers.Add(Tensor(w, values));
                    if (w.SubTable(s, 1, InitializerRecords, "indices") is int indices) initializers.Add(Tensor(w, indices));
                    w.ScalarVector(s, 2, 8, InitializerRecords, "dims");
                }
                if (w.SubTable(g, 8, RuntimeOptimizations, "runtime_optimizations") is int ro)
                    foreach (int entry in w.TableVector(ro, 0, RuntimeOptimizations, "records"))
                    {
                        w.String(entry, 0, RuntimeOptimizations, "optimizer_name");
                        foreach (int rec in w.TableVector(entry, 1, RuntimeOptimizations, "runtime_optimization_records"))
                        {
                            w.String(rec, 0, RuntimeOptimizations, "action_id");
                            if (w.SubTable(rec, 1, RuntimeOptimizations, "nodes_to_optimize_indices") is int idx) w.ScalarVector(idx, 0, 4, RuntimeOptimizations, "node_indices");
                            w.StringVector(rec, 3, RuntimeOptimizations, "produced_op_ids");
                        }
                    }
            }
        }
        if (resolver is int r)
            foreach (int op in w.TableVector(r, 0, KernelTypeStrResolver, "op_kernel_type_str_args"))
            {
                w.String(op, 0, KernelTypeStrResolver, "op_id");
                foreach (int k in w.TableVector(op, 1, KernelTypeStrResolver, "kernel_type_str_args"))
                {
                    w.String(k, 0, KernelTypeStrResolver, "kernel_type_str");
                    foreach (int _ in w.TableVector(k, 1, KernelTypeStrResolver, "args")) { }
                }
            }
        var parts = w.Totals();
        return new OrtByteBreakdown(ort.Length, parts, ort.Length - parts.Sum(p => p.Bytes), initializers, opTypes, nodeArgCount, unusedNodeArgCount);
    }

    private static OrtInitializer Tensor(Walker w, int t)
    {
        string name = w.String(t, 0, InitializerRecords, "tensor.name") ?? "";
        w.String(t, 1, InitializerRecords, "tensor.doc_string");
        long[] dims = w.Int64Vector(t, 2, InitializerRecords, "tensor.dims");
        int dataType = w.Int32Field(t, 3);
        long raw = w.ScalarVector(t, 4, 1, InitializerData, "tensor.raw_data");
        w.StringVector(t, 5, InitializerData, "tensor.string_data");
        return new OrtInitializer(name, dataType, dims, raw);
    }

    private static void ValueInfo(Walker w, int v, string part)
    {
        w.String(v, 0, part, "value_info.name");
        w.String(v, 1, part, "value_info.doc_string");
        if (w.SubTable(v, 2, part, "type") is not int type) return;
        w.String(type, 0, part, "type.denotation");
        // union TypeInfoValue: slot 1 is the type tag, slot 2 the table; 1 = tensor_type
        if (w.Byte(type, 1) != 1 || w.SubTable(type, 2, part, "tensor_type") is not int tensorType) return;
        if (w.SubTable(tensorType, 1, part, "shape") is not int shape) return;
        foreach (int dim in w.TableVector(shape, 0, part, "dim"))
        {
            w.String(dim, 1, part, "dim.denotation");
            if (w.SubTable(dim, 0, part, "dim.value") is int dv) w.String(dv, 2, part, "dim_param");
        }
    }

    private static string Node(Walker w, int n, HashSet<string> used)
    {
        foreach (int f in new[] { 0, 1, 2, 7 }) w.String(n, f, Nodes, "node string");
        string op = w.String(n, 5, Nodes, "op_type") ?? "";
        used.UnionWith(w.StringVector(n, 8, Nodes, "inputs"));
        used.UnionWith(w.StringVector(n, 9, Nodes, "outputs"));
        w.ScalarVector(n, 11, 4, Nodes, "input_arg_counts");
        used.UnionWith(w.StringVector(n, 12, Nodes, "implicit_inputs"));
        foreach (int a in w.TableVector(n, 10, Nodes, "attributes"))
        {
            w.String(a, 0, Nodes, "attribute.name");
            w.String(a, 1, Nodes, "attribute.doc_string");
            w.String(a, 5, Nodes, "attribute.s");
            if (w.SubTable(a, 6, Nodes, "attribute.t") is int t) Tensor(w, t);
            w.ScalarVector(a, 8, 4, Nodes, "attribute.floats");
            w.ScalarVector(a, 9, 8, Nodes, "attribute.ints");
            w.StringVector(a, 10, Nodes, "attribute.strings");
            foreach (int t2 in w.TableVector(a, 11, Nodes, "attribute.tensors")) Tensor(w, t2);
        }
        return op;
    }

    /// <summary>Flatbuffer walker that records which part first reached each byte.</summary>
    private sealed class Walker(byte[] bytes)
    {
        private readonly int[] _owner = new int[bytes.Length];
        private readonly List<string> _parts = [];

        private void Need(long pos, long count, string what)
        {
            if (pos < 0 || count < 0 || pos + count > bytes.Length)
                throw new InvalidDataException($"{what}: needs bytes [{pos}, {pos + count}) but the .ort file has {bytes.Length} bytes (truncated or corrupt flatbuffer)");
        }

        private void Claim(long pos, long count, string part)
        {
            int id = _parts.IndexOf(part);
            if (id < 0) { _parts.Add(part); id = _parts.Count - 1; }
            for (long i = pos; i < pos + count; i++) if (_owner[i] == 0) _owner[i] = id + 1;
        }

        private uint U32(long pos, string what) { Need(pos, 4, what); return BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)pos)); }

        /// <summary>Follows the uoffset at <paramref name="pos"/> to a table; claims its body and vtable.</summary>
        public int Table(long pos, string part, string what)
        {
            long table = pos + U32(pos, what);
            Need(table, 4, what);
            long vtable = table - BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)table));
            Need(vtable, 4, what + " vtable");
            int vtSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)vtable));
            int objSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)vtable + 2));
            Need(vtable, vtSize, what + " vtable");
            Need(table, objSize, what + " body");
            Claim(table, objSize, part);
            Claim(vtable, vtSize, part);
            return (int)table;
        }

        private int FieldPos(int table, int index)
        {
            long vtable = table - BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(table));
            int vtSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)vtable));
            int slot = 4 + 2 * index;
            if (slot + 2 > vtSize) return -1;
            int rel = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)vtable + slot));
            return rel == 0 ? -1 : table + rel;
        }

        public int? SubTable(int table, int index, string part, string what)
        {
            int p = FieldPos(table, index);
            return p < 0 ? null : Table(p, part, what);
        }

        public byte Byte(int table, int index) { int p = FieldPos(table, index); return p < 0 ? (byte)0 : bytes[p]; }

        public int Int32Field(int table, int index)
        {
            int p = FieldPos(table, index);
            if (p < 0) return 0;
            Need(p, 4, "int32 field");
            return BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(p));
        }

        /// <summary>Claims a vector of fixed-size elements (scalars or structs); returns its element bytes.</summary>
        public long ScalarVector(int table, int index, int elementSize, string part, string what)
        {
            int p = FieldPos(table, index);
            if (p < 0) return 0;
            long start = p + U32(p, what);
            long count = U32(start, what + " length");
            Need(start + 4, count * elementSize, what);
            Claim(start, 4 + count * elementSize, part);
            return count * elementSize;
        }

        public long[] Int64Vector(int table, int index, string part, string what)
        {
            int p = FieldPos(table, index);
            if (p < 0) return [];
            long start = p + U32(p, what);
            long n = ScalarVector(table, index, 8, part, what) / 8;
            var a = new long[n];
            for (int i = 0; i < n; i++) a[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)start + 4 + 8 * i));
            return a;
        }

        public string? String(int table, int index, string part, string what)
        {
            int p = FieldPos(table, index);
            return p < 0 ? null : StringAt(p, part, what);
        }

        private string StringAt(long pos, string part, string what)
        {
            long start = pos + U32(pos, what);
            long len = U32(start, what + " length");
            Need(start + 4, len + 1, what);
            Claim(start, 4 + len + 1, part); // length, bytes, NUL terminator
            return Encoding.UTF8.GetString(bytes, (int)start + 4, (int)len);
        }

        private (long Start, long Count) OffsetVector(int table, int index, string part, string what)
        {
            int p = FieldPos(table, index);
            if (p < 0) return (0, 0);
            long start = p + U32(p, what);
            long count = U32(start, what + " length");
            Need(start + 4, count * 4, what);
            Claim(start, 4 + count * 4, part);
            return (start, count);
        }

        public List<int> TableVector(int table, int index, string part, string what)
        {
            var (start, count) = OffsetVector(table, index, part, what);
            var list = new List<int>((int)count);
            for (long i = 0; i < count; i++) list.Add(Table(start + 4 + 4 * i, part, $"{what}[{i}]"));
            return list;
        }

        public List<string> StringVector(int table, int index, string part, string what)
        {
            var (start, count) = OffsetVector(table, index, part, what);
            var list = new List<string>((int)count);
            for (long i = 0; i < count; i++) list.Add(StringAt(start + 4 + 4 * i, part, $"{what}[{i}]"));
            return list;
        }

        /// <summary>Claims a vector of table offsets and returns the positions of its uoffsets (tables not yet claimed).</summary>
        public List<long> OffsetsOf(int table, int index, string part, string what)
        {
            var (start, count) = OffsetVector(table, index, part, what);
            var list = new List<long>((int)count);
            for (long i = 0; i < count; i++) list.Add(start + 4 + 4 * i);
            return list;
        }

        /// <summary>Reads string field <paramref name="index"/> of the table the uoffset at <paramref name="at"/> points to, claiming nothing.</summary>
        public string? PeekTableString(long at, int index)
        {
            int table = (int)(at + U32(at, "table offset"));
            Need(table, 4, "table");
            int p = FieldPos(table, index);
            if (p < 0) return null;
            long start = p + U32(p, "string offset");
            long len = U32(start, "string length");
            Need(start + 4, len, "string");
            return Encoding.UTF8.GetString(bytes, (int)start + 4, (int)len);
        }

        public List<(string Part, long Bytes)> Totals()
        {
            var sums = new long[_parts.Count];
            foreach (int o in _owner) if (o > 0) sums[o - 1]++;
            return _parts.Select((p, i) => (p, sums[i])).ToList();
        }
    }
}
