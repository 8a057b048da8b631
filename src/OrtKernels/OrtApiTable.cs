using System.Runtime.InteropServices;

namespace Alerts.OrtKernels;

/// <summary>
/// The few entries of ONNX Runtime's C API table (<c>OrtApi</c>) that a custom operator needs, called through
/// function pointers. The Microsoft.ML.OnnxRuntime package does not expose custom operators to managed code, but its
/// native library does: <c>OrtGetApiBase()->GetApi(v)</c> returns the table, whose layout is append-only across
/// releases, so an entry's index never changes. The indices below were counted in the package's
/// <c>onnxruntime_c_api.h</c>; a test recounts them from that header.
/// </summary>
internal static unsafe class OrtApiTable
{
    /// <summary>The API version asked for: the custom-op V2 callbacks (status-returning) arrived in 16.</summary>
    public const uint Version = 16;

    public const int CreateStatusIndex = 0;
    public const int GetErrorMessageIndex = 2;
    public const int CreateCustomOpDomainIndex = 26;
    public const int CustomOpDomainAddIndex = 27;
    public const int AddCustomOpDomainIndex = 28;
    public const int GetTensorMutableDataIndex = 51;
    public const int GetTensorElementTypeIndex = 60;
    public const int GetDimensionsCountIndex = 61;
    public const int GetDimensionsIndex = 62;
    public const int GetTensorTypeAndShapeIndex = 65;
    public const int KernelInfoGetAttributeFloatIndex = 85;
    public const int KernelInfoGetAttributeInt64Index = 86;
    public const int KernelContextGetInputIndex = 90;
    public const int KernelContextGetOutputIndex = 91;
    public const int ReleaseStatusIndex = 93;
    public const int ReleaseTensorTypeAndShapeInfoIndex = 99;

    /// <summary>ORT_FAIL and ORT_INVALID_ARGUMENT of <c>OrtErrorCode</c>.</summary>
    public const int Fail = 1, InvalidArgument = 2;

    /// <summary>ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT.</summary>
    public const int TensorFloat = 1;

    [DllImport("onnxruntime", EntryPoint = "OrtGetApiBase")]
    private static extern nint OrtGetApiBase();

    private static readonly nint* Api = Load();

    private static nint* Load()
    {
        var apiBase = (nint*)OrtGetApiBase();
        var getApi = (delegate* unmanaged<uint, nint>)apiBase[0];
        var api = getApi(Version);
        if (api == 0)
            throw new InvalidOperationException($"ONNX Runtime refused C API version {Version}; Alerts' custom kernels need ORT ≥ 1.16");
        return (nint*)api;
    }

    public static nint CreateStatus(int code, string message)
    {
        var utf8 = Marshal.StringToCoTaskMemUTF8(message);
        try { return ((delegate* unmanaged<int, nint, nint>)Api[CreateStatusIndex])(code, utf8); }
        finally { Marshal.FreeCoTaskMem(utf8); }
    }

    /// <summary>Throws with ORT's message if <paramref name="status"/> is an error, and frees it.</summary>
    public static void Check(nint status, string call)
    {
        if (status == 0) return;
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)Api[GetErrorMessageIndex])(status));
        Release(status);
        throw new InvalidOperationException($"ONNX Runtime {call}: {message}");
    }

    public static void Release(nint status) => ((delegate* unmanaged<nint, void>)Api[ReleaseStatusIndex])(status);

    public static nint CreateCustomOpDomain(string domain)
    {
        var utf8 = Marshal.StringToCoTaskMemUTF8(domain);
        try
        {
            nint result;
            Check(((delegate* unmanaged<nint, nint*, nint>)Api[CreateCustomOpDomainIndex])(utf8, &result), "CreateCustomOpDomain");
            return result;
        }
        finally { Marshal.FreeCoTaskMem(utf8); }
    }

    public static void CustomOpDomainAdd(nint domain, void* op) =>
        Check(((delegate* unmanaged<nint, void*, nint>)Api[CustomOpDomainAddIndex])(domain, op), "CustomOpDomain_Add");

    public static void AddCustomOpDomain(nint sessionOptions, nint domain) =>
        Check(((delegate* unmanaged<nint, nint, nint>)Api[AddCustomOpDomainIndex])(sessionOptions, domain), "AddCustomOpDomain");

    /// <summary>An attribute, or null when the node does not carry it.</summary>
    public static long? KernelInfoInt64(nint info, string name) => KernelInfoAttribute<long>(info, name, KernelInfoGetAttributeInt64Index);

    /// <inheritdoc cref="KernelInfoInt64"/>
    public static float? KernelInfoFloat(nint info, string name) => KernelInfoAttribute<float>(info, name, KernelInfoGetAttributeFloatIndex);

    /// <summary>KernelInfoGetAttribute_int64 and _float share one signature: (info, name, T* out) → status.</summary>
    private static T? KernelInfoAttribute<T>(nint info, string name, int index) where T : unmanaged
    {
        var utf8 = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            T value;
            var status = ((delegate* unmanaged<nint, nint, T*, nint>)Api[index])(info, utf8, &value);
            if (status != 0) { Release(status); return null; }
            return value;
        }
        finally { Marshal.FreeCoTaskMem(utf8); }
    }

    public static nint Input(nint context, int index)
    {
        nint value;
        Check(((delegate* unmanaged<nint, nuint, nint*, nint>)Api[KernelContextGetInputIndex])(context, (nuint)index, &value), "KernelContext_GetInput");
        return value;
    }

    public static nint Output(nint context, int index, ReadOnlySpan<long> dims)
    {
        nint value;
        fixed (long* d = dims)
            Check(((delegate* unmanaged<nint, nuint, long*, nuint, nint*, nint>)Api[KernelContextGetOutputIndex])(context, (nuint)index, d, (nuint)dims.Length, &value), "KernelContext_GetOutput");
        return value;
    }

    /// <summary>Element type and shape of a tensor value; <paramref name="dims"/> receives up to its length of dimensions.</summary>
    public static (int ElementType, int Rank) TypeAndShape(nint value, Span<long> dims)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)Api[GetTensorTypeAndShapeIndex])(value, &info), "GetTensorTypeAndShape");
        try
        {
            int type;
            nuint rank;
            Check(((delegate* unmanaged<nint, int*, nint>)Api[GetTensorElementTypeIndex])(info, &type), "GetTensorElementType");
            Check(((delegate* unmanaged<nint, nuint*, nint>)Api[GetDimensionsCountIndex])(info, &rank), "GetDimensionsCount");
            if ((int)rank <= dims.Length)
                fixed (long* d = dims)
                    Check(((delegate* unmanaged<nint, long*, nuint, nint>)Api[GetDimensionsIndex])(info, d, rank), "GetDimensions");
            return (type, (int)rank);
        }
        finally { ((delegate* unmanaged<nint, void>)Api[ReleaseTensorTypeAndShapeInfoIndex])(info); }
    }

    public static nint Data(nint value)
    {
        nint data;
        Check(((delegate* unmanaged<nint, nint*, nint>)Api[GetTensorMutableDataIndex])(value, &data), "GetTensorMutableData");
        return data;
    }
}
