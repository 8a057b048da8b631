namespace Alerts.Interop.TfLite;

/// <summary>TFLite tensor element types (schema.fbs <c>TensorType</c>), the ones this importer can meet.</summary>
public enum TfLiteType : sbyte
{
    Float32 = 0, Float16 = 1, Int32 = 2, UInt8 = 3, Int64 = 4, String = 5, Bool = 6, Int16 = 7, Complex64 = 8,
    Int8 = 9, Float64 = 10, Complex128 = 11, UInt64 = 12, Resource = 13, Variant = 14, UInt32 = 15, UInt16 = 16, Int4 = 17,
}

/// <summary>TFLite builtin operator codes (schema.fbs <c>BuiltinOperator</c>) used by the importer; others keep their number.</summary>
public enum TfLiteOp
{
    Add = 0, Concatenation = 2, Conv2D = 3, Dequantize = 6, FullyConnected = 9, Logistic = 14, Mul = 18, Relu = 19,
    Relu6 = 21, Reshape = 22, Softmax = 25, Tanh = 28, Custom = 32, Gather = 36, Transpose = 39, Mean = 40, Sub = 41,
    Div = 42, Squeeze = 43, StridedSlice = 45, ExpandDims = 70, Sqrt = 75, Rsqrt = 76, Shape = 77, ReduceProd = 81,
    Pack = 83, SquaredDifference = 99, BatchMatMul = 126, CallOnce = 129, VarHandle = 142, ReadVariable = 143,
    AssignVariable = 144,
}

/// <summary>Per-tensor or per-axis affine quantization: real = scale * (q - zero_point).</summary>
public sealed record TfLiteQuantization(float[] Scale, long[] ZeroPoint, int QuantizedDimension)
{
    public bool IsPerChannel => Scale.Length > 1;
}

public sealed record TfLiteTensor(
    int Index, string Name, TfLiteType Type, int[] Shape, int[]? ShapeSignature, int Buffer, TfLiteQuantization? Quantization, bool IsVariable)
{
    /// <summary>Shape with -1 for dynamic dimensions (shape_signature when present).</summary>
    public int[] DeclaredShape => ShapeSignature ?? Shape;
}

/// <summary>One operator. <see cref="Options"/> is the builtin_options table, read per operator by field index.</summary>
public sealed class TfLiteOperator
{
    public required int Index { get; init; }
    public required int OpCode { get; init; }
    public required string? CustomCode { get; init; }
    public required int Version { get; init; }
    public required int[] Inputs { get; init; }
    public required int[] Outputs { get; init; }
    internal FlatBufferReader.Table? Options { get; init; }

    public string OpName => CustomCode is not null ? $"CUSTOM({CustomCode})"
        : TfLiteBuiltinNames.Of(OpCode);

    internal int OptInt(int field, int fallback = 0) => Options is { } t ? t.Int32(field, fallback) : fallback;
    internal bool OptBool(int field, bool fallback = false) => Options is { } t ? t.Bool(field, fallback) : fallback;
    internal byte OptByte(int field, byte fallback = 0) => Options is { } t ? t.UInt8(field, fallback) : fallback;
    internal float OptFloat(int field, float fallback) => Options is { } t ? t.Float32(field, fallback) : fallback;
    internal int[]? OptInts(int field, string name) => Options is { } t ? t.Int32Vector(field, name) : null;
    internal string? OptString(int field, string name) => Options is { } t ? t.String(field, name) : null;
}

public sealed class TfLiteSubgraph
{
    public required string Name { get; init; }
    public required IReadOnlyList<TfLiteTensor> Tensors { get; init; }
    public required int[] Inputs { get; init; }
    public required int[] Outputs { get; init; }
    public required IReadOnlyList<TfLiteOperator> Operators { get; init; }
}

/// <summary>
/// A parsed .tflite model (schema version 3): operator codes, subgraphs and constant buffers. Parsing reads only
/// the tables the importer needs, with every offset bounds-checked (<see cref="FlatBufferReader"/>).
/// </summary>
public sealed class TfLiteModel
{
    public required uint Version { get; init; }
    public required string? Description { get; init; }
    public required IReadOnlyList<TfLiteSubgraph> Subgraphs { get; init; }
    public required IReadOnlyList<ReadOnlyMemory<byte>> Buffers { get; init; }
    public required IReadOnlyDictionary<string, string> SignatureNames { get; init; }

