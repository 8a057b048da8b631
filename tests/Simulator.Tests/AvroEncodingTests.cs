using Alerts.Avro;
using Alerts.Simulator.Avro;
using Avro.IO;
using CsCheck;

namespace Alerts.Simulator.Tests;

/// <summary>Our Avro primitives produce exactly the bytes of Apache.Avro's BinaryEncoder (an independent implementation).</summary>
public class AvroEncodingTests
{
    private static byte[] Reference(Action<BinaryEncoder> write)
    {
        var ms = new MemoryStream();
        var e = new BinaryEncoder(ms);
        write(e);
        e.Flush();
        return ms.ToArray();
    }

    private static byte[] Ours(Action<AvroBinaryWriter> write)
    {
        using var b = new AvroBinaryWriter(16);
        write(b);
        return b.ToArray();
    }

    [Fact]
    public void Longs_encode_as_apache_avro_zigzag_varints() =>
        Gen.Long.Sample(x => Assert.Equal(Reference(e => e.WriteLong(x)), Ours(b => b.WriteLong(x))), iter: 20000);

    [Fact]
    public void Ints_floats_and_doubles_encode_as_apache_avro() =>
        Gen.Select(Gen.Int, Gen.Float, Gen.Double).Sample((i, f, d) =>
            Assert.Equal(Reference(e => { e.WriteInt(i); e.WriteFloat(f); e.WriteDouble(d); }), Ours(b => { b.WriteInt(i); b.WriteFloat(f); b.WriteDouble(d); })), iter: 5000);

    [Fact]
    public void Strings_and_bytes_encode_as_apache_avro() =>
        Gen.Select(Gen.String, Gen.Byte.Array[0, 300]).Sample((s, bytes) =>
            Assert.Equal(Reference(e => { e.WriteString(s); e.WriteBytes(bytes); }), Ours(b => { b.WriteString(s); b.WriteBytes(bytes); })), iter: 3000);

    [Fact]
    public void Growing_the_pooled_buffer_keeps_earlier_bytes()
    {
        using var b = new AvroBinaryWriter(16);
        for (int i = 0; i < 10000; i++) b.WriteLong(i);
        var expected = Reference(e => { for (int i = 0; i < 10000; i++) e.WriteLong(i); });
        Assert.Equal(expected, b.ToArray());
    }
}
