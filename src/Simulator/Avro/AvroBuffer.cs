using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Alerts.Simulator.Avro;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}"/> with the Avro binary primitives
/// (zigzag varints, little-endian IEEE floats, length-prefixed strings/bytes). One instance per writer thread;
/// <see cref="Reset"/> keeps the array so steady-state encoding allocates nothing.
/// </summary>
public sealed class AvroBuffer : IDisposable
{
    private byte[] _buf;
    private int _pos;

    public AvroBuffer(int initialCapacity = 128 * 1024) => _buf = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Length => _pos;
    public ReadOnlySpan<byte> WrittenSpan => _buf.AsSpan(0, _pos);
    public ReadOnlyMemory<byte> WrittenMemory => _buf.AsMemory(0, _pos);
    public byte[] ToArray() => WrittenSpan.ToArray();
    public void Reset() => _pos = 0;

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

    public void WriteInt(int value) => WriteLong(value);
    public void WriteBoolean(bool value) { Ensure(1); _buf[_pos++] = value ? (byte)1 : (byte)0; }
    public void WriteUnionIndex(int index) => WriteLong(index);
    public void WriteNull() { }

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

    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buf.AsSpan(_pos));
        _pos += value.Length;
    }

    public void WriteString(string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Ensure(max + 10);
        if (value.Length < 64 && IsAscii(value))
        {
            WriteLong(value.Length);
            for (int i = 0; i < value.Length; i++) _buf[_pos++] = (byte)value[i];
            return;
        }
        int count = Encoding.UTF8.GetByteCount(value);
        WriteLong(count);
        _pos += Encoding.UTF8.GetBytes(value, _buf.AsSpan(_pos));
    }

    /// <summary>Writes a span of ASCII chars as an Avro string without allocating a <see cref="string"/>.</summary>
    public void WriteAsciiString(ReadOnlySpan<char> value)
    {
        Ensure(value.Length + 10);
        WriteLong(value.Length);
        for (int i = 0; i < value.Length; i++) _buf[_pos++] = (byte)value[i];
    }

    private static bool IsAscii(string s)
    {
        foreach (var c in s) if (c > 127) return false;
        return true;
    }

    /// <summary>Big-endian int32 (Confluent wire header).</summary>
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
    }
}