    public TfLiteSubgraph Main => Subgraphs[0];

    public static TfLiteModel Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new InvalidDataException($"{path}: cannot read ({e.Message})", e); }
        try { return Parse(bytes); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    public static TfLiteModel Parse(ReadOnlyMemory<byte> bytes)
    {
        try { return ParseChecked(bytes); }
        catch (InvalidDataException e) when (!e.Message.StartsWith("not a", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"not a valid TFLite model (schema v3 flatbuffer): {e.Message}", e);
        }
    }

    private static TfLiteModel ParseChecked(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length < 8) throw new InvalidDataException($"not a TFLite model: {bytes.Length} bytes is too short for a flatbuffer header");
        var span = bytes.Span;
        // The file identifier "TFL3" sits at bytes 4..8; old converters omitted it, so only a present, different one is fatal.
        string ident = System.Text.Encoding.ASCII.GetString(span[4..8]);
        if (ident != "TFL3" && ident.All(c => c is >= ' ' and <= '~') && ident.Any(char.IsLetter))
            throw new InvalidDataException($"not a TFLite model: flatbuffer file identifier is '{ident}', expected 'TFL3'");
        var r = new FlatBufferReader(bytes);
        var model = r.Root("Model");
        uint version = model.UInt32(0, 0, "version");
        if (version != 3) throw new InvalidDataException($"Model.version is {version}; this importer reads TFLite schema version 3");

        var codes = new List<(int Code, string? Custom, int Version)>();
        foreach (var oc in model.TableVector(1, "operator_codes"))
        {
            int deprecated = oc.Int8(0, 0, "deprecated_builtin_code");
            int extended = oc.Int32(3, 0, "builtin_code");
            // Old files only fill the byte field; new ones use 127 (placeholder) there for codes above 127.
            int code = Math.Max(deprecated, extended);
            codes.Add((code, code == (int)TfLiteOp.Custom ? oc.String(1, "custom_code") ?? "" : null, oc.Int32(2, 1, "version")));
        }

        var buffers = new List<ReadOnlyMemory<byte>>();
        var bufferTables = model.TableVector(4, "buffers");
        for (int i = 0; i < bufferTables.Count; i++)
        {
            var b = bufferTables[i];
            ulong offset = b.Has(1) ? ReadUInt64(r, b, 1) : 0;
            if (offset > 1) throw new InvalidDataException($"Model.buffers[{i}] is stored outside the flatbuffer (offset {offset}, models over 2 GB); not supported");
            buffers.Add(b.VectorBytes(0, 1, $"data") ?? ReadOnlyMemory<byte>.Empty);
        }

        var subgraphs = new List<TfLiteSubgraph>();
        var sgTables = model.TableVector(2, "subgraphs");
        if (sgTables.Count == 0) throw new InvalidDataException("Model.subgraphs is empty: the file holds no graph");
        for (int s = 0; s < sgTables.Count; s++)
        {
            var sg = sgTables[s];
            var tensors = new List<TfLiteTensor>();
            var tTables = sg.TableVector(0, "tensors");
            for (int t = 0; t < tTables.Count; t++)
            {
                var tt = tTables[t];
                if (tt.Has(6)) throw new InvalidDataException($"subgraph {s} tensor {t} ('{tt.String(3, "name")}') is sparse (Tensor.sparsity); sparse tensors are not supported");
                int buffer = (int)tt.UInt32(2, 0, "buffer");
                if (buffer < 0 || buffer >= Math.Max(1, buffers.Count))
                    throw new InvalidDataException($"subgraph {s} tensor {t} refers to buffer {buffer} but the model has {buffers.Count} buffers");
                TfLiteQuantization? q = null;
                if (tt.SubTable(4, "quantization") is { } qt)
                {
                    if (qt.UInt8(4, 0, "details_type") != 0)
                        throw new InvalidDataException($"subgraph {s} tensor {t} uses custom/blockwise QuantizationDetails; only affine scale/zero_point quantization is supported");
                    var scale = qt.Float32Vector(2, "scale");
                    if (scale is { Length: > 0 })
                        q = new TfLiteQuantization(scale, qt.Int64Vector(3, "zero_point") ?? new long[scale.Length], qt.Int32(6, 0, "quantized_dimension"));
                }
                tensors.Add(new TfLiteTensor(t, tt.String(3, "name") ?? $"tensor_{t}", (TfLiteType)tt.Int8(1, 0, "type"),
                    tt.Int32Vector(0, "shape") ?? [], tt.Int32Vector(7, "shape_signature"), buffer, q, tt.Bool(5, false, "is_variable")));
            }
            var ops = new List<TfLiteOperator>();
            var oTables = sg.TableVector(3, "operators");
            for (int o = 0; o < oTables.Count; o++)
            {
                var ot = oTables[o];
                int opcodeIndex = (int)ot.UInt32(0, 0, "opcode_index");
                if (opcodeIndex < 0 || opcodeIndex >= codes.Count)
                    throw new InvalidDataException($"subgraph {s} operator {o} has opcode_index {opcodeIndex} but the model has {codes.Count} operator codes");
                var (code, custom, ver) = codes[opcodeIndex];
                var inputs = ot.Int32Vector(1, "inputs") ?? [];
                var outputs = ot.Int32Vector(2, "outputs") ?? [];
                foreach (var i in inputs.Concat(outputs))
                    if (i < -1 || i >= tensors.Count) throw new InvalidDataException($"subgraph {s} operator {o} refers to tensor {i} but the subgraph has {tensors.Count} tensors");
                ops.Add(new TfLiteOperator
                {
                    Index = o, OpCode = code, CustomCode = custom, Version = ver, Inputs = inputs, Outputs = outputs,
                    Options = ot.SubTable(4, $"operators[{o}].builtin_options"),
                });
            }
            int[] sgInputs = sg.Int32Vector(1, "inputs") ?? [], sgOutputs = sg.Int32Vector(2, "outputs") ?? [];
            foreach (var i in sgInputs.Concat(sgOutputs))
                if (i < 0 || i >= tensors.Count) throw new InvalidDataException($"subgraph {s} input/output refers to tensor {i} but the subgraph has {tensors.Count} tensors");
            subgraphs.Add(new TfLiteSubgraph { Name = sg.String(4, "name") ?? $"subgraph_{s}", Tensors = tensors, Inputs = sgInputs, Outputs = sgOutputs, Operators = ops });
        }

        return new TfLiteModel
        {
            Version = version, Description = model.String(3, "description"), Subgraphs = subgraphs, Buffers = buffers,
            SignatureNames = new Dictionary<string, string>(),
        };
    }

    private static ulong ReadUInt64(FlatBufferReader r, FlatBufferReader.Table t, int field)
    {
        int p = t.FieldPos(field);
        r.Need(p, 8, t.What + ".offset");
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(r.Bytes.Span[p..]);
    }

    /// <summary>Constant data of a tensor, or empty if it has none (activations, graph inputs).</summary>
    public ReadOnlyMemory<byte> Data(TfLiteTensor t) => t.Buffer > 0 && t.Buffer < Buffers.Count ? Buffers[t.Buffer] : ReadOnlyMemory<byte>.Empty;
}

