using Alerts.Tests.Shared;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Alerts.Core;
using Alerts.Sink.Kafka;

namespace Alerts.Sink.Tests;

/// <summary>
/// The label encoder's string fast path (one-byte length for under 64 UTF-8 bytes, encoded in place) must give the
/// same bytes Avro specifies for every string: around the 63/64-byte boundary, multi-byte characters whose UTF-8
/// form crosses it, surrogate pairs, empty. Checked with our decoder and with the reference python-avro reader.
/// </summary>
public sealed class LabelAvroEncodingTests
{
    public static readonly string[] EdgeStrings =
    [
        "", "a", new string('x', 63), new string('x', 64), new string('x', 200),
        new string('é', 31), new string('é', 32), new string('é', 40), "ZTF24–ŝ🔭" + new string('y', 50), string.Concat(Enumerable.Repeat("🔭", 20)),
    ];

    private static Classification WithStrings(int i, string s)
    {
        var id = new AlertIdentity(Survey.Ztf, 1000 + i, s, 10.5, -20.25, 60324.5, "4.02");
        var p = new float[T2Classes.Count];
        for (int k = 0; k < p.Length; k++) p[k] = (k + 1) / 105f;
        return new Classification(id, SourcePosition.Kafka(s, 2, 77 + i), T2Classes.Names[i % T2Classes.Count], 0.5f, p, "model-" + s, 9, s, null,
            new StageTimings(1, 2, 3), TestClassifications.T0, TestClassifications.T0.AddMilliseconds(1), TestClassifications.T0.AddMilliseconds(-1));
    }

    [Theory]
    [InlineData(LabelEncoding.ConfluentWire)]
    [InlineData(LabelEncoding.SingleRecordContainer)]
    public void Strings_of_every_length_and_script_round_trip(LabelEncoding encoding)
    {
        var enc = new LabelAvroEncoder(encoding, 42);
        for (int i = 0; i < EdgeStrings.Length; i++)
        {
            var s = EdgeStrings[i];
            var m = LabelAvroDecoder.Decode(enc.Encode(WithStrings(i, s)));
            Assert.Equal(1000 + i, m.AlertId);
            Assert.Equal(s, m.ObjectId);
            Assert.Equal("model-" + s, m.ModelId);
            Assert.Equal(s, m.Bands);
            Assert.Equal(s, m.SourceOrigin);
            Assert.Equal(77 + i, m.SourceOffset);
            Assert.Equal(T2Classes.Count, m.Probabilities.Count);
            Assert.Equal(14 / 105f, m.Probabilities[T2Classes.Names[13]]);
        }
    }

    [RefereeFact(Referee.PythonAvro)]
    public void Python_avro_reads_the_edge_strings_as_written()
    {
        var enc = new LabelAvroEncoder(LabelEncoding.SingleRecordContainer);
        var dir = Directory.CreateTempSubdirectory("labels-avro-edge").FullName;
        try
        {
            for (int i = 0; i < EdgeStrings.Length; i++)
                File.WriteAllBytes(Path.Combine(dir, $"{i:D2}.avro"), enc.Encode(WithStrings(i, EdgeStrings[i])).ToArray());
            var script = "import sys,glob,os,json,avro.datafile,avro.io\n" +
                         "for f in sorted(glob.glob(os.path.join(sys.argv[1],'*.avro'))):\n" +
                         "  for x in avro.datafile.DataFileReader(open(f,'rb'),avro.io.DatumReader()):\n" +
                         "    print(json.dumps([x['objectId'], x['modelId'], x['bands'], x['sourceOrigin'], x['sourceOffset']]))\n";
            var output = DebianPython.Run(script, dir);
            var lines = output.Trim().Split('\n');
            Assert.Equal(EdgeStrings.Length, lines.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                var row = JsonDocument.Parse(lines[i]).RootElement;
                Assert.Equal(EdgeStrings[i], row[0].GetString());
                Assert.Equal("model-" + EdgeStrings[i], row[1].GetString());
                Assert.Equal(EdgeStrings[i], row[2].GetString());
                Assert.Equal(EdgeStrings[i], row[3].GetString());
                Assert.Equal(77 + i, row[4].GetInt64());
            }
        }
        finally { Directory.Delete(dir, true); }
    }
    private static Classification SNIaFamilyOf(float snia, float sniax, float snia91bg)
    {
        var c = TestClassifications.Make(1);
        var p = new float[T2Classes.Count];
        p[T2Classes.IndexOf("SNIa")] = snia; p[T2Classes.IndexOf("SNIax")] = sniax; p[T2Classes.IndexOf("SNIa-91bg")] = snia91bg;
        p[T2Classes.IndexOf("AGN")] = 1 - snia - sniax - snia91bg;
        return c with { Probabilities = p, Label = "SNIa", LabelProbability = snia };
    }

