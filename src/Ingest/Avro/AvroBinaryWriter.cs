using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Alerts.Ingest.Avro;

/// <summary>
/// Writes Avro binary encoding into a growable pooled buffer. Small and dependency-free so that the simulator and
/// the tests can produce alerts byte-compatible with any Avro reader. Arrays are written as one block + end marker.
/// </summary>
public sealed class AvroBinaryWriter : IDisposable
{
    private byte[] _buf;
    private int _len;

    public AvroBinaryWriter(int capacity = 4096) => _buf = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 16));

    public int Length => _len;
    public ReadOnlySpan<byte> WrittenSpan => _buf.AsSpan(0, _len);
    public ReadOnlyMemory<byte> WrittenMemory => _buf.AsMemory(0, _len);
    public byte[] ToArray() => WrittenSpan.ToArray();
    public void Reset() => _len = 0;

    private Span<byte> Reserve(int n)
    {
        if (_len + n > _buf.Length)
        {
            var nb = ArrayPool<byte>.Shared.Rent(Math.Max(_buf.Length * 2, _len + n));
            _buf.AsSpan(0, _len).CopyTo(nb);
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = nb;
        }
        var s = _buf.AsSpan(_len, n);
        _len += n;
        return s;
    }

    public void WriteNull() { }
    public void WriteBoolean(bool v) => Reserve(1)[0] = v ? (byte)1 : (byte)0;
    public void WriteInt(int v) => WriteLong(v);

    public void WriteLong(long v)
    {
        ulong n = (ulong)((v << 1) ^ (v >> 63));
        var s = Reserve(10);
        int i = 0;
        while (n >= 0x80) { s[i++] = (byte)(n | 0x80); n >>= 7; }
        s[i++] = (byte)n;
        _len -= 10 - i;
    }

    public void WriteFloat(float v) => BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), v);
    public void WriteDouble(double v) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), v);

    public void WriteBytes(ReadOnlySpan<byte> v)
    {
        WriteLong(v.Length);
        v.CopyTo(Reserve(v.Length));
    }

    public void WriteString(string v)
    {
        int n = Encoding.UTF8.GetByteCount(v);
        WriteLong(n);
        Encoding.UTF8.GetBytes(v, Reserve(n));
    }

    public void WriteFixed(ReadOnlySpan<byte> v) => v.CopyTo(Reserve(v.Length));
    public void WriteUnionIndex(int branch) => WriteLong(branch);
    public void WriteEnum(int symbol) => WriteLong(symbol);

    /// <summary>Starts an array or map block of <paramref name="count"/> items; call <see cref="WriteBlockEnd"/> after the items.</summary>
    public void WriteBlockStart(int count) { if (count > 0) WriteLong(count); }
    public void WriteBlockEnd() => WriteLong(0);

    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    public void Dispose()
    {
        if (_buf.Length > 0) ArrayPool<byte>.Shared.Return(_buf);
        _buf = [];
        _len = 0;
    }
}
