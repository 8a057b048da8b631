using System.Runtime.InteropServices;
using Alerts.Interop.TfLite;
using Google.FlatBuffers;

namespace Alerts.Interop.Tests;

/// <summary>One field of a builtin options table, by its index in schema.fbs.</summary>
public abstract record Opt(int Field)
{
    public sealed record I(int F, int V) : Opt(F);
    public sealed record B(int F, bool V) : Opt(F);
    public sealed record U8(int F, byte V) : Opt(F);
    public sealed record F32(int F, float V) : Opt(F);
    public sealed record Ints(int F, int[] V) : Opt(F);
    public sealed record S(int F, string V) : Opt(F);
}

/// <summary>
/// Writes small .tflite flatbuffers (schema v3) by hand with Google.FlatBuffers' builder, so each converter can be
/// tested on a graph of one or two operators. Options tables are given as (field index, value) lists and carry
/// their union type, so the files are valid for the real TFLite runtime too (tools/tflite-referee).
/// </summary>
public sealed class TfLiteGraphBuilder
{
    private sealed record TensorDef(string Name, TfLiteType Type, int[] Shape, int[]? Signature, byte[]? Data, float[]? Scale, long[]? ZeroPoint, int QDim);
    private sealed record OpDef(int Code, int[] Inputs, int[] Outputs, byte OptionsType, Opt[]? Options);
    private sealed class Subgraph { public List<TensorDef> Tensors = new(); public List<OpDef> Ops = new(); public int[] Inputs = []; public int[] Outputs = []; public string Name = "main"; }

    private readonly List<Subgraph> _subgraphs = [new Subgraph()];
    private Subgraph _current;

    public TfLiteGraphBuilder() => _current = _subgraphs[0];

    /// <summary>Starts another subgraph (e.g. a CALL_ONCE init graph); returns its index.</summary>
    public int BeginSubgraph(string name) { _current = new Subgraph { Name = name }; _subgraphs.Add(_current); return _subgraphs.Count - 1; }
    public void SelectSubgraph(int index) => _current = _subgraphs[index];

    public int Tensor(string name, TfLiteType type, int[] shape, int[]? signature = null)
    { _current.Tensors.Add(new(name, type, shape, signature, null, null, null, 0)); return _current.Tensors.Count - 1; }

    public int Input(string name, int[] shape, int[]? signature = null) => Tensor(name, TfLiteType.Float32, shape, signature);