    [Theory]
    [InlineData(LabelEncoding.ConfluentWire)]
    [InlineData(LabelEncoding.SingleRecordContainer)]
    public void The_SNIa_family_probability_round_trips_and_is_null_when_not_classified(LabelEncoding encoding)
    {
        var enc = new LabelAvroEncoder(encoding, 42);
        var m = LabelAvroDecoder.Decode(enc.Encode(SNIaFamilyOf(0.5f, 0.25f, 0.125f)));
        Assert.Equal(0.875f, m.SNIaFamilyProbability);
        Assert.Equal(0.5f, m.Probabilities["SNIa"]);
        var unclassified = LabelAvroDecoder.Decode(enc.Encode(TestClassifications.Make(3)));
        Assert.Equal("too-few-points", unclassified.Reason);
        Assert.Null(unclassified.SNIaFamilyProbability);
    }

    [Fact]
    public void A_version_1_record_that_ends_before_the_family_field_decodes_with_a_null_family()
    {
        var enc = new LabelAvroEncoder(LabelEncoding.ConfluentWire, 42);
        var v2 = enc.Encode(SNIaFamilyOf(0.5f, 0.25f, 0.125f)).ToArray();
        var v1 = v2.AsSpan(0, v2.Length - 5); // union index 1 (one byte) + float (four)
        var m = LabelAvroDecoder.Decode(v1);
        Assert.Null(m.SNIaFamilyProbability);
        Assert.Equal(0.5f, m.Probabilities["SNIa"]);
        Assert.Equal(TestClassifications.T0.AddMilliseconds(3), m.ClassifiedAt);
    }

    [RefereeFact(Referee.PythonAvro)]
    public void Python_avro_reads_p_SNIa_family_and_resolves_a_version_1_record_to_its_default()
    {
        var enc = new LabelAvroEncoder(LabelEncoding.SingleRecordContainer);
        var dir = Directory.CreateTempSubdirectory("labels-avro-family").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "a.avro"), enc.Encode(SNIaFamilyOf(0.5f, 0.25f, 0.125f)).ToArray());
            File.WriteAllBytes(Path.Combine(dir, "b.avro"), enc.Encode(TestClassifications.Make(3)).ToArray());
            // Python reads ours; then writes a version 1 record (schema without the last field) and reads it with version 2.
            var script = "import sys,os,json,avro.schema,avro.datafile,avro.io\n" +
                         "d=sys.argv[1]\n" +
                         "for n in ['a','b']:\n" +
                         "  for x in avro.datafile.DataFileReader(open(os.path.join(d,n+'.avro'),'rb'),avro.io.DatumReader()): print(x['p_SNIa_family'])\n" +
                         "v2=json.load(open(sys.argv[2]))\n" +
                         "v1=dict(v2); v1['fields']=v2['fields'][:-1]\n" +
                         "rec=next(iter(avro.datafile.DataFileReader(open(os.path.join(d,'a.avro'),'rb'),avro.io.DatumReader())))\n" +
                         "del rec['p_SNIa_family']\n" +
                         "w=avro.datafile.DataFileWriter(open(os.path.join(d,'v1.avro'),'wb'),avro.io.DatumWriter(),avro.schema.parse(json.dumps(v1)))\n" +
                         "w.append(rec); w.close()\n" +
                         "for x in avro.datafile.DataFileReader(open(os.path.join(d,'v1.avro'),'rb'),avro.io.DatumReader(readers_schema=avro.schema.parse(json.dumps(v2)))): print(x['p_SNIa_family'], x['label'])\n";
            var lines = DebianPython.Run(script, dir, RepoPaths.Of("schemas", "labels", "alerts.label.avsc")).Trim().Split('\n');
            Assert.Equal(["0.875", "None", "None SNIa"], lines);
            var v1 = LabelAvroDecoder.Decode(File.ReadAllBytes(Path.Combine(dir, "v1.avro")));
            Assert.Null(v1.SNIaFamilyProbability);
            Assert.Equal("SNIa", v1.Label);
            Assert.Equal(0.25f, v1.Probabilities["SNIax"]);
        }
        finally { Directory.Delete(dir, true); }
    }
}
