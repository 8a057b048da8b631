using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Alerts.Avro;

/// <summary>Malformed Avro binary data (truncated, bad varint, negative length, bad union index).</summary>
public sealed class AvroFormatException(string message, int offset, bool truncated = false, string? limit = null) : Exception(message)
{
    /// <summary>The <see cref="AvroLimits"/> bound that was exceeded (e.g. "MaxItems"); null for malformed data.</summary>
    public string? Limit { get; } = limit;

    /// <summary>True when the data ended before the value did (a truncated file or message).</summary>
    public bool IsTruncation { get; } = truncated;

    /// <summary>Byte offset inside the datum where decoding failed.</summary>
    public int Offset { get; } = offset;
}

/// <summary>
/// Forward-only reader of Avro binary encoding over a span. Allocates nothing: strings and bytes come back as
/// slices of the input. Every read is bounds-checked and throws <see cref="AvroFormatException"/> on bad data.
/// </summary>
public ref struct AvroReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;
    private readonly int _maxValueBytes;
    private long _itemsLeft;
    private readonly long _maxItems;

    public AvroReader(ReadOnlySpan<byte> data, int position = 0) : this(data, AvroLimits.Default, position) { }

    /// <summary>A reader bounded by <paramref name="limits"/>: value lengths and the items of all arrays/maps read through it.</summary>
    public AvroReader(ReadOnlySpan<byte> data, AvroLimits limits, int position = 0)
    {
        _data = data;
        _pos = position;
        _maxValueBytes = limits.MaxValueBytes;
        _itemsLeft = _maxItems = limits.MaxItems;
    }

    public readonly int Position => _pos;
    public readonly int Remaining => _data.Length - _pos;
    public readonly bool AtEnd => _pos >= _data.Length;
    public readonly ReadOnlySpan<byte> Data => _data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadLong()
    {
        // Fast path: most values fit in one or two bytes.
        if (_pos < _data.Length)
        {
            uint b = _data[_pos];
            if (b < 0x80) { _pos++; return (long)(b >> 1) ^ -(long)(b & 1); }
        }
        return ReadLongSlow();
    }

    private long ReadLongSlow()
    {
        ulong value = 0;
        int shift = 0;
        while (true)
        {
            if (_pos >= _data.Length) throw Truncated("varint");
            byte b = _data[_pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) break;
            shift += 7;
            if (shift > 63) throw new AvroFormatException("varint longer than 10 bytes", _pos);
        }
        return (long)(value >> 1) ^ -(long)(value & 1);
    }

    public int ReadInt()
    {
        long v = ReadLong();
        if (v is < int.MinValue or > int.MaxValue) throw new AvroFormatException($"int out of range: {v}", _pos);
        return (int)v;
    }

    public bool ReadBoolean()
    {
        if (_pos >= _data.Length) throw Truncated("boolean");
        return _data[_pos++] != 0;
    }

    public float ReadFloat()
    {
        if (_data.Length - _pos < 4) throw Truncated("float");
        var v = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    public double ReadDouble()
    {
        if (_data.Length - _pos < 8) throw Truncated("double");
        var v = BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(_pos, 8));
        _pos += 8;
        return v;
    }

    /// <summary>Reads a length-prefixed byte string (Avro bytes or string) as a slice of the input.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        int start = ReadBytesStart(out int len);
        return _data.Slice(start, len);
    }

    /// <summary>Reads a length-prefixed value and returns its start offset in the input; the reader moves past it.</summary>
    public int ReadBytesStart(out int length)
    {
        long len = ReadLong();
        if (len < 0) throw new AvroFormatException($"negative length {len}", _pos);
        if (len > _maxValueBytes) throw TooLarge($"a {len}-byte string/bytes value", $"MaxValueBytes {_maxValueBytes}", "MaxValueBytes");
        if (len > _data.Length - _pos) throw Truncated($"{len}-byte value");
        int start = _pos;
        _pos += (int)len;
        length = (int)len;
        return start;
    }

    public ReadOnlySpan<byte> ReadFixed(int size)
    {
        if (size > _maxValueBytes) throw TooLarge($"a fixed[{size}] value", $"MaxValueBytes {_maxValueBytes}", "MaxValueBytes");
        if (_data.Length - _pos < size) throw Truncated($"fixed[{size}]");
        var s = _data.Slice(_pos, size);
        _pos += size;
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int count)
    {
        if (count < 0 || _data.Length - _pos < count) throw Truncated($"{count} bytes");
        _pos += count;
    }

    public void SkipBytes()
    {
        long len = ReadLong();
        if (len < 0) throw new AvroFormatException($"negative length {len}", _pos);
        if (len > _maxValueBytes) throw TooLarge($"a {len}-byte string/bytes value", $"MaxValueBytes {_maxValueBytes}", "MaxValueBytes");
        if (len > _data.Length - _pos) throw Truncated($"{len}-byte value");
        _pos += (int)len;
    }

    public int ReadUnionIndex(int branchCount)
    {
        long i = ReadLong();
        if ((ulong)i >= (ulong)branchCount) throw new AvroFormatException($"union branch {i} out of range 0..{branchCount - 1}", _pos);
        return (int)i;
    }

    /// <summary>Skips a value whose shape is known without its schema (never Fixed or Complex).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SkipSimple(SkipKind kind)
    {
        switch (kind)
        {
            case SkipKind.None: return;
            case SkipKind.One: Skip(1); return;
            case SkipKind.Four: Skip(4); return;
            case SkipKind.Eight: Skip(8); return;
            case SkipKind.VarInt: ReadLong(); return;
            case SkipKind.LengthPrefixed: SkipBytes(); return;
            default: throw new InvalidOperationException($"SkipSimple cannot skip {kind}");
        }
    }

    /// <summary>Skips any value of <paramref name="schema"/> without allocating (arrays and maps with byte sizes are skipped by length).</summary>
    public void SkipValue(AvroSchema schema)
    {
        while (true)
        {
            switch (schema.SkipKind)
            {
                case SkipKind.Complex: break;
                case SkipKind.Fixed: Skip(((FixedSchema)schema).Size); return;
                default: SkipSimple(schema.SkipKind); return;
            }
            switch (schema.Type)
            {
                case AvroType.Union:
                {
                    var branches = ((UnionSchema)schema).BranchArray;
                    schema = branches[ReadUnionIndex(branches.Length)];
                    continue; // tail call: most unions are [T, null] of a primitive
                }
                case AvroType.Record:
                    foreach (var f in ((RecordSchema)schema).FieldSchemas) SkipValue(f);
                    return;
                default:
                    SkipBlocks(schema);
                    return;
            }
        }
    }

    private void SkipBlocks(AvroSchema schema)
    {
        var item = schema is ArraySchema a ? a.Items : ((MapSchema)schema).Values;
        bool isMap = schema.Type == AvroType.Map;
        while (true)
        {
            long count = ReadBlockCount(out long byteSize);
            if (count == 0) return;
            if (byteSize >= 0) { Skip(checked((int)byteSize)); continue; }
            for (long i = 0; i < count; i++)
            {
                if (isMap) SkipBytes();
                SkipValue(item);
            }
        }
    }

    /// <summary>Reads an array/map block header. A negative count means a byte size follows (returned; else -1).</summary>
    public long ReadBlockCount(out long byteSize)
    {
        long count = ReadLong();
        byteSize = -1;
        if (count < 0)
        {
            if (count == long.MinValue) throw new AvroFormatException("bad block count", _pos);
            count = -count;
            byteSize = ReadLong();
            if (byteSize < 0 || byteSize > _data.Length - _pos) throw Truncated($"{byteSize}-byte block");
        }
        if (count > _itemsLeft) throw TooLarge($"an array/map block of {count} items ({_maxItems - _itemsLeft} read before it)", $"MaxItems {_maxItems} per datum", "MaxItems");
        _itemsLeft -= count;
        return count;
    }

    private readonly AvroFormatException TooLarge(string what, string bound, string limit) =>
        new($"{what} at byte {_pos} exceeds {bound}: refused before reading it (raise the limit only if real alerts need it)", _pos, limit: limit);

    private readonly AvroFormatException Truncated(string what) =>
        new($"data ends at byte {_data.Length} while reading {what} at byte {_pos}", _pos, truncated: true);
}