    public int ConstFloat(string name, float[] data, params int[] shape) => Const(name, TfLiteType.Float32, MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), shape);
    public int ConstInt(string name, int[] data, params int[] shape) => Const(name, TfLiteType.Int32, MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), shape);
    public int ConstInt64(string name, long[] data, params int[] shape) => Const(name, TfLiteType.Int64, MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), shape);

    public int ConstInt8(string name, sbyte[] data, float[] scale, int quantizedDimension, params int[] shape)
    {
        _current.Tensors.Add(new(name, TfLiteType.Int8, shape, null, MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), scale, new long[scale.Length], quantizedDimension));
        return _current.Tensors.Count - 1;
    }

    public int Const(string name, TfLiteType type, byte[] data, int[] shape)
    { _current.Tensors.Add(new(name, type, shape, null, data, null, null, 0)); return _current.Tensors.Count - 1; }

    public void Op(int code, int[] inputs, int[] outputs, byte optionsType = 0, params Opt[] options) =>
        _current.Ops.Add(new(code, inputs, outputs, optionsType, options.Length == 0 && optionsType == 0 ? null : options));

    public void Op(TfLiteOp code, int[] inputs, int[] outputs, byte optionsType = 0, params Opt[] options) => Op((int)code, inputs, outputs, optionsType, options);

    public void Io(int[] inputs, int[] outputs) { _current.Inputs = inputs; _current.Outputs = outputs; }

    public byte[] Build()
    {
        var fb = new FlatBufferBuilder(1024);
        // buffers: 0 is the empty sentinel, then one per constant tensor in subgraph order.
        var bufferData = new List<byte[]?> { null };
        var tensorBuffer = new List<int[]>();
        foreach (var sg in _subgraphs)
        {
            var idx = new int[sg.Tensors.Count];
            for (int i = 0; i < sg.Tensors.Count; i++)
                if (sg.Tensors[i].Data is { } d) { bufferData.Add(d); idx[i] = bufferData.Count - 1; }
            tensorBuffer.Add(idx);
        }
        var codes = _subgraphs.SelectMany(s => s.Ops).Select(o => o.Code).Distinct().ToList();

        var bufferOffsets = bufferData.Select(d =>
        {
            int data = 0;
            if (d is not null)
            {
                fb.StartVector(1, d.Length, 16);
                for (int i = d.Length - 1; i >= 0; i--) fb.PutByte(d[i]);
                data = fb.EndVector().Value;
            }
            fb.StartTable(3);
            if (d is not null) fb.AddOffset(0, data, 0);
            return fb.EndTable();
        }).ToArray();

        var sgOffsets = new int[_subgraphs.Count];
        for (int s = 0; s < _subgraphs.Count; s++)
        {
            var sg = _subgraphs[s];
            var tensorOffsets = new int[sg.Tensors.Count];
            for (int i = 0; i < sg.Tensors.Count; i++)
            {
                var t = sg.Tensors[i];
                int name = fb.CreateString(t.Name).Value;
                int shape = IntVector(fb, t.Shape);
                int sig = t.Signature is null ? 0 : IntVector(fb, t.Signature);
                int quant = 0;
                if (t.Scale is not null)
                {
                    int scale = FloatVector(fb, t.Scale);
                    fb.StartVector(8, t.ZeroPoint!.Length, 8);
                    for (int k = t.ZeroPoint.Length - 1; k >= 0; k--) fb.PutLong(t.ZeroPoint[k]);
                    int zp = fb.EndVector().Value;
                    fb.StartTable(7);
                    fb.AddOffset(2, scale, 0); fb.AddOffset(3, zp, 0); fb.AddInt(6, t.QDim, 0);
                    quant = fb.EndTable();
                }
                fb.StartTable(9);
                fb.AddOffset(0, shape, 0);
                fb.AddSbyte(1, (sbyte)t.Type, -1);
                fb.AddUint(2, (uint)tensorBuffer[s][i], 0);
                fb.AddOffset(3, name, 0);
                if (quant != 0) fb.AddOffset(4, quant, 0);
                if (sig != 0) fb.AddOffset(7, sig, 0);
                tensorOffsets[i] = fb.EndTable();
            }
            var opOffsets = sg.Ops.Select(o =>
            {
                int inputs = IntVector(fb, o.Inputs), outputs = IntVector(fb, o.Outputs);
                int options = o.Options is null ? 0 : OptionsTable(fb, o.Options);
                fb.StartTable(5);
                fb.AddUint(0, (uint)codes.IndexOf(o.Code), uint.MaxValue);
                fb.AddOffset(1, inputs, 0); fb.AddOffset(2, outputs, 0);
                if (o.Options is not null) { fb.AddByte(3, o.OptionsType, 0); fb.AddOffset(4, options, 0); }
                return fb.EndTable();
            }).ToArray();
            int tv = OffsetVector(fb, tensorOffsets), iv = IntVector(fb, sg.Inputs), ov = IntVector(fb, sg.Outputs), opv = OffsetVector(fb, opOffsets);
            int nm = fb.CreateString(sg.Name).Value;
            fb.StartTable(5);
            fb.AddOffset(0, tv, 0); fb.AddOffset(1, iv, 0); fb.AddOffset(2, ov, 0); fb.AddOffset(3, opv, 0); fb.AddOffset(4, nm, 0);
            sgOffsets[s] = fb.EndTable();
        }
        var codeOffsets = codes.Select(c =>
        {
            fb.StartTable(4);
            fb.AddSbyte(0, (sbyte)Math.Min(c, 127), -1);
            fb.AddInt(2, 1, 0);
            fb.AddInt(3, c, -1);
            return fb.EndTable();
        }).ToArray();
        int codesV = OffsetVector(fb, codeOffsets), sgV = OffsetVector(fb, sgOffsets), bufV = OffsetVector(fb, bufferOffsets);
        int desc = fb.CreateString("hand-built test graph").Value;
        fb.StartTable(5);
        fb.AddUint(0, 3, 0); fb.AddOffset(1, codesV, 0); fb.AddOffset(2, sgV, 0); fb.AddOffset(3, desc, 0); fb.AddOffset(4, bufV, 0);
        int root = fb.EndTable();
        fb.Finish(root, "TFL3");
        return fb.SizedByteArray();
    }

    private static int OptionsTable(FlatBufferBuilder fb, Opt[] options)
    {
        var pre = options.ToDictionary(o => o.Field, o => o switch
        {
            Opt.Ints v => IntVector(fb, v.V),
            Opt.S v => fb.CreateString(v.V).Value,
            _ => 0,
        });
        fb.StartTable(options.Length == 0 ? 0 : options.Max(o => o.Field) + 1);
        foreach (var o in options)
        {
            switch (o)
            {
                case Opt.I v: fb.AddInt(v.Field, v.V, int.MinValue); break;
                case Opt.B v: fb.AddBool(v.Field, v.V, !v.V); break;
                case Opt.U8 v: fb.AddByte(v.Field, v.V, (byte)(v.V + 1)); break;
                case Opt.F32 v: fb.AddFloat(v.Field, v.V, float.NaN); break;
                default: fb.AddOffset(o.Field, pre[o.Field], 0); break;
            }
        }
        return fb.EndTable();
    }

    private static int IntVector(FlatBufferBuilder fb, int[] v)
    {
        fb.StartVector(4, v.Length, 4);
        for (int i = v.Length - 1; i >= 0; i--) fb.PutInt(v[i]);
        return fb.EndVector().Value;
    }

    private static int FloatVector(FlatBufferBuilder fb, float[] v)
    {
        fb.StartVector(4, v.Length, 4);
        for (int i = v.Length - 1; i >= 0; i--) fb.PutFloat(v[i]);
        return fb.EndVector().Value;
    }

    private static int OffsetVector(FlatBufferBuilder fb, int[] offsets)
    {
        fb.StartVector(4, offsets.Length, 4);
        for (int i = offsets.Length - 1; i >= 0; i--) fb.AddOffset(offsets[i]);
        return fb.EndVector().Value;
    }
}

/// <summary>BuiltinOptions union type numbers (position in schema.fbs's union, 1-based).</summary>
public static class OptionsType
{
    public const byte Conv2D = 1, FullyConnected = 8, Softmax = 9, Concatenation = 10, Add = 11, Reshape = 17, Mul = 21, Gather = 23,
        Transpose = 26, Reducer = 27, Sub = 28, Div = 29, Squeeze = 30, StridedSlice = 32, Dequantize = 38, ExpandDims = 52, Shape = 55,
        Pack = 59, SquaredDifference = 76, BatchMatMul = 101, CallOnce = 103, VarHandle = 111, ReadVariable = 112, AssignVariable = 113;
}
