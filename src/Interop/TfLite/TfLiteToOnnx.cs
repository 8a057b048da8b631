using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Alerts.Onnx;
using Alerts.Onnx.Proto;

namespace Alerts.Interop.TfLite;

/// <summary>How a hybrid FULLY_CONNECTED (int8 weights, float activations) is expressed in ONNX.</summary>
public enum HybridArithmetic
{
    /// <summary>
    /// Reproduce TFLite's hybrid kernel: each input row is quantized on the fly to int8 (symmetric, scale max|x|/127,
    /// or asymmetric when the op asks for it), multiplied by the int8 weights, and rescaled. This is what FINK ran.
    /// </summary>
    TfLiteKernel,

    /// <summary>Dequantize the weights to float once and multiply in float (the model as trained, without input rounding).</summary>
    DequantizedWeights,
}

public sealed record TfLiteImportOptions
{
    public HybridArithmetic Hybrid { get; init; } = HybridArithmetic.TfLiteKernel;

    /// <summary>ONNX names of the graph input and output (our classifier reads the first input and output whatever their names).</summary>
    public string InputName { get; init; } = "input";
    public string OutputName { get; init; } = "probabilities";

    public string ProducerName { get; init; } = "alerts import-tflite";

    /// <summary>Preprocessing preset recorded as 'alerts.preprocessing' metadata, which OnnxT2Classifier applies.</summary>
    public string PreprocessingPreset { get; init; } = "fink-t2";

    /// <summary>
    /// Express small float contractions (1×1 CONV_2D, BATCH_MATMUL) as sequential multiply-then-add chains, bias first,
    /// as TFLite's WASM/portable kernels sum them, instead of ONNX Runtime's FMA GEMMs. This only matters because the
    /// hybrid kernels re-quantize these sums: one ulp can move an input across a rounding boundary.
    /// </summary>
    public bool SequentialSums { get; init; } = true;
}

/// <summary>
/// Converts the main subgraph of a TFLite model into an ONNX graph (opset 17) built with the Onnx library's
/// <see cref="OnnxModel"/>. TFLite int32 shape tensors become int64 (what ONNX shape ops use); layouts stay as
/// TFLite has them (NHWC), with transposes only around CONV_2D. The batch dimension stays dynamic.
/// Operators outside <see cref="Supported"/> make the import fail with a message that names each of them.
/// </summary>
public sealed class TfLiteToOnnx
{
    public const int Opset = 17;

    public static readonly IReadOnlySet<TfLiteOp> Supported = new HashSet<TfLiteOp>
    {
        TfLiteOp.Add, TfLiteOp.Sub, TfLiteOp.Mul, TfLiteOp.Div, TfLiteOp.SquaredDifference, TfLiteOp.Rsqrt, TfLiteOp.Sqrt,
        TfLiteOp.Relu, TfLiteOp.Relu6, TfLiteOp.Logistic, TfLiteOp.Tanh, TfLiteOp.Softmax, TfLiteOp.Mean, TfLiteOp.ReduceProd,
        TfLiteOp.Concatenation, TfLiteOp.Pack, TfLiteOp.Gather, TfLiteOp.Shape, TfLiteOp.StridedSlice, TfLiteOp.Reshape,
        TfLiteOp.Squeeze, TfLiteOp.Transpose, TfLiteOp.ExpandDims, TfLiteOp.BatchMatMul, TfLiteOp.Conv2D, TfLiteOp.FullyConnected,
        TfLiteOp.Dequantize, TfLiteOp.CallOnce, TfLiteOp.VarHandle, TfLiteOp.AssignVariable, TfLiteOp.ReadVariable,
    };