public static class TfLiteModelText
{
    /// <summary>One line per operator: index, name, input and output tensors with types and shapes (for --describe and debugging).</summary>
    public static string Describe(TfLiteModel model)
    {
        var sb = new System.Text.StringBuilder();
        for (int s = 0; s < model.Subgraphs.Count; s++)
        {
            var sg = model.Subgraphs[s];
            sb.AppendLine($"subgraph {s} '{sg.Name}': {sg.Tensors.Count} tensors, {sg.Operators.Count} operators, inputs [{string.Join(", ", sg.Inputs.Select(i => T(model, sg.Tensors[i])))}], outputs [{string.Join(", ", sg.Outputs.Select(i => T(model, sg.Tensors[i])))}]");
            foreach (var op in sg.Operators)
                sb.AppendLine($"  {op.Index,3} {op.OpName} v{op.Version}  in: {string.Join("; ", op.Inputs.Select(i => i < 0 ? "-" : T(model, sg.Tensors[i])))}  out: {string.Join("; ", op.Outputs.Select(i => T(model, sg.Tensors[i])))}");
        }
        return sb.ToString();
    }

    private static string T(TfLiteModel m, TfLiteTensor t)
    {
        string q = t.Quantization is { } qq ? $" q[{qq.Scale.Length} scales, dim {qq.QuantizedDimension}]" : "";
        string c = m.Data(t).Length > 0 ? $" const({m.Data(t).Length}B)" : "";
        return $"#{t.Index} '{t.Name}' {t.Type}[{string.Join(",", t.DeclaredShape)}]{q}{c}";
    }
}
