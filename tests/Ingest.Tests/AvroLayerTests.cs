using Alerts.Avro;

namespace Alerts.Ingest.Tests;

/// <summary>The Avro layer on hand-written data: maps, enums, fixed, arrays in several blocks with negative counts.</summary>
public class AvroLayerTests
{
    private const string Schema = """
    {"type":"record","name":"t","namespace":"n","fields":[
      {"name":"m","type":{"type":"map","values":"string"}},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
      {"name":"f","type":{"type":"fixed","name":"F","size":4}},
      {"name":"skipped","type":{"type":"array","items":"long"}},
      {"name":"keep","type":["null","double"]},
      {"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"x","type":"double"},{"name":"e2","type":"E"}]}}},
      {"name":"last","type":"string"}
    ]}
    """;

    private static byte[] Datum()
    {
        using var w = new AvroBinaryWriter();
        w.WriteBlockStart(2); w.WriteString("k1"); w.WriteString("v1"); w.WriteString("k2"); w.WriteString("v2"); w.WriteBlockEnd();
        w.WriteEnum(2);
        w.WriteFixed([1, 2, 3, 4]);
        // array<long> as one block with a negative count and its byte size (3 longs of 1 byte each)
        w.WriteLong(-3); w.WriteLong(3); w.WriteLong(1); w.WriteLong(2); w.WriteLong(3); w.WriteBlockEnd();
        w.WriteUnionIndex(1); w.WriteDouble(42.5);
        // items in two blocks: a normal one of 1, then a negative-count one of 2 with byte size (each item 8 + 1 bytes)
        w.WriteLong(1); w.WriteDouble(1.5); w.WriteEnum(0);
        w.WriteLong(-2); w.WriteLong(18); w.WriteDouble(2.5); w.WriteEnum(1); w.WriteDouble(3.5); w.WriteEnum(2);
        w.WriteBlockEnd();
        w.WriteString("end");
        return w.ToArray();
    }

    [Fact]
    public void ProjectionReadsWhatItNeedsAndSkipsMapsEnumsFixedAndBlocks()
    {
        var schema = (RecordSchema)AvroSchema.Parse(Schema);
        var spec = new ProjectionSpec();
        int keep = spec.Column("keep"), e = spec.Column("e"), f = spec.Column("f"), last = spec.Column("last"), absent = spec.Column("nope|gone");
        var items = spec.Table("items");
        int x = items.Column("x"), e2 = items.Column("e2");
        var compiled = new CompiledProjection(schema, spec);
        var rec = new ProjectedRecord(spec);
        var datum = Datum();
        var reader = new AvroReader(datum);
        compiled.Read(ref reader, rec);
        Assert.True(reader.AtEnd);
        Assert.Equal(42.5, rec.Root[keep].AsDouble);
        Assert.Equal(2, rec.Root[e].AsLong);
        Assert.Equal([1, 2, 3, 4], rec.Root[f].Utf8(datum).ToArray());
        Assert.Equal("end", rec.Root[last].AsString(datum));
        Assert.True(rec.Root[absent].IsMissing);
        Assert.False(compiled.RootBound[absent]);
        var t = rec.Tables[items.Index];
        Assert.Equal(3, t.Rows);
        Assert.Equal([1.5, 2.5, 3.5], Enumerable.Range(0, 3).Select(i => t[i, x].AsDouble));
        Assert.Equal([0L, 1L, 2L], Enumerable.Range(0, 3).Select(i => t[i, e2].AsLong));

        var skipper = new AvroReader(datum);
        skipper.SkipValue(schema);
        Assert.True(skipper.AtEnd);
    }

    [Fact]
    public void FingerprintOfPrimitiveMatchesTheSpecExample()
    {
        // CRC-64-AVRO of the canonical form "int" (Avro spec test vector, as a signed long: 8247732601305521295).
        Assert.Equal(unchecked((ulong)8247732601305521295L), AvroSchema.Parse("\"int\"").Fingerprint);
        Assert.Equal("{\"name\":\"n.t\",\"type\":\"record\",\"fields\":[{\"name\":\"a\",\"type\":[\"null\",\"long\"]}]}",
            AvroSchema.Parse("""{"type":"record","name":"t","namespace":"n","doc":"x","fields":[{"name":"a","type":["null","long"],"default":null}]}""").CanonicalForm);
    }
}
