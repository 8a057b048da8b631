using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Alerts.Avro;

/// <summary>
/// Writes Avro binary encoding (zigzag varints, little-endian IEEE floats, length-prefixed strings and bytes)
/// into a growable buffer rented from <see cref="ArrayPool{T}"/>. The one Avro writer of the project: the
/// simulator encodes its alerts with it, container files frame with it, and the tests write random datums
/// with it. One instance per writer thread; <see cref="Reset"/> keeps the array, so steady-state encoding
/// allocates nothing. Arrays and maps are written as one block plus the end marker.
/// </summary>
public sealed class AvroBinaryWriter : IDisposable
{
    private byte[] _buf;
    private int _pos;
    private int _start; // first valid byte: a prefix may be written in front of already-written content

    public AvroBinaryWriter(int capacity = 4096) => _buf = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 16));

    public int Length => _pos - _start;
    public ReadOnlySpan<byte> WrittenSpan => _buf.AsSpan(_start, _pos - _start);
    public ReadOnlyMemory<byte> WrittenMemory => _buf.AsMemory(_start, _pos - _start);
    public byte[] ToArray() => WrittenSpan.ToArray();
    public void Reset() { _pos = 0; _start = 0; }

    /// <summary>Absolute write position (for <see cref="Skip"/> and <see cref="WritePrefix"/>).</summary>
    public int Position => _pos;

    /// <summary>Leaves <paramref name="count"/> bytes of room, to be filled later by <see cref="WritePrefix"/>.</summary>
    public void Skip(int count) { Ensure(count); _pos += count; }

    /// <summary>Writes <paramref name="prefix"/> so that it ends exactly at <paramref name="end"/>, and makes it the
    /// start of the written content (bytes before it are dropped). A container block header is only known after
    /// its datum is written; this puts it in front without copying a 60 KB datum.</summary>
    public void WritePrefix(ReadOnlySpan<byte> prefix, int end)
    {
        int start = end - prefix.Length;
        if (start < 0) throw new InvalidOperationException("prefix does not fit in the reserved room");
        prefix.CopyTo(_buf.AsSpan(start));
        _start = start;
    }

    /// <summary>Zigzag varint of <paramref name="value"/> into <paramref name="dest"/>; returns the byte count.</summary>
    public static int EncodeLong(long value, Span<byte> dest)
    {
        ulong n = (ulong)((value << 1) ^ (value >> 63));
        int p = 0;
        while (n >= 0x80) { dest[p++] = (byte)(n | 0x80); n >>= 7; }
        dest[p++] = (byte)n;
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int extra)
    {
        if (_pos + extra > _buf.Length) Grow(extra);
    }

    private void Grow(int extra)
    {
        var n = ArrayPool<byte>.Shared.Rent(Math.Max(_buf.Length * 2, _pos + extra));
        _buf.AsSpan(0, _pos).CopyTo(n);
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = n;
    }

    public void WriteNull() { }
    public void WriteBoolean(bool value) { Ensure(1); _buf[_pos++] = value ? (byte)1 : (byte)0; }
    public void WriteInt(int value) => WriteLong(value);
    public void WriteUnionIndex(int branch) => WriteLong(branch);
    public void WriteEnum(int symbol) => WriteLong(symbol);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteLong(long value)
    {
        Ensure(10);
        ulong n = (ulong)((value << 1) ^ (value >> 63));
        var b = _buf;
        int p = _pos;
        while (n >= 0x80) { b[p++] = (byte)(n | 0x80); n >>= 7; }
        b[p++] = (byte)n;
        _pos = p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteFloat(float value)
    {
        Ensure(4);
        BinaryPrimitives.WriteSingleLittleEndian(_buf.AsSpan(_pos), value);
        _pos += 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteDouble(double value)
    {
        Ensure(8);
        BinaryPrimitives.WriteDoubleLittleEndian(_buf.AsSpan(_pos), value);
        _pos += 8;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteLong(value.Length);
        WriteRaw(value);
    }

    public void WriteFixed(ReadOnlySpan<byte> value) => WriteRaw(value);

    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buf.AsSpan(_pos));
        _pos += value.Length;
    }

    public void WriteString(string value)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(value.Length) + 10);
        if (value.Length < 64 && Ascii.IsValid(value))
        {
            WriteLong(value.Length);
            for (int i = 0; i < value.Length; i++) _buf[_pos++] = (byte)value[i];
            return;
        }
        WriteLong(Encoding.UTF8.GetByteCount(value));
        _pos += Encoding.UTF8.GetBytes(value, _buf.AsSpan(_pos));
    }

    /// <summary>Writes a span of ASCII chars as an Avro string without allocating a <see cref="string"/>.</summary>
    public void WriteAsciiString(ReadOnlySpan<char> value)
    {
        Ensure(value.Length + 10);
        WriteLong(value.Length);
        for (int i = 0; i < value.Length; i++) _buf[_pos++] = (byte)value[i];
    }

    /// <summary>Starts an array or map block of <paramref name="count"/> items; call <see cref="WriteBlockEnd"/> after the items.</summary>
    public void WriteBlockStart(int count) { if (count > 0) WriteLong(count); }
    public void WriteBlockEnd() => WriteLong(0);

    /// <summary>Big-endian int32 (the Confluent wire header's schema id).</summary>
    public void WriteInt32BigEndian(int value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32BigEndian(_buf.AsSpan(_pos), value);
        _pos += 4;
    }

    public void WriteByte(byte value) { Ensure(1); _buf[_pos++] = value; }

    public void Dispose()
    {
        if (_buf.Length > 0) ArrayPool<byte>.Shared.Return(_buf);
        _buf = [];
        _pos = _start = 0;
    }
}
