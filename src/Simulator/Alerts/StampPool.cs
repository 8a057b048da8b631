using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Alerts.Simulator.Physics;

namespace Alerts.Simulator.Alerts;

/// <summary>
/// A deterministic pool of valid FITS cutout stamps (63×63 float32 images: sky noise plus a Gaussian PSF), built once
/// per seed so writing alerts only copies bytes. ZTF stamps are gzipped FITS (≈16–18 KB, like the real ones);
/// Rubin stamps are uncompressed FITS (20,160 bytes: one 2880-byte header block plus 6 data blocks).
/// The gzip header carries no time stamp, so the same seed gives the same bytes.
/// </summary>
public sealed class StampPool
{
    public const int Size = 63;
    private readonly byte[][] _science, _template, _difference;

    public StampPool(ulong seed, bool gzip, int count = 16)
    {
        var rng = new Rng(seed ^ 0x5354414D50UL);
        _science = new byte[count][]; _template = new byte[count][]; _difference = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            _science[i] = Make(rng, "SCIENCE", 1200, 40, 3000, gzip);
            _template[i] = Make(rng, "TEMPLATE", 1200, 20, 1500, gzip);
            _difference[i] = Make(rng, "DIFFERENCE", 0, 40, 1500, gzip);
        }
    }

    public int Count => _science.Length;
    public ReadOnlySpan<byte> Science(long k) => _science[(int)((ulong)k % (ulong)_science.Length)];
    public ReadOnlySpan<byte> Template(long k) => _template[(int)((ulong)k % (ulong)_template.Length)];
    public ReadOnlySpan<byte> Difference(long k) => _difference[(int)((ulong)k % (ulong)_difference.Length)];

    private static byte[] Make(Rng rng, string kind, double sky, double noise, double psfPeak, bool gzip)
    {
        var fits = Fits(rng, kind, sky, noise, psfPeak);
        if (!gzip) return fits;
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(fits);
        var bytes = ms.ToArray();
        // RFC 1952 header: MTIME (bytes 4..7) must be zero for reproducible output; the OS byte is fixed to 255 (unknown).
        bytes[4] = bytes[5] = bytes[6] = bytes[7] = 0;
        bytes[9] = 255;
        return bytes;
    }

    /// <summary>A minimal valid primary-HDU FITS image (BITPIX −32, big-endian IEEE floats, 2880-byte blocks).</summary>
    public static byte[] Fits(Rng rng, string kind, double sky, double noise, double psfPeak)
    {
        var cards = new List<string>
        {
            Card("SIMPLE", "T"), Card("BITPIX", "-32"), Card("NAXIS", "2"), Card("NAXIS1", Size.ToString()), Card("NAXIS2", Size.ToString()),
            Card("EXTEND", "T"), Card("IMAGETYP", $"'{kind,-8}'"), Card("ORIGIN", "'alerts-simulator'"), "END".PadRight(80),
        };
        int headerLen = 2880;
        int dataLen = Size * Size * 4;
        int total = headerLen + (dataLen + 2879) / 2880 * 2880;
        var buf = new byte[total];
        Array.Fill(buf, (byte)' ', 0, headerLen);
        for (int i = 0; i < cards.Count; i++) Encoding.ASCII.GetBytes(cards[i], buf.AsSpan(i * 80, 80));
        double sigma = rng.Uniform(1.2, 2.2), c = (Size - 1) / 2.0;
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                double r2 = (x - c) * (x - c) + (y - c) * (y - c);
                // Full-precision float noise, like the real stamps: gzip then saves only ~20%, giving real-sized (~16 KB) stamps.
                float v = (float)(sky + noise * rng.Normal() + psfPeak * Math.Exp(-0.5 * r2 / (sigma * sigma)));
                BinaryPrimitives.WriteSingleBigEndian(buf.AsSpan(headerLen + 4 * (y * Size + x)), v);
            }
        return buf;
    }

    private static string Card(string key, string value) => (key.PadRight(8) + "= " + value.PadLeft(20)).PadRight(80);
}
