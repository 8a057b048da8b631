using System.Buffers.Binary;
using System.Text;

namespace Alerts.Interop.TfLite;

/// <summary>
/// Bounds-checked access to a FlatBuffer (little-endian tables with vtables, vectors, strings, unions).
/// Hand-written rather than flatc-generated so that every offset read is checked against the buffer: a truncated
/// or corrupt .tflite becomes an <see cref="InvalidDataException"/> naming what was being read, never an
/// IndexOutOfRange deep inside generated code.
/// </summary>
internal readonly struct FlatBufferReader
{
    public readonly ReadOnlyMemory<byte> Bytes;

    public FlatBufferReader(ReadOnlyMemory<byte> bytes) => Bytes = bytes;

    public int Length => Bytes.Length;

    private ReadOnlySpan<byte> Span => Bytes.Span;

    public void Need(long pos, long count, string what)
    {
        if (pos < 0 || count < 0 || pos + count > Length)
            throw new InvalidDataException($"{what}: needs bytes [{pos}, {pos + count}) but the file has {Length} bytes (truncated or corrupt flatbuffer)");
    }

    public int Int32(int pos, string what) { Need(pos, 4, what); return BinaryPrimitives.ReadInt32LittleEndian(Span[pos..]); }
    public uint UInt32(int pos, string what) { Need(pos, 4, what); return BinaryPrimitives.ReadUInt32LittleEndian(Span[pos..]); }
    public ushort UInt16(int pos, string what) { Need(pos, 2, what); return BinaryPrimitives.ReadUInt16LittleEndian(Span[pos..]); }

    /// <summary>The root table: a uoffset at position 0.</summary>
    public Table Root(string what)
    {
        Need(0, 8, what + " (file header)");
        return TableAt(0, what);
    }

    /// <summary>Follows the uoffset stored at <paramref name="pos"/> to a table.</summary>
    public Table TableAt(int pos, string what)
    {
        long target = (long)pos + UInt32(pos, what);
        Need(target, 4, what);
        int table = (int)target;
        long vtable = table - (long)Int32(table, what + " vtable offset");
        Need(vtable, 4, what + " vtable");
        int vtableSize = UInt16((int)vtable, what + " vtable size");
        int objectSize = UInt16((int)vtable + 2, what + " object size");
        if (vtableSize < 4 || (vtableSize & 1) != 0) throw new InvalidDataException($"{what}: vtable size {vtableSize} is invalid (corrupt flatbuffer)");
        Need(vtable, vtableSize, what + " vtable");
        Need(table, objectSize, what + " table body");
        return new Table(this, table, (int)vtable, vtableSize, what);
    }

    public readonly struct Table
    {
        private readonly FlatBufferReader _r;
        public readonly int Position;
        private readonly int _vtable, _vtableSize;
        public readonly string What;

        internal Table(FlatBufferReader r, int position, int vtable, int vtableSize, string what)
        { _r = r; Position = position; _vtable = vtable; _vtableSize = vtableSize; What = what; }

        /// <summary>Absolute position of field <paramref name="index"/> (schema order), or -1 if absent.</summary>
        public int FieldPos(int index)
        {
            int slot = 4 + 2 * index;
            if (slot + 2 > _vtableSize) return -1;
            int rel = _r.UInt16(_vtable + slot, What);
            return rel == 0 ? -1 : Position + rel;
        }

        public bool Has(int index) => FieldPos(index) >= 0;

        public byte UInt8(int index, byte fallback = 0, string? name = null)
        {
            int p = FieldPos(index); if (p < 0) return fallback;
            _r.Need(p, 1, $"{What}.{name ?? index.ToString()}"); return _r.Bytes.Span[p];
        }

        public sbyte Int8(int index, sbyte fallback = 0, string? name = null) => unchecked((sbyte)UInt8(index, unchecked((byte)fallback), name));

        public bool Bool(int index, bool fallback = false, string? name = null) => UInt8(index, fallback ? (byte)1 : (byte)0, name) != 0;

        public int Int32(int index, int fallback = 0, string? name = null)
        {
            int p = FieldPos(index); return p < 0 ? fallback : _r.Int32(p, $"{What}.{name ?? index.ToString()}");
        }

        public uint UInt32(int index, uint fallback = 0, string? name = null)
        {
            int p = FieldPos(index); return p < 0 ? fallback : _r.UInt32(p, $"{What}.{name ?? index.ToString()}");
        }

        public float Float32(int index, float fallback = 0, string? name = null)
        {
            int p = FieldPos(index); return p < 0 ? fallback : BitConverter.Int32BitsToSingle(_r.Int32(p, $"{What}.{name ?? index.ToString()}"));
        }

        public Table? SubTable(int index, string name)
        {
            int p = FieldPos(index); return p < 0 ? null : _r.TableAt(p, $"{What}.{name}");
        }

        public string? String(int index, string name)
        {
            var v = VectorBytes(index, 1, name);
            return v is null ? null : Encoding.UTF8.GetString(v.Value.Span);
        }

        /// <summary>The element bytes of a vector of scalars (element size <paramref name="elementSize"/>), or null if absent.</summary>
        public ReadOnlyMemory<byte>? VectorBytes(int index, int elementSize, string name)
        {
            int p = FieldPos(index); if (p < 0) return null;
            string what = $"{What}.{name}";
            long start = (long)p + _r.UInt32(p, what);
            _r.Need(start, 4, what + " length");
            long count = _r.UInt32((int)start, what + " length");
            _r.Need(start + 4, count * elementSize, $"{what} ({count} elements of {elementSize} bytes)");
            return _r.Bytes.Slice((int)start + 4, (int)(count * elementSize));
        }

        public int[]? Int32Vector(int index, string name)
        {
            var b = VectorBytes(index, 4, name); if (b is null) return null;
            var s = b.Value.Span; var a = new int[s.Length / 4];
            for (int i = 0; i < a.Length; i++) a[i] = BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]);
            return a;
        }

        public long[]? Int64Vector(int index, string name)
        {
            var b = VectorBytes(index, 8, name); if (b is null) return null;
            var s = b.Value.Span; var a = new long[s.Length / 8];
            for (int i = 0; i < a.Length; i++) a[i] = BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]);
            return a;
        }

        public float[]? Float32Vector(int index, string name)
        {
            var b = VectorBytes(index, 4, name); if (b is null) return null;
            var s = b.Value.Span; var a = new float[s.Length / 4];
            for (int i = 0; i < a.Length; i++) a[i] = BinaryPrimitives.ReadSingleLittleEndian(s[(4 * i)..]);
            return a;
        }

        /// <summary>A vector of tables (each element a uoffset to a table).</summary>
        public List<Table> TableVector(int index, string name)
        {
            var list = new List<Table>();
            int p = FieldPos(index); if (p < 0) return list;
            string what = $"{What}.{name}";
            long start = (long)p + _r.UInt32(p, what);
            _r.Need(start, 4, what + " length");
            long count = _r.UInt32((int)start, what + " length");
            _r.Need(start + 4, count * 4, $"{what} ({count} offsets)");
            for (int i = 0; i < count; i++) list.Add(_r.TableAt((int)start + 4 + 4 * i, $"{what}[{i}]"));
            return list;
        }
    }
}
