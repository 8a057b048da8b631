using Alerts.Core;
using Alerts.Simulator.Avro;
using Alerts.Tests.Shared;
using Avro;
using Avro.File;
using Avro.Generic;
using Avro.IO;

namespace Alerts.Simulator.Tests;

internal static class TestSupport
{
    public static string RealSchemaFolder(Survey survey, string version) =>
        survey == Survey.Ztf ? SharedData.Path("ztf", "schema", version) : SharedData.Path("lsst", "schema", version);

    /// <summary>The published (real) schema, inlined into one JSON document and parsed by Apache.Avro.</summary>
    public static Schema RealSchema(Survey survey, string version)
    {
        var top = survey == Survey.Ztf ? "ztf.alert" : $"lsst.v{version.Replace('.', '_')}.alert";
        return Schema.Parse(SchemaSet.FromFolder(RealSchemaFolder(survey, version), top).FullSchemaJson);
    }

    /// <summary>Reads a one-record OCF with Apache.Avro, resolving the file's writer schema to <paramref name="reader"/>.</summary>
    public static GenericRecord ReadOcf(byte[] bytes, Schema reader)
    {
        using var r = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(bytes), reader);
        var recs = new List<GenericRecord>();
        while (r.HasNext()) recs.Add(r.Next());
        Assert.Single(recs);
        return recs[0];
    }

    /// <summary>Decodes a Confluent wire message with the given writer schema; asserts every byte is consumed.</summary>
    public static GenericRecord ReadWire(byte[] bytes, Schema writer, int expectedSchemaId)
    {
        Assert.Equal(0, bytes[0]);
        Assert.Equal(expectedSchemaId, (bytes[1] << 24) | (bytes[2] << 16) | (bytes[3] << 8) | bytes[4]);
        var ms = new MemoryStream(bytes, 5, bytes.Length - 5);
        var rec = new GenericDatumReader<GenericRecord>(writer, writer).Read(null!, new BinaryDecoder(ms));
        Assert.Equal(ms.Length, ms.Position);
        return rec;
    }

    public static List<SimulatedAlert> Alerts(SimulationOptions o, int max = int.MaxValue) => new AlertSimulator(o).Generate().Take(max).ToList();
}
