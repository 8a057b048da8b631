using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Alerts.Onnx;

/// <summary>An array read from a NumPy .npy file: shape plus data as float32 or int64.</summary>
public sealed record NpyArray(int[] Shape, float[]? Floats, long[]? Longs)
{
    public long Length => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// Reads NumPy .npy (format 1.0-3.0, C order, little-endian) and .npz (zip of .npy) files. Supported dtypes:
/// float32, float64 (read as float32), int64, int32, uint8 and int8 (read as int64). That covers the features
/// files `alerts features` writes (x float32 [N, steps, bands], y int64 [N]).
/// </summary>
public static class Npy
{
    public static NpyArray Read(string path)
    {
        using var s = File.OpenRead(path);
        return Read(s, path);
    }

    /// <summary>
    /// Reads the members of an .npz. <paramref name="include"/> picks members by name (without ".npy"); others are
    /// not parsed, so archives that also hold string arrays (`alerts features` writes ids, channels, classes) load.
    /// </summary>
    public static Dictionary<string, NpyArray> ReadNpz(string path, Func<string, bool>? include = null)
    {
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        using var zip = ZipFile.OpenRead(path);
        foreach (var e in zip.Entries)
        {
            if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
            if (include is not null && !include(e.FullName[..^4])) continue;
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            ms.Position = 0;
            result[e.FullName[..^4]] = Read(ms, $"{path}:{e.FullName}");
        }
        return result;
    }

    public static NpyArray Read(Stream s, string where)
    {
        Span<byte> magic = stackalloc byte[8];
        s.ReadExactly(magic);
        if (magic[0] != 0x93 || magic[1] != (byte)'N' || magic[2] != (byte)'U' || magic[3] != (byte)'M' || magic[4] != (byte)'P' || magic[5] != (byte)'Y')
            throw new InvalidDataException($"{where}: not a .npy file (magic \\x93NUMPY missing). Save arrays with numpy.save / numpy.savez.");
        int major = magic[6];
        int headerLen;
        if (major == 1) { Span<byte> l = stackalloc byte[2]; s.ReadExactly(l); headerLen = l[0] | l[1] << 8; }
        else { Span<byte> l = stackalloc byte[4]; s.ReadExactly(l); headerLen = BitConverter.ToInt32(l); }
        var hb = new byte[headerLen];
        s.ReadExactly(hb);
        var header = Encoding.Latin1.GetString(hb);
        string descr = Field(header, "descr", where).Trim('\'', '"', ' ');
        if (Field(header, "fortran_order", where).Trim() != "False")
            throw new InvalidDataException($"{where}: fortran_order arrays are not supported; save with numpy.ascontiguousarray first.");
        var shapeText = Field(header, "shape", where).Trim().TrimStart('(').TrimEnd(')');
        int[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        long n = shape.Aggregate(1L, (a, d) => a * d);
        if (descr.StartsWith('>')) throw new InvalidDataException($"{where}: big-endian dtype '{descr}' is not supported; use little-endian ('<f4', '<i8').");
        string kind = descr.TrimStart('<', '|', '=');
        byte[] data = new byte[checked(n * ElementSize(kind, where))];
        s.ReadExactly(data);
        return kind switch
        {
            "f4" => new NpyArray(shape, MemoryMarshal.Cast<byte, float>(data).ToArray(), null),
            "f8" => new NpyArray(shape, Array.ConvertAll(MemoryMarshal.Cast<byte, double>(data).ToArray(), d => (float)d), null),
            "i8" => new NpyArray(shape, null, MemoryMarshal.Cast<byte, long>(data).ToArray()),
            "i4" => new NpyArray(shape, null, Array.ConvertAll(MemoryMarshal.Cast<byte, int>(data).ToArray(), v => (long)v)),
            "u1" => new NpyArray(shape, null, Array.ConvertAll(data, v => (long)v)),
            "i1" => new NpyArray(shape, null, Array.ConvertAll(data, v => (long)(sbyte)v)),
            _ => throw new InvalidDataException($"{where}: dtype '{descr}' is not supported"),
        };
    }

    private static int ElementSize(string kind, string where) => kind switch
    {
        "f4" or "i4" => 4,
        "f8" or "i8" => 8,
        "u1" or "i1" => 1,
        _ => throw new InvalidDataException($"{where}: dtype '{kind}' is not supported; use float32 for features and int64 for labels."),
    };

    private static string Field(string header, string key, string where)
    {
        int i = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (i < 0) throw new InvalidDataException($"{where}: .npy header has no '{key}' entry: {header}");
        int colon = header.IndexOf(':', i);
        int end;
        if (key == "shape") end = header.IndexOf(')', colon) + 1;
        else { end = header.IndexOf(',', colon); if (end < 0) end = header.IndexOf('}', colon); }
        return header[(colon + 1)..end];
    }

    /// <summary>Writes a float32 .npy (used by tests and by `alerts compress` to dump calibration sets).</summary>
    public static void Write(Stream s, ReadOnlySpan<float> data, params int[] shape) => WriteRaw(s, "<f4", MemoryMarshal.AsBytes(data), shape);
    public static void Write(Stream s, ReadOnlySpan<long> data, params int[] shape) => WriteRaw(s, "<i8", MemoryMarshal.AsBytes(data), shape);

    private static void WriteRaw(Stream s, string descr, ReadOnlySpan<byte> data, int[] shape)
    {
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.Latin1.GetBytes(header));
        s.Write(data);
    }
}
