namespace Alerts.Avro;

/// <summary>
/// Writes Avro Object Container Files holding one record (the way ZTF and Rubin ship single alerts, and the way
/// the label topics can frame a label): magic "Obj\x01", a metadata map {avro.schema, avro.codec = null}, a 16-byte
/// sync marker, one block, the sync again. The header bytes are built once per (schema, sync) and reused, so every
/// file written with one writer starts with the same bytes.
/// </summary>
public sealed class SingleRecordContainerWriter
{
    private readonly byte[] _header;
    private readonly byte[] _sync;

    public SingleRecordContainerWriter(string schemaJson, ReadOnlySpan<byte> sync)
    {
        if (sync.Length != 16) throw new ArgumentException("Avro sync markers are 16 bytes.", nameof(sync));
        _sync = sync.ToArray();
        using var b = new AvroBinaryWriter(schemaJson.Length + 256);
        AvroContainer.WriteHeader(b, schemaJson, "null", _sync);
        _header = b.ToArray();
    }

    public int HeaderLength => _header.Length;

    /// <summary>Starts a file in an empty <paramref name="output"/>: leaves room for header and block prefix; the caller
    /// then writes the datum directly into <paramref name="output"/> and calls <see cref="End"/> (no datum copy).</summary>
    public int Begin(AvroBinaryWriter output)
    {
        output.Reset();
        output.Skip(_header.Length + 20);
        return output.Position;
    }

    /// <summary>Completes a file started with <see cref="Begin"/>: header, block count 1 and datum size in front, sync after.</summary>
    public void End(AvroBinaryWriter output, int datumStart)
    {
        int datumLength = output.Position - datumStart;
        Span<byte> prefix = stackalloc byte[_header.Length + 20];
        _header.CopyTo(prefix);
        int n = _header.Length;
        n += AvroBinaryWriter.EncodeLong(1, prefix[n..]);
        n += AvroBinaryWriter.EncodeLong(datumLength, prefix[n..]);
        output.WritePrefix(prefix[..n], datumStart);
        output.WriteRaw(_sync);
    }

    /// <summary>Appends a complete one-record container file holding <paramref name="datum"/> to <paramref name="output"/>.</summary>
    public void Write(AvroBinaryWriter output, ReadOnlySpan<byte> datum)
    {
        output.WriteRaw(_header);
        output.WriteLong(1);
        output.WriteLong(datum.Length);
        output.WriteRaw(datum);
        output.WriteRaw(_sync);
    }
}