    private readonly TfLiteModel _model;
    private readonly TfLiteSubgraph _sg;
    private readonly TfLiteImportOptions _options;
    private readonly OnnxModel _onnx;
    private readonly Dictionary<int, string> _values = new();
    private readonly Dictionary<string, int> _nameUse = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), int> _variableValues = new();
    private int _nodeCounter;

    /// <summary>What the import did, for the model card.</summary>
    public List<string> Notes { get; } = new();

    private TfLiteToOnnx(TfLiteModel model, TfLiteImportOptions options)
    {
        _model = model; _sg = model.Main; _options = options;
        _onnx = new OnnxModel(new ModelProto
        {
            IrVersion = 8, ProducerName = options.ProducerName, Graph = new GraphProto { Name = "tflite_main" },
        });
        _onnx.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
    }

    public static OnnxModel Convert(TfLiteModel model, TfLiteImportOptions? options = null) => Convert(model, options, out _);

    public static OnnxModel Convert(TfLiteModel model, TfLiteImportOptions? options, out List<string> notes)
    {
        var c = new TfLiteToOnnx(model, options ?? new TfLiteImportOptions());
        c.Run();
        notes = c.Notes;
        return c._onnx;
    }

    /// <summary>Operators of the main subgraph that this importer cannot convert, with their operator indices.</summary>
    public static List<string> UnsupportedOperators(TfLiteModel model)
    {
        var bad = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var op in model.Main.Operators)
            if (op.CustomCode is not null || !Enum.IsDefined(typeof(TfLiteOp), op.OpCode) || !Supported.Contains((TfLiteOp)op.OpCode))
                (bad.TryGetValue(op.OpName, out var l) ? l : bad[op.OpName] = new()).Add(op.Index);
        return bad.Select(kv => $"{kv.Key} (operator {string.Join(", ", kv.Value)})").ToList();
    }

    private void Run()
    {
        var unsupported = UnsupportedOperators(_model);
        if (unsupported.Count > 0)
            throw new NotSupportedException($"the TFLite model uses operators this importer does not convert: {string.Join("; ", unsupported)}. " +
                $"Supported: {string.Join(", ", Supported.Select(o => TfLiteBuiltinNames.Of((int)o)).Order())}.");
        if (_sg.Inputs.Length != 1 || _sg.Outputs.Length != 1)
            throw new NotSupportedException($"the main subgraph has {_sg.Inputs.Length} inputs and {_sg.Outputs.Length} outputs; the importer handles one of each (the t2 model's shape)");

        var input = _sg.Tensors[_sg.Inputs[0]];
        RequireFloat(input, "graph input");
        _onnx.Graph.Input.Add(ValueInfo(_options.InputName, input.DeclaredShape));
        _values[input.Index] = _options.InputName;

        CollectInitVariables();
        foreach (var op in _sg.Operators)
        {
            try { ConvertOperator(op); }
            catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidOperationException or OverflowException or InvalidCastException)
            {
                // A well-formed file never gets here: these mean an operator with missing inputs or inconsistent tensors.
                throw new InvalidDataException($"{op.OpName} (operator {op.Index}) is malformed: {e.Message}", e);
            }
        }

        var output = _sg.Tensors[_sg.Outputs[0]];
        RequireFloat(output, "graph output");
        string produced = Value(output.Index);
        Emit("Identity", [produced], [_options.OutputName]);
        _onnx.Graph.Output.Add(ValueInfo(_options.OutputName, output.DeclaredShape));

        var problems = _onnx.CheckTopology();
        if (problems.Count > 0) throw new InvalidOperationException("converted graph is malformed: " + string.Join("; ", problems));
    }

    // ---- variables (CALL_ONCE init subgraph) ----

    /// <summary>
    /// TF's converter moves resource-variable initialisation into an init subgraph run by CALL_ONCE. A variable the
    /// main graph reads (READ_VARIABLE) is folded to the constant assigned to it; one it never reads is dropped, and the
    /// card says so (FINK's t2 assigns the clustered layer's pulling indices and never reads them).
    /// </summary>
    private void CollectInitVariables()
    {
        foreach (var sg in _model.Subgraphs)
        {
            var handles = new Dictionary<int, (string, string)>();
            foreach (var op in sg.Operators)
            {
                if (op.OpCode == (int)TfLiteOp.VarHandle && op.Outputs.Length == 1)
                    handles[op.Outputs[0]] = (op.OptString(0, "container") ?? "", op.OptString(1, "shared_name") ?? "");
                else if (op.OpCode == (int)TfLiteOp.AssignVariable && op.Inputs.Length == 2 && handles.TryGetValue(op.Inputs[0], out var key))
                {
                    var value = sg.Tensors[op.Inputs[1]];
                    if (ReferenceEquals(sg, _sg) || _model.Data(value).Length > 0)
                        _variableValues[key] = ReferenceEquals(sg, _sg) ? value.Index : -1 - AddForeignConstant(sg, value);
                }
            }
        }
    }

    private readonly List<(TfLiteSubgraph Sg, TfLiteTensor T)> _foreign = new();
    private int AddForeignConstant(TfLiteSubgraph sg, TfLiteTensor t) { _foreign.Add((sg, t)); return _foreign.Count - 1; }

    // ---- operators ----

    private void ConvertOperator(TfLiteOperator op)
    {
        var code = (TfLiteOp)op.OpCode;
        string Out(int k = 0) => DefineOutput(op.Outputs[k]);
        string In(int k) => Value(op.Inputs[k]);
        switch (code)
        {
            case TfLiteOp.CallOnce:
                Notes.Add($"CALL_ONCE (operator {op.Index}) runs init subgraph {op.OptInt(0)}: its variable assignments were folded or dropped");
                return;
            case TfLiteOp.VarHandle:
                return;
            case TfLiteOp.AssignVariable:
            {
                bool read = _sg.Operators.Any(o => o.OpCode == (int)TfLiteOp.ReadVariable);
                if (!read) Notes.Add($"ASSIGN_VARIABLE (operator {op.Index}) writes '{_sg.Tensors[op.Inputs[0]].Name}', which no READ_VARIABLE in the main subgraph reads: dropped");
                return;
            }
            case TfLiteOp.ReadVariable:
            {
                var handleOp = _sg.Operators.FirstOrDefault(o => o.OpCode == (int)TfLiteOp.VarHandle && o.Outputs.Contains(op.Inputs[0]))
                    ?? throw new NotSupportedException($"READ_VARIABLE (operator {op.Index}) reads a resource not made by VAR_HANDLE");
                var key = (handleOp.OptString(0, "container") ?? "", handleOp.OptString(1, "shared_name") ?? "");
                if (!_variableValues.TryGetValue(key, out int src))
                    throw new NotSupportedException($"READ_VARIABLE (operator {op.Index}) reads variable '{key.Item2}' that no init subgraph assigns a constant to");
                string v = src >= 0 ? Value(src) : ForeignConstant(-1 - src);
                Emit("Identity", [v], [Out()]);
                Notes.Add($"READ_VARIABLE (operator {op.Index}) of '{key.Item2}' folded to the constant its init assigns");
                return;
            }
            case TfLiteOp.Add: Binary("Add", op); return;
            case TfLiteOp.Sub: Binary("Sub", op); return;
            case TfLiteOp.Mul: Binary("Mul", op); return;
            case TfLiteOp.Div: Binary("Div", op); return;
            case TfLiteOp.SquaredDifference:
            {
                string d = Temp("diff");
                Emit("Sub", [In(0), In(1)], [d]);
                Emit("Mul", [d, d], [Out()]);
                return;
            }
            case TfLiteOp.Rsqrt:
            {
                string s = Temp("sqrt");
                Emit("Sqrt", [In(0)], [s]);
                Emit("Reciprocal", [s], [Out()]);
                return;
            }
            case TfLiteOp.Sqrt: Emit("Sqrt", [In(0)], [Out()]); return;
            case TfLiteOp.Relu: Emit("Relu", [In(0)], [Out()]); return;
            case TfLiteOp.Relu6: Activation(In(0), 3, Out()); return;
            case TfLiteOp.Logistic: Emit("Sigmoid", [In(0)], [Out()]); return;
            case TfLiteOp.Tanh: Emit("Tanh", [In(0)], [Out()]); return;
            case TfLiteOp.Softmax:
            {
                float beta = op.OptFloat(0, 1f);
                string x = In(0);
                if (beta != 1f) { string b = Temp("beta_scaled"); Emit("Mul", [x, Const(Tensors.ScalarFloat(Temp("beta"), beta))], [b]); x = b; }
                Emit("Softmax", [x], [Out()], OnnxModel.IntAttribute("axis", -1));
                return;
            }
            case TfLiteOp.Mean:
            case TfLiteOp.ReduceProd:
            {
                var axes = ConstInts(op, 1, "axis");
                bool keep = op.OptBool(0);
                Emit(code == TfLiteOp.Mean ? "ReduceMean" : "ReduceProd", [In(0)], [Out()],
                    OnnxModel.IntsAttribute("axes", axes), OnnxModel.IntAttribute("keepdims", keep ? 1 : 0));
                return;
            }
            case TfLiteOp.Concatenation:
            {
                int axis = op.OptInt(0);
                string tmp = Temp("concat");
                Emit("Concat", op.Inputs.Select(Value), [tmp], OnnxModel.IntAttribute("axis", axis));
                Activation(tmp, op.OptByte(1), Out());
                return;
            }
            case TfLiteOp.Pack:
            {
                int axis = op.OptInt(1);
                int rank = _sg.Tensors[op.Inputs[0]].DeclaredShape.Length;
                if (axis < 0) axis += rank + 1;
                var unsq = new List<string>();
                foreach (var i in op.Inputs)
                {
                    string u = Temp("packed");
                    Emit("Unsqueeze", [Value(i), Const(Tensors.FromInt64s(Temp("axes"), [axis], 1))], [u]);
                    unsq.Add(u);
                }
                Emit("Concat", unsq, [Out()], OnnxModel.IntAttribute("axis", axis));
                return;
            }
            case TfLiteOp.Gather:
            {
                if (op.OptInt(1) != 0) throw new NotSupportedException($"GATHER (operator {op.Index}) with batch_dims {op.OptInt(1)} is not supported (only 0)");
                Emit("Gather", [In(0), In(1)], [Out()], OnnxModel.IntAttribute("axis", op.OptInt(0)));
                return;
            }
            case TfLiteOp.Shape:
                Emit("Shape", [In(0)], [Out()]);
                return;
            case TfLiteOp.StridedSlice: StridedSlice(op); return;
            case TfLiteOp.Reshape:
            {
                string shape;
                if (op.Inputs.Length > 1 && op.Inputs[1] >= 0) shape = In(1);
                else
                {
                    var ns = op.OptInts(0, "new_shape") ?? throw new NotSupportedException($"RESHAPE (operator {op.Index}) has neither a shape input nor new_shape");
                    shape = Const(Tensors.FromInt64s(Temp("shape"), ns.Select(v => (long)v).ToArray(), ns.Length));
                }
                Emit("Reshape", [In(0), shape], [Out()]);
                return;
            }
            case TfLiteOp.Squeeze:
            {
                var dims = op.OptInts(0, "squeeze_dims") ?? [];
                if (dims.Length == 0) Emit("Squeeze", [In(0)], [Out()]);
                else Emit("Squeeze", [In(0), Const(Tensors.FromInt64s(Temp("axes"), dims.Select(v => (long)v).ToArray(), dims.Length))], [Out()]);
                return;
            }
            case TfLiteOp.Transpose:
                Emit("Transpose", [In(0)], [Out()], OnnxModel.IntsAttribute("perm", ConstInts(op, 1, "perm")));
                return;
            case TfLiteOp.ExpandDims:
            {
                var axis = ConstInts(op, 1, "axis");
                Emit("Unsqueeze", [In(0), Const(Tensors.FromInt64s(Temp("axes"), axis, axis.Length))], [Out()]);
                return;
            }
            case TfLiteOp.BatchMatMul: BatchMatMul(op); return;
            case TfLiteOp.Conv2D: Conv2D(op); return;
            case TfLiteOp.FullyConnected: FullyConnected(op); return;
            case TfLiteOp.Dequantize:
            {
                var t = _sg.Tensors[op.Inputs[0]];
                if (_model.Data(t).Length == 0) throw new NotSupportedException($"DEQUANTIZE (operator {op.Index}) of a non-constant tensor is not supported");
                var f = DequantizedFloats(t);
                var dst = _sg.Tensors[op.Outputs[0]];
                _values[dst.Index] = Const(Tensors.FromFloats(UniqueValueName(dst), f, t.Shape.Select(d => (long)d).ToArray()));
                return;
            }
            default:
                throw new NotSupportedException($"{op.OpName} (operator {op.Index}) is not supported");
        }
    }

    private void Binary(string onnxOp, TfLiteOperator op)
    {
        string tmp = op.OptByte(0) == 0 ? DefineOutput(op.Outputs[0]) : Temp(onnxOp.ToLowerInvariant());
        Emit(onnxOp, [Value(op.Inputs[0]), Value(op.Inputs[1])], [tmp]);
        if (op.OptByte(0) != 0) Activation(tmp, op.OptByte(0), DefineOutput(op.Outputs[0]));
    }

    /// <summary>TFLite fused activation (ActivationFunctionType): 0 none, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6, 4 TANH, 6 SIGN_BIT (unsupported).</summary>
    private void Activation(string x, byte fused, string output)
    {
        switch (fused)
        {
            case 0: Emit("Identity", [x], [output]); break;
            case 1: Emit("Relu", [x], [output]); break;
            case 2: Emit("Clip", [x, Const(Tensors.ScalarFloat(Temp("min"), -1f)), Const(Tensors.ScalarFloat(Temp("max"), 1f))], [output]); break;
            case 3: Emit("Clip", [x, Const(Tensors.ScalarFloat(Temp("min"), 0f)), Const(Tensors.ScalarFloat(Temp("max"), 6f))], [output]); break;
            case 4: Emit("Tanh", [x], [output]); break;
            default: throw new NotSupportedException($"fused activation function {fused} is not supported");
        }
    }

    private void StridedSlice(TfLiteOperator op)
    {
        var input = _sg.Tensors[op.Inputs[0]];
        long[] begin = ConstInts(op, 1, "begin"), end = ConstInts(op, 2, "end"), strides = ConstInts(op, 3, "strides");
        int beginMask = op.OptInt(0), endMask = op.OptInt(1), ellipsis = op.OptInt(2), newAxis = op.OptInt(3), shrink = op.OptInt(4);
        bool offset = op.OptBool(5);
        if (ellipsis != 0 || newAxis != 0)
            throw new NotSupportedException($"STRIDED_SLICE (operator {op.Index}) uses ellipsis_mask {ellipsis} / new_axis_mask {newAxis}; only begin/end/shrink masks are supported");
        int n = begin.Length;
        var starts = new long[n]; var ends = new long[n]; var axes = new long[n];
        var squeeze = new List<long>();
        for (int i = 0; i < n; i++)
        {
            axes[i] = i;
            long s = strides[i];
            if (s == 0) throw new InvalidDataException($"STRIDED_SLICE (operator {op.Index}) has stride 0 on axis {i}");
            bool shrinkAxis = (shrink >> i & 1) != 0;
            starts[i] = (beginMask >> i & 1) != 0 && !shrinkAxis ? (s > 0 ? 0 : long.MaxValue) : begin[i];
            if (shrinkAxis)
            {
                // A shrunk axis takes exactly element begin[i] (negative counts from the end).
                ends[i] = begin[i] == -1 ? long.MaxValue : begin[i] + 1;
                squeeze.Add(i);
            }
            else if ((endMask >> i & 1) != 0) ends[i] = s > 0 ? long.MaxValue : long.MinValue;
            else ends[i] = offset ? begin[i] + end[i] : end[i];
        }
        string sliced = squeeze.Count > 0 ? Temp("sliced") : DefineOutput(op.Outputs[0]);
        Emit("Slice", [Value(input.Index),
            Const(Tensors.FromInt64s(Temp("starts"), starts, n)), Const(Tensors.FromInt64s(Temp("ends"), ends, n)),
            Const(Tensors.FromInt64s(Temp("axes"), axes, n)), Const(Tensors.FromInt64s(Temp("steps"), strides, n))], [sliced]);
        if (squeeze.Count > 0)
            Emit("Squeeze", [sliced, Const(Tensors.FromInt64s(Temp("axes"), squeeze.ToArray(), squeeze.Count))], [DefineOutput(op.Outputs[0])]);
    }

    private void BatchMatMul(TfLiteOperator op)
    {
        string a = Value(op.Inputs[0]), b = Value(op.Inputs[1]);
        if (op.OptBool(0)) a = SwapLastTwo(a, _sg.Tensors[op.Inputs[0]].DeclaredShape.Length, op);
        if (op.OptBool(1)) b = SwapLastTwo(b, _sg.Tensors[op.Inputs[1]].DeclaredShape.Length, op);
        var bt = _sg.Tensors[op.Inputs[1]];
        if (bt.Type == TfLiteType.Int8) throw new NotSupportedException($"BATCH_MATMUL (operator {op.Index}) with int8 operand '{bt.Name}' (hybrid) is not supported");
        var aShape = _sg.Tensors[op.Inputs[0]].DeclaredShape;   // -1 where dynamic: only a static K is unrolled
        int kDim = aShape.Length == 0 ? 0 : op.OptBool(0) ? aShape[^2] : aShape[^1];
        if (_options.SequentialSums && kDim is > 0 and <= 128)
        {
            // acc = Σ_k a[..., :, k] * b[..., k, :], summed in k order without fused multiply-add.
            string? acc = null;
            for (int k = 0; k < kDim; k++)
            {
                string ak = Temp("a_k"), bk = Temp("b_k"), term = Temp("term");
                Emit("Slice", [a, Const(Tensors.FromInt64s(Temp("starts"), [k], 1)), Const(Tensors.FromInt64s(Temp("ends"), [k + 1], 1)), Const(Tensors.FromInt64s(Temp("axes"), [-1], 1))], [ak]);
                Emit("Slice", [b, Const(Tensors.FromInt64s(Temp("starts"), [k], 1)), Const(Tensors.FromInt64s(Temp("ends"), [k + 1], 1)), Const(Tensors.FromInt64s(Temp("axes"), [-2], 1))], [bk]);
                Emit("Mul", [ak, bk], [term]);
                if (acc is null) acc = term;
                else { string next = Temp("acc"); Emit("Add", [acc, term], [next]); acc = next; }
            }
            Emit("Identity", [acc!], [DefineOutput(op.Outputs[0])]);
            return;
        }
        Emit("MatMul", [a, b], [DefineOutput(op.Outputs[0])]);
    }

    private string SwapLastTwo(string x, int rank, TfLiteOperator op)
    {
        if (rank < 2) throw new NotSupportedException($"BATCH_MATMUL (operator {op.Index}) adjoint of a rank-{rank} tensor");
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 1], perm[rank - 2]) = (perm[rank - 2], perm[rank - 1]);
        string t = Temp("adjoint");
        Emit("Transpose", [x], [t], OnnxModel.IntsAttribute("perm", perm));
        return t;
    }

    /// <summary>CONV_2D: NHWC input, OHWI filter. ONNX Conv is NCHW/OIHW, so transpose around it; TF SAME padding is SAME_UPPER.</summary>
    private void Conv2D(TfLiteOperator op)
    {
        var filter = _sg.Tensors[op.Inputs[1]];
        if (_model.Data(filter).Length == 0) throw new NotSupportedException($"CONV_2D (operator {op.Index}) with a non-constant filter is not supported");
        if (filter.Type != TfLiteType.Float32) throw new NotSupportedException($"CONV_2D (operator {op.Index}) with {filter.Type} filter '{filter.Name}' (hybrid convolution) is not supported");
        var w = Floats(filter);
        int o = filter.Shape[0], kh = filter.Shape[1], kw = filter.Shape[2], ci = filter.Shape[3];
        if (_options.SequentialSums && kh == 1 && kw == 1 && op.OptInt(1, 1) == 1 && op.OptInt(2, 1) == 1 && ci <= 16)
        {
            // acc = bias; acc += x[..., c] * w[:, c] for c in order (NHWC, no transposes needed for 1×1).
            string? acc = op.Inputs.Length > 2 && op.Inputs[2] >= 0 ? Value(op.Inputs[2]) : null;
            for (int c = 0; c < ci; c++)
            {
                var col = new float[o];
                for (int a = 0; a < o; a++) col[a] = w[a * ci + c];
                string xc = Temp("x_channel"), term = Temp("term");
                Emit("Slice", [Value(op.Inputs[0]), Const(Tensors.FromInt64s(Temp("starts"), [c], 1)), Const(Tensors.FromInt64s(Temp("ends"), [c + 1], 1)), Const(Tensors.FromInt64s(Temp("axes"), [-1], 1))], [xc]);
                Emit("Mul", [xc, Const(Tensors.FromFloats(Temp("w_col"), col, o))], [term]);
                if (acc is null) acc = term;
                else { string next = Temp("acc"); Emit("Add", [acc, term], [next]); acc = next; }
            }
            Activation(acc!, op.OptByte(3), DefineOutput(op.Outputs[0]));
            return;
        }
        var oihw = new float[w.Length];
        for (int a = 0; a < o; a++) for (int y = 0; y < kh; y++) for (int x = 0; x < kw; x++) for (int c = 0; c < ci; c++)
            oihw[((a * ci + c) * kh + y) * kw + x] = w[((a * kh + y) * kw + x) * ci + c];
        string wName = Const(Tensors.FromFloats(UniqueValueName(filter), oihw, o, ci, kh, kw));
        var inputs = new List<string>();
        string nchw = Temp("nchw");
        Emit("Transpose", [Value(op.Inputs[0])], [nchw], OnnxModel.IntsAttribute("perm", 0, 3, 1, 2));
        inputs.Add(nchw); inputs.Add(wName);
        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0) inputs.Add(Value(op.Inputs[2]));
        byte padding = op.OptByte(0);
        int strideW = op.OptInt(1, 1), strideH = op.OptInt(2, 1), dilW = op.OptInt(4, 1), dilH = op.OptInt(5, 1);
        string conv = Temp("conv");
        var attrs = new List<AttributeProto>
        {
            OnnxModel.IntsAttribute("strides", strideH, strideW), OnnxModel.IntsAttribute("dilations", dilH, dilW),
            OnnxModel.IntsAttribute("kernel_shape", kh, kw),
        };
        // Padding enum: 0 SAME, 1 VALID.
        attrs.Add(new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(padding == 0 ? "SAME_UPPER" : "VALID") });
        Emit("Conv", inputs, [conv], [.. attrs]);
        string act = Temp("conv_act");
        Activation(conv, op.OptByte(3), act);
        Emit("Transpose", [act], [DefineOutput(op.Outputs[0])], OnnxModel.IntsAttribute("perm", 0, 2, 3, 1));
    }

    /// <summary>
    /// FULLY_CONNECTED: y = x·Wᵀ + b over the last axis (x flattened to [-1, K] unless keep_num_dims). Float weights
    /// become a MatMul with Wᵀ. Int8 weights with a float input are TFLite's "hybrid" kernel, expressed per
    /// <see cref="HybridArithmetic"/>.
    /// </summary>
    private void FullyConnected(TfLiteOperator op)
    {
        var weights = _sg.Tensors[op.Inputs[1]];
        var input = _sg.Tensors[op.Inputs[0]];
        RequireFloat(input, $"FULLY_CONNECTED (operator {op.Index}) input");
        if (_model.Data(weights).Length == 0) throw new NotSupportedException($"FULLY_CONNECTED (operator {op.Index}) with non-constant weights '{weights.Name}' is not supported");
        if (weights.Shape.Length != 2) throw new InvalidDataException($"FULLY_CONNECTED (operator {op.Index}) weights '{weights.Name}' have rank {weights.Shape.Length}, expected 2 [units, inputs]");
        if (op.OptByte(1) != 0) throw new NotSupportedException($"FULLY_CONNECTED (operator {op.Index}) uses shuffled weights_format {op.OptByte(1)}");
        int units = weights.Shape[0], k = weights.Shape[1];
        bool keepDims = op.OptBool(2), asymmetric = op.OptBool(3);

        string x = Value(input.Index);
        if (!keepDims)
        {
            string flat = Temp("fc_in");
            Emit("Reshape", [x, Const(Tensors.FromInt64s(Temp("shape"), [-1, k], 2))], [flat]);
            x = flat;
        }

        string y;
        if (weights.Type == TfLiteType.Float32)
        {
            y = Temp("fc_matmul");
            Emit("MatMul", [x, Const(Tensors.FromFloats(UniqueValueName(weights), Transpose2D(Floats(weights), units, k), k, units))], [y]);
        }
        else if (weights.Type == TfLiteType.Int8 && weights.Quantization is { } q)
        {
            if (q.ZeroPoint.Any(z => z != 0)) throw new NotSupportedException($"FULLY_CONNECTED (operator {op.Index}) int8 weights '{weights.Name}' have non-zero zero points (TFLite hybrid kernels require symmetric weights)");
            if (q.IsPerChannel && (q.QuantizedDimension != 0 || q.Scale.Length != units))
                throw new InvalidDataException($"FULLY_CONNECTED (operator {op.Index}) weights '{weights.Name}' have {q.Scale.Length} scales on dimension {q.QuantizedDimension}; expected one or {units} on dimension 0");
            y = _options.Hybrid == HybridArithmetic.DequantizedWeights
                ? DequantizedMatMul(x, weights, units, k)
                : HybridKernelMatMul(x, weights, q, units, k, asymmetric, op);
        }
        else throw new NotSupportedException($"FULLY_CONNECTED (operator {op.Index}) with {weights.Type} weights '{weights.Name}' is not supported");

        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            string biased = Temp("fc_bias");
            Emit("Add", [y, Value(op.Inputs[2])], [biased]);
            y = biased;
        }
        Activation(y, op.OptByte(0), DefineOutput(op.Outputs[0]));
    }

    private string DequantizedMatMul(string x, TfLiteTensor weights, int units, int k)
    {
        string y = Temp("fc_matmul");
        Emit("MatMul", [x, Const(Tensors.FromFloats(UniqueValueName(weights), Transpose2D(DequantizedFloats(weights), units, k), k, units))], [y]);
        return y;
    }

    /// <summary>
    /// TFLite's hybrid FULLY_CONNECTED (kernels/fully_connected.cc EvalHybrid, portable_tensor_utils.cc), step by step:
    /// each input row is quantized on the fly to int8 and multiplied by the int8 weights in int32, then rescaled:
    /// y = ((q − zp)·W_int8ᵀ)·(s_x·s_w) (+ bias). Symmetric (default): r = max|x|, s_x = r/127,
    /// q = clamp(round(x·(127/r)), ±127), zp = 0. Asymmetric (asymmetric_quantize_inputs): rmin = min(0, min x),
    /// rmax = max(0, max x), s = (rmax − rmin)/255 in double, zp from whichever end has the smaller error, nudged and
    /// rounded, q = clamp(round(zp + x·(1/s)), −128, 127). Rows of zeros give q − zp = 0. Rounding is half away from
    /// zero as std::round (Sign·Floor(|v| + 0.5)). The integer sums are exact in float32 here (|Σ| ≤ 255·127·K &lt; 2²⁴
    /// for K ≤ 518), so a float MatMul of integer-valued tensors reproduces the int32 accumulation.
    /// </summary>
    private string HybridKernelMatMul(string x, TfLiteTensor weights, TfLiteQuantization q, int units, int k, bool asymmetric, TfLiteOperator op)
    {
        if (k * (asymmetric ? 255L : 127L) * 127L >= 1L << 24)
            Notes.Add($"FULLY_CONNECTED (operator {op.Index}) has K = {k}: integer sums may exceed float32's exact range, so results can differ from TFLite in the last bits");
        var raw = MemoryMarshal.Cast<byte, sbyte>(_model.Data(weights).Span);
        var wt = new float[k * units];
        for (int u = 0; u < units; u++) for (int i = 0; i < k; i++) wt[i * units + u] = raw[u * k + i];
        string wName = Const(Tensors.FromFloats(UniqueValueName(weights) + "_int8_values", wt, k, units));
        var scale = q.IsPerChannel ? q.Scale : [q.Scale[0]];
        string wScale = Const(Tensors.FromFloats(Temp("w_scale"), scale, scale.Length));

        string xScale, centred;
        if (!asymmetric)
        {
            string abs = Temp("abs"), range = Temp("range"), isZero = Temp("range_is_zero"), safeRange = Temp("safe_range");
            Emit("Abs", [x], [abs]);
            Emit("ReduceMax", [abs], [range], OnnxModel.IntsAttribute("axes", -1), OnnxModel.IntAttribute("keepdims", 1));
            // A zero row: TFLite sets q = 0 and scale 1; range 0 -> 1 keeps q = round(0·127) = 0.
            Emit("Equal", [range, FloatScalar(0f)], [isZero]);
            Emit("Where", [isZero, FloatScalar(1f), range], [safeRange]);
            string inv = Temp("inv_scale"), scaled = Temp("x_scaled");
            Emit("Div", [FloatScalar(127f), safeRange], [inv]);
            Emit("Mul", [x, inv], [scaled]);
            centred = Temp("x_q");
            Emit("Clip", [RoundHalfAway(scaled), FloatScalar(-127f), FloatScalar(127f)], [centred]);
            xScale = Temp("x_scale");
            Emit("Div", [safeRange, FloatScalar(127f)], [xScale]);
        }
        else
        {
            const int Double = (int)TensorProto.Types.DataType.Double;
            string mn = Temp("row_min"), mx = Temp("row_max"), rmin = Temp("rmin"), rmax = Temp("rmax"), rminD = Temp("rmin_f64"), rmaxD = Temp("rmax_f64");
            Emit("ReduceMin", [x], [mn], OnnxModel.IntsAttribute("axes", -1), OnnxModel.IntAttribute("keepdims", 1));
            Emit("ReduceMax", [x], [mx], OnnxModel.IntsAttribute("axes", -1), OnnxModel.IntAttribute("keepdims", 1));
            Emit("Min", [mn, FloatScalar(0f)], [rmin]);
            Emit("Max", [mx, FloatScalar(0f)], [rmax]);
            Emit("Cast", [rmin], [rminD], OnnxModel.IntAttribute("to", Double));
            Emit("Cast", [rmax], [rmaxD], OnnxModel.IntAttribute("to", Double));
            string range = Temp("range"), degenerate = Temp("degenerate"), safeRange = Temp("safe_range"), s = Temp("scale_f64");
            Emit("Sub", [rmaxD, rminD], [range]);
            Emit("Equal", [range, DoubleScalar(0)], [degenerate]);
            Emit("Where", [degenerate, DoubleScalar(255), range], [safeRange]);   // degenerate rows: scale 1
            Emit("Div", [safeRange, DoubleScalar(255)], [s]);
            string a = Temp("rmin_over_s"), b = Temp("rmax_over_s"), zMin = Temp("zp_from_min"), zMax = Temp("zp_from_max");
            Emit("Div", [rminD, s], [a]);
            Emit("Div", [rmaxD, s], [b]);
            Emit("Sub", [DoubleScalar(-128), a], [zMin]);
            Emit("Sub", [DoubleScalar(127), b], [zMax]);
            string absA = Temp("abs_a"), absB = Temp("abs_b"), eMin = Temp("err_min"), eMax = Temp("err_max"), useMin = Temp("use_min"), zd = Temp("zp_f64");
            Emit("Abs", [a], [absA]); Emit("Abs", [b], [absB]);
            Emit("Add", [DoubleScalar(128), absA], [eMin]);
            Emit("Add", [DoubleScalar(127), absB], [eMax]);
            Emit("Less", [eMin, eMax], [useMin]);
            Emit("Where", [useMin, zMin, zMax], [zd]);
            // Nudge: <= -128 -> -128, >= 127 -> 127, else round half away; Max/Min then round gives the same.
            string zc1 = Temp("zp_lo"), zc2 = Temp("zp_hi"), zpD = RoundHalfAway(zd, Double), zp = Temp("zp");
            Emit("Max", [zd, DoubleScalar(-128)], [zc1]);
            Emit("Min", [zc1, DoubleScalar(127)], [zc2]);
            zpD = RoundHalfAway(zc2, Double);
            Emit("Cast", [zpD], [zp], OnnxModel.IntAttribute("to", Tensors.Float));
            xScale = Temp("x_scale");
            Emit("Cast", [s], [xScale], OnnxModel.IntAttribute("to", Tensors.Float));
            // scaling_factor_inv = 1.0 / (float)scale, computed in double and stored as float.
            string sBack = Temp("x_scale_f64"), invD = Temp("inv_f64"), inv = Temp("inv_scale"), scaled = Temp("x_scaled"), shifted = Temp("x_shifted");
            Emit("Cast", [xScale], [sBack], OnnxModel.IntAttribute("to", Double));
            Emit("Div", [DoubleScalar(1), sBack], [invD]);
            Emit("Cast", [invD], [inv], OnnxModel.IntAttribute("to", Tensors.Float));
            Emit("Mul", [x, inv], [scaled]);
            Emit("Add", [zp, scaled], [shifted]);
            string qx = Temp("x_q");
            Emit("Clip", [RoundHalfAway(shifted), FloatScalar(-128f), FloatScalar(127f)], [qx]);
            centred = Temp("x_q_minus_zp");
            Emit("Sub", [qx, zp], [centred]);
        }
        string acc = Temp("acc"), combined = Temp("combined_scale"), y = Temp("fc_hybrid");
        Emit("MatMul", [centred, wName], [acc]);
        // TFLite multiplies the two scales first, then the int32 sum by their product.
        Emit("Mul", [xScale, wScale], [combined]);
        Emit("Mul", [acc, combined], [y]);
        Notes.Add($"FULLY_CONNECTED (operator {op.Index}) hybrid int8 '{weights.Name}' [{units}x{k}], {(q.IsPerChannel ? "per-channel" : "per-tensor")} weight scale, {(asymmetric ? "asymmetric" : "symmetric")} dynamic int8 input rows: TFLite's kernel arithmetic");
        return y;
    }

    /// <summary>std::round: half away from zero, as Sign(v)·Floor(|v| + 0.5).</summary>
    private string RoundHalfAway(string v, int type = Tensors.Float)
    {
        string abs = Temp("round_abs"), half = Temp("round_half"), fl = Temp("round_floor"), sign = Temp("round_sign"), r = Temp("rounded");
        Emit("Abs", [v], [abs]);
        Emit("Add", [abs, type == Tensors.Float ? FloatScalar(0.5f) : DoubleScalar(0.5)], [half]);
        Emit("Floor", [half], [fl]);
        Emit("Sign", [v], [sign]);
        Emit("Mul", [sign, fl], [r]);
        return r;
    }

    private string FloatScalar(float v) => Const(Tensors.ScalarFloat(Temp("c"), v));

    private string DoubleScalar(double v)
    {
        var t = new TensorProto { Name = Temp("c"), DataType = (int)TensorProto.Types.DataType.Double, RawData = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(v)) };
        return Const(t);
    }

    // ---- values and constants ----

    private string Value(int tensorIndex)
    {
        if (_values.TryGetValue(tensorIndex, out var v)) return v;
        var t = _sg.Tensors[tensorIndex];
        if (_model.Data(t).Length == 0 && !(t.Shape.Length > 0 && t.Shape.Contains(0)))
            throw new InvalidDataException($"tensor {tensorIndex} '{t.Name}' is read before any operator produces it and has no constant data");
        var c = ConstantOf(_model, t, UniqueValueName(t));
        return _values[tensorIndex] = Const(c);
    }

    private string ForeignConstant(int i)
    {
        var (_, t) = _foreign[i];
        return Const(ConstantOf(_model, t, UniqueValueName(t)));
    }

    /// <summary>A TFLite constant as an ONNX initializer: int32 widened to int64 (ONNX shape ops), int8 dequantized only where an operator asks.</summary>
    internal static TensorProto ConstantOf(TfLiteModel model, TfLiteTensor t, string name)
    {
        var data = model.Data(t).Span;
        long[] dims = t.Shape.Select(d => (long)d).ToArray();
        long count = dims.Aggregate(1L, (a, d) => a * d);
        int size = t.Type switch { TfLiteType.Float32 or TfLiteType.Int32 => 4, TfLiteType.Int64 => 8, TfLiteType.Int8 or TfLiteType.UInt8 or TfLiteType.Bool => 1, _ => 0 };
        if (size == 0) throw new NotSupportedException($"constant tensor '{t.Name}' has type {t.Type}, which the importer does not read");
        if (data.Length != count * size)
            throw new InvalidDataException($"constant tensor '{t.Name}' has shape [{string.Join(",", dims)}] of {t.Type} ({count * size} bytes) but its buffer {t.Buffer} holds {data.Length} bytes");
        switch (t.Type)
        {
            case TfLiteType.Float32: return Tensors.FromFloats(name, MemoryMarshal.Cast<byte, float>(data), dims);
            case TfLiteType.Int32:
            {
                var a = new long[count];
                for (int i = 0; i < count; i++) a[i] = BinaryPrimitives.ReadInt32LittleEndian(data[(4 * i)..]);
                return Tensors.FromInt64s(name, a, dims);
            }
            case TfLiteType.Int64: return Tensors.FromInt64s(name, MemoryMarshal.Cast<byte, long>(data), dims);
            case TfLiteType.Int8: return Tensors.FromInt8s(name, MemoryMarshal.Cast<byte, sbyte>(data), dims);
            case TfLiteType.UInt8: return Tensors.FromUint8s(name, data, dims);
            default:
            {
                var tp = Tensors.FromUint8s(name, data, dims);
                tp.DataType = (int)TensorProto.Types.DataType.Bool;
                return tp;
            }
        }
    }

    private float[] Floats(TfLiteTensor t)
    {
        var c = ConstantOf(_model, t, "tmp");
        return Tensors.ToFloats(c);
    }

    internal float[] DequantizedFloats(TfLiteTensor t) => Dequantize(_model, t);

    /// <summary>real = scale·(q − zero_point), per tensor or along quantized_dimension.</summary>
    internal static float[] Dequantize(TfLiteModel model, TfLiteTensor t)
    {
        var data = model.Data(t).Span;
        if (t.Type == TfLiteType.Float16)
        {
            var h = MemoryMarshal.Cast<byte, Half>(data);
            var f = new float[h.Length];
            for (int i = 0; i < h.Length; i++) f[i] = (float)h[i];
            return f;
        }
        if (t.Type is not (TfLiteType.Int8 or TfLiteType.UInt8)) throw new NotSupportedException($"dequantizing '{t.Name}' of type {t.Type} is not supported");
        var q = t.Quantization ?? throw new InvalidDataException($"int8 tensor '{t.Name}' has no quantization parameters (scale, zero_point)");
        int n = data.Length;
        long count = t.Shape.Aggregate(1L, (a, d) => a * d);
        if (n != count) throw new InvalidDataException($"quantized tensor '{t.Name}' has shape [{string.Join(",", t.Shape)}] but its buffer holds {n} bytes");
        int dim = q.QuantizedDimension;
        int inner = 1;
        for (int d = dim + 1; d < t.Shape.Length; d++) inner *= t.Shape[d];
        int channels = t.Shape.Length > 0 ? t.Shape[dim] : 1;
        if (q.IsPerChannel && q.Scale.Length != channels)
            throw new InvalidDataException($"quantized tensor '{t.Name}' has {q.Scale.Length} scales but dimension {dim} has {channels} entries");
        var result = new float[n];
        for (int i = 0; i < n; i++)
        {
            int c = q.IsPerChannel ? i / inner % channels : 0;
            int v = t.Type == TfLiteType.Int8 ? unchecked((sbyte)data[i]) : data[i];
            long zp = q.ZeroPoint.Length > c ? q.ZeroPoint[c] : 0;
            result[i] = q.Scale[c] * (v - zp);
        }
        return result;
    }

    private static float[] Transpose2D(float[] w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
        return t;
    }

    private long[] ConstInts(TfLiteOperator op, int inputIndex, string what)
    {
        if (op.Inputs.Length <= inputIndex || op.Inputs[inputIndex] < 0)
            throw new InvalidDataException($"{op.OpName} (operator {op.Index}) has no '{what}' input");
        var t = _sg.Tensors[op.Inputs[inputIndex]];
        if (_model.Data(t).Length == 0)
            throw new NotSupportedException($"{op.OpName} (operator {op.Index}) needs a constant '{what}' but '{t.Name}' is computed at run time");
        return Tensors.ToInt64s(ConstantOf(_model, t, "tmp"));
    }

    private string Const(TensorProto t)
    {
        _onnx.Graph.Initializer.Add(t);
        return t.Name;
    }

    private string DefineOutput(int tensorIndex)
    {
        var name = UniqueValueName(_sg.Tensors[tensorIndex]);
        _values[tensorIndex] = name;
        return name;
    }

    /// <summary>Readable, unique, deterministic: the first ';'-separated part of the TFLite name (TF joins fused names with ';').</summary>
    private string UniqueValueName(TfLiteTensor t)
    {
        string stem = t.Name.Split(';')[0];
        if (stem.Length == 0) stem = $"tensor_{t.Index}";
        return Unique(stem);
    }

    private string Unique(string stem)
    {
        if (!_nameUse.TryGetValue(stem, out int n)) { _nameUse[stem] = 1; return stem; }
        _nameUse[stem] = n + 1;
        return Unique($"{stem}__{n}");
    }

    private string Temp(string stem) => Unique($"tfl_{stem}");

    private void Emit(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        _onnx.Graph.Node.Add(OnnxModel.Node(opType, $"{opType}_{_nodeCounter++}", inputs, outputs, null, attributes));
    }

    private static void RequireFloat(TfLiteTensor t, string what)
    {
        if (t.Type != TfLiteType.Float32) throw new NotSupportedException($"{what} '{t.Name}' is {t.Type}; the importer handles float32 graph inputs and outputs");
    }

    private static ValueInfoProto ValueInfo(string name, int[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = Tensors.Float, Shape = new TensorShapeProto() };
        for (int i = 0; i < shape.Length; i++)
            tensorType.Shape.Dim.Add(shape[i] < 0 ? new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? "batch" : $"d{i}" } : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
