using System.Runtime.InteropServices;
using Alerts.Onnx.Proto;
using Google.Protobuf;

namespace Alerts.Onnx;

/// <summary>Conversions between <see cref="TensorProto"/> and .NET arrays (little-endian raw_data, as ONNX stores it).</summary>
public static class Tensors
{
    public const int Float = (int)TensorProto.Types.DataType.Float;
    public const int Uint8 = (int)TensorProto.Types.DataType.Uint8;
    public const int Int8 = (int)TensorProto.Types.DataType.Int8;
    public const int Int32 = (int)TensorProto.Types.DataType.Int32;
    public const int Int64 = (int)TensorProto.Types.DataType.Int64;
    public const int Float16 = (int)TensorProto.Types.DataType.Float16;

    public static long[] Shape(TensorProto t) => t.Dims.ToArray();

    public static long ElementCount(TensorProto t) => t.Dims.Aggregate(1L, (a, d) => a * d);

    public static float[] ToFloats(TensorProto t)
    {
        if (t.DataType != Float) throw new InvalidDataException($"tensor '{t.Name}' has data_type {t.DataType}, expected FLOAT (1)");
        if (t.HasRawData) return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        return t.FloatData.ToArray();
    }

    public static long[] ToInt64s(TensorProto t)
    {
        if (t.DataType != Int64) throw new InvalidDataException($"tensor '{t.Name}' has data_type {t.DataType}, expected INT64 (7)");
        if (t.HasRawData) return MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray();
        return t.Int64Data.ToArray();
    }

    public static TensorProto FromFloats(string name, ReadOnlySpan<float> data, params long[] dims) => Raw(name, Float, MemoryMarshal.AsBytes(data), dims);
    public static TensorProto FromInt64s(string name, ReadOnlySpan<long> data, params long[] dims) => Raw(name, Int64, MemoryMarshal.AsBytes(data), dims);
    public static TensorProto FromInt32s(string name, ReadOnlySpan<int> data, params long[] dims) => Raw(name, Int32, MemoryMarshal.AsBytes(data), dims);
    public static TensorProto FromInt8s(string name, ReadOnlySpan<sbyte> data, params long[] dims) => Raw(name, Int8, MemoryMarshal.AsBytes(data), dims);
    public static TensorProto FromUint8s(string name, ReadOnlySpan<byte> data, params long[] dims) => Raw(name, Uint8, data, dims);
    public static TensorProto FromHalfs(string name, ReadOnlySpan<Half> data, params long[] dims) => Raw(name, Float16, MemoryMarshal.AsBytes(data), dims);

    /// <summary>A scalar (rank 0) tensor, as QuantizeLinear/DequantizeLinear want for per-tensor parameters.</summary>
    public static TensorProto ScalarFloat(string name, float v) => FromFloats(name, [v]);
    public static TensorProto ScalarUint8(string name, byte v) => FromUint8s(name, [v]);
    public static TensorProto ScalarInt8(string name, sbyte v) => FromInt8s(name, [v]);

    private static TensorProto Raw(string name, int type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }
}
