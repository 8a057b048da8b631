using System.IO.Compression;
using System.Text;

namespace Alerts.Classifier;

/// <summary>
/// Writes NumPy <c>.npy</c> arrays (format 1.0) and <c>.npz</c> archives (a zip of .npy members), so the Python
/// trainer reads exactly the features the C# service computes (<c>numpy.load</c>, no pickle).
/// </summary>
public static class NumpyArchive
{
    public static void WriteNpy(Stream stream, ReadOnlySpan<float> data, params int[] shape) =>
        Write(stream, "<f4", shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));

    public static void WriteNpy(Stream stream, ReadOnlySpan<long> data, params int[] shape) =>
        Write(stream, "<i8", shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));

    public static void WriteNpy(Stream stream, ReadOnlySpan<double> data, params int[] shape) =>
        Write(stream, "<f8", shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));

    /// <summary>Strings as fixed-width UTF-32 ('&lt;U n'), numpy's native text dtype.</summary>
    public static void WriteNpy(Stream stream, IReadOnlyList<string> values)
    {
        int width = Math.Max(1, values.Count == 0 ? 1 : values.Max(v => v.Length));
        var bytes = new byte[values.Count * width * 4];
        for (int i = 0; i < values.Count; i++)
            Encoding.UTF32.GetBytes(values[i], 0, values[i].Length, bytes, i * width * 4);
        Write(stream, $"<U{width}", [values.Count], bytes);
    }

    private static void Write(Stream stream, string descr, int[] shape, ReadOnlySpan<byte> payload)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts");
        string dims = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";
        int total = 10 + header.Length + 1;
        int pad = (64 - total % 64) % 64;
        header = header + new string(' ', pad) + "\n";
        Span<byte> pre = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8)];
        stream.Write(pre);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(payload);
    }

    /// <summary>Writes an .npz with the given members (name without ".npy" → writer).</summary>
    public static void WriteNpz(string path, IEnumerable<(string Name, Action<Stream> Write)> members)
    {
        var tmp = path + ".tmp";
        using (var file = File.Create(tmp))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            foreach (var (name, write) in members)
            {
                var entry = zip.CreateEntry(name + ".npy", CompressionLevel.Fastest);
                using var s = entry.Open();
                write(s);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }
}
