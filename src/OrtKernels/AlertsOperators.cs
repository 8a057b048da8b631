using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Alerts.OrtKernels;

/// <summary>
/// Alerts' own ONNX operators, registered into ONNX Runtime sessions as a custom-op domain. The kernels are managed
/// code (Vector256 on the calling thread); ORT calls them through <see cref="UnmanagedCallersOnlyAttribute"/>
/// function pointers, so there is no native library to build or ship.
/// <list type="bullet">
/// <item><c>ai.alerts.ScaledDotProductAttention(Q, K, V) → O</c>: float tensors [B, T, H·dh], attributes
/// <c>num_heads</c> (int) and <c>scale</c> (float, default 1/√dh); O = concat over heads of softmax(scale·QₕKₕᵀ)Vₕ,
/// the same [B, T, H·dh] layout. See <see cref="ScaledDotProductAttention"/>.</item>
/// </list>
/// A model that uses them loads only in a session whose options went through <see cref="Register"/>; the shipped fp32
/// models use none (they stay portable), the compressor writes them into the deployed model.
/// </summary>
public static unsafe class AlertsOperators
{
    public const string Domain = "ai.alerts";
    public const string AttentionOpType = "ScaledDotProductAttention";

    private static readonly Lazy<nint> DomainHandle = new(CreateDomain, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Adds the <see cref="Domain"/> operators to <paramref name="options"/> (before a session is built from them).</summary>
    public static SessionOptions Register(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), DomainHandle.Value);
        return options;
    }

    /// <summary>
    /// One domain and one op description for the process: ORT keeps pointers to both for as long as any session
    /// built with them lives, so they are allocated once and never freed.
    /// </summary>
    private static nint CreateDomain()
    {
        var domain = OrtApiTable.CreateCustomOpDomain(Domain);
        var op = (OrtCustomOp*)NativeMemory.AllocZeroed((nuint)sizeof(OrtCustomOp));
        op->Version = OrtApiTable.Version;
        op->GetName = &GetName;
        op->GetExecutionProviderType = &GetExecutionProviderType;
        op->GetInputType = &GetFloatType;
        op->GetInputTypeCount = &GetInputTypeCount;
        op->GetOutputType = &GetFloatType;
        op->GetOutputTypeCount = &GetOutputTypeCount;
        op->KernelDestroy = &KernelDestroy;
        op->GetInputCharacteristic = &Required;
        op->GetOutputCharacteristic = &Required;
        op->GetInputMemoryType = &DefaultMemory;
        op->GetVariadicInputMinArity = &One;
        op->GetVariadicInputHomogeneity = &One;
        op->GetVariadicOutputMinArity = &One;
        op->GetVariadicOutputHomogeneity = &One;
        op->CreateKernelV2 = &CreateKernel;
        op->KernelComputeV2 = &Compute;
        OrtApiTable.CustomOpDomainAdd(domain, op);

        // ORT adds a custom domain to its process-wide ONNX schema map when the first session using it is built,
        // with an unguarded check-then-add: two sessions built at once on first use (two classifier workers, parallel
        // tests) both try, and the second fails with "domain is already exist with version range (1, 1000)". One
        // throw-away session built here, while every other caller waits on this Lazy, registers it once.
        using var options = new SessionOptions();
        OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), domain);
        using (new InferenceSession(WarmUpModel(), options)) { }
        return domain;
    }

    /// <summary>
    /// The smallest model using the op: o = ScaledDotProductAttention(x, x, x) on float [1, 1, 1], as ONNX protobuf
    /// bytes written by hand (this project has no protobuf dependency; field numbers from onnx.proto).
    /// </summary>
    internal static byte[] WarmUpModel()
    {
        static byte[] Varint(ulong v) { var b = new List<byte>(); do { byte x = (byte)(v & 0x7F); v >>= 7; b.Add(v == 0 ? x : (byte)(x | 0x80)); } while (v != 0); return [.. b]; }
        static byte[] Int(int field, long value) => [.. Varint((ulong)(field << 3)), .. Varint((ulong)value)];
        static byte[] Bytes(int field, byte[] payload) => [.. Varint((ulong)(field << 3 | 2)), .. Varint((ulong)payload.Length), .. payload];
        static byte[] Str(int field, string value) => Bytes(field, System.Text.Encoding.UTF8.GetBytes(value));
        byte[] dim = Bytes(1, Int(1, 1));                                            // TensorShapeProto.dim { dim_value: 1 }
        byte[] type = Bytes(1, [.. Int(1, OrtApiTable.TensorFloat), .. Bytes(2, [.. dim, .. dim, .. dim])]);   // TypeProto.tensor_type
        byte[] Value(string name) => [.. Str(1, name), .. Bytes(2, type)];           // ValueInfoProto
        byte[] attribute = [.. Str(1, "num_heads"), .. Int(3, 1), .. Int(20, 2)];   // AttributeProto { name, i, type: INT }
        byte[] node = [.. Str(1, "x"), .. Str(1, "x"), .. Str(1, "x"), .. Str(2, "o"), .. Str(3, "attention"), .. Str(4, AttentionOpType),
                       .. Bytes(5, attribute), .. Str(7, Domain)];
        byte[] graph = [.. Bytes(1, node), .. Str(2, "alerts-operators-warm-up"), .. Bytes(11, Value("x")), .. Bytes(12, Value("o"))];
        return [.. Int(1, 8), .. Bytes(7, graph), .. Bytes(8, [.. Str(1, ""), .. Int(2, 17)]), .. Bytes(8, [.. Str(1, Domain), .. Int(2, 1)])];
    }

    private static readonly nint NameUtf8 = Marshal.StringToCoTaskMemUTF8(AttentionOpType);

    /// <summary>Per-node state: the attributes, read once when ORT creates the kernel.</summary>
    private struct AttentionAttributes
    {
        public long Heads;
        public float Scale;   // NaN: 1/√dh, known at the first Compute
    }

    [UnmanagedCallersOnly] private static nint GetName(OrtCustomOp* op) => NameUtf8;
    [UnmanagedCallersOnly] private static nint GetExecutionProviderType(OrtCustomOp* op) => 0;   // CPU
    [UnmanagedCallersOnly] private static int GetFloatType(OrtCustomOp* op, nuint index) => OrtApiTable.TensorFloat;
    [UnmanagedCallersOnly] private static nuint GetInputTypeCount(OrtCustomOp* op) => 3;
    [UnmanagedCallersOnly] private static nuint GetOutputTypeCount(OrtCustomOp* op) => 1;
    [UnmanagedCallersOnly] private static int Required(OrtCustomOp* op, nuint index) => 0;        // INPUT_OUTPUT_REQUIRED
    [UnmanagedCallersOnly] private static int DefaultMemory(OrtCustomOp* op, nuint index) => 0;   // OrtMemTypeDefault
    [UnmanagedCallersOnly] private static int One(OrtCustomOp* op) => 1;

    [UnmanagedCallersOnly]
    private static nint CreateKernel(OrtCustomOp* op, nint api, nint info, nint* kernel)
    {
        try
        {
            long heads = OrtApiTable.KernelInfoInt64(info, "num_heads")
                         ?? throw new InvalidDataException($"{Domain}.{AttentionOpType} needs an int attribute 'num_heads'");
            if (heads <= 0) throw new InvalidDataException($"{Domain}.{AttentionOpType}: num_heads = {heads}; it must be positive");
            float scale = OrtApiTable.KernelInfoFloat(info, "scale") ?? float.NaN;
            var state = (AttentionAttributes*)NativeMemory.Alloc((nuint)sizeof(AttentionAttributes));
            *state = new AttentionAttributes { Heads = heads, Scale = scale };
            *kernel = (nint)state;
            return 0;
        }
        catch (Exception e)
        {
            return OrtApiTable.CreateStatus(OrtApiTable.InvalidArgument, e.Message);
        }
    }

    [UnmanagedCallersOnly]
    private static void KernelDestroy(nint kernel) => NativeMemory.Free((void*)kernel);

    [UnmanagedCallersOnly]
    private static nint Compute(nint kernel, nint context)
    {
        try
        {
            var attributes = (AttentionAttributes*)kernel;
            Span<long> shape = stackalloc long[3];
            var q = OrtApiTable.Input(context, 0);
            var (type, rank) = OrtApiTable.TypeAndShape(q, shape);
            if (type != OrtApiTable.TensorFloat || rank != 3)
                return Fail($"Q is a rank-{rank} tensor of element type {type}; it must be float [batch, steps, heads·head width]");
            long batch = shape[0], steps = shape[1], width = shape[2];
            if (width % attributes->Heads != 0)
                return Fail($"Q's last axis ({width}) is not a multiple of num_heads ({attributes->Heads})");
            var k = OrtApiTable.Input(context, 1);
            var v = OrtApiTable.Input(context, 2);
            if (SameShape(k, "K", shape) is { } kError) return Fail(kError);
            if (SameShape(v, "V", shape) is { } vError) return Fail(vError);
            var o = OrtApiTable.Output(context, 0, shape);
            int headDim = (int)(width / attributes->Heads);
            float scale = float.IsNaN(attributes->Scale) ? 1f / MathF.Sqrt(headDim) : attributes->Scale;
            int n = checked((int)(batch * steps * width));
            ScaledDotProductAttention.Compute(
                new ReadOnlySpan<float>((void*)OrtApiTable.Data(q), n), new ReadOnlySpan<float>((void*)OrtApiTable.Data(k), n),
                new ReadOnlySpan<float>((void*)OrtApiTable.Data(v), n), new Span<float>((void*)OrtApiTable.Data(o), n),
                (int)batch, (int)steps, (int)attributes->Heads, headDim, scale);
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e.Message);
        }

        static string? SameShape(nint value, string name, ReadOnlySpan<long> shape)
        {
            Span<long> other = stackalloc long[3];
            var (t, r) = OrtApiTable.TypeAndShape(value, other);
            return t == OrtApiTable.TensorFloat && r == 3 && other.SequenceEqual(shape) ? null
                : $"{name} has shape [{string.Join(", ", other[..Math.Min(r, 3)].ToArray())}] (type {t}); self-attention needs Q's [{string.Join(", ", shape.ToArray())}]";
        }

        static nint Fail(string message) => OrtApiTable.CreateStatus(OrtApiTable.Fail, $"{Domain}.{AttentionOpType}: {message}");
    }

    /// <summary><c>struct OrtCustomOp</c> of onnxruntime_c_api.h, through the V2 callbacks (version 16); the later
    /// members are zero, which ORT reads as "not provided".</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct OrtCustomOp
    {
        public uint Version;
        public delegate* unmanaged<OrtCustomOp*, nint, nint, nint> CreateKernel;
        public delegate* unmanaged<OrtCustomOp*, nint> GetName;
        public delegate* unmanaged<OrtCustomOp*, nint> GetExecutionProviderType;
        public delegate* unmanaged<OrtCustomOp*, nuint, int> GetInputType;
        public delegate* unmanaged<OrtCustomOp*, nuint> GetInputTypeCount;
        public delegate* unmanaged<OrtCustomOp*, nuint, int> GetOutputType;
        public delegate* unmanaged<OrtCustomOp*, nuint> GetOutputTypeCount;
        public delegate* unmanaged<nint, nint, void> KernelCompute;
        public delegate* unmanaged<nint, void> KernelDestroy;
        public delegate* unmanaged<OrtCustomOp*, nuint, int> GetInputCharacteristic;
        public delegate* unmanaged<OrtCustomOp*, nuint, int> GetOutputCharacteristic;
        public delegate* unmanaged<OrtCustomOp*, nuint, int> GetInputMemoryType;
        public delegate* unmanaged<OrtCustomOp*, int> GetVariadicInputMinArity;
        public delegate* unmanaged<OrtCustomOp*, int> GetVariadicInputHomogeneity;
        public delegate* unmanaged<OrtCustomOp*, int> GetVariadicOutputMinArity;
        public delegate* unmanaged<OrtCustomOp*, int> GetVariadicOutputHomogeneity;
        public delegate* unmanaged<OrtCustomOp*, nint, nint, nint*, nint> CreateKernelV2;
        public delegate* unmanaged<nint, nint, nint> KernelComputeV2;
        public nint InferOutputShapeFn, GetStartVersion, GetEndVersion, GetMayInplace, ReleaseMayInplace, GetAliasMap, ReleaseAliasMap;
    }
}
