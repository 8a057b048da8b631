using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Tests.Shared;

namespace Alerts.Ingest.Tests;

internal static class TestAlerts
{
    public static RawAlert Raw(byte[] bytes, string origin = "test") => new(bytes, SourcePosition.File(origin), DateTimeOffset.UtcNow);

    public static IEnumerable<string> Files(params string[] under) =>
        Directory.EnumerateFiles(SharedData.Path(under), "*.avro", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    public static DecodedAlert DecodeOk(AlertDecoder decoder, string file)
    {
        var r = decoder.Decode(Raw(File.ReadAllBytes(file), file));
        Assert.True(r.IsSuccess, r.DeadLetter?.ToString());
        return r.Alert!;
    }

    /// <summary>The datum bytes of the single record of a container file (the container stripped).</summary>
    public static (string SchemaJson, byte[] Datum) StripContainer(byte[] ocf)
    {
        var h = ContainerHeader.Parse(ocf);
        Assert.True(AvroContainer.TryReadBlock(ocf, h, h.DataStart, out var b));
        Assert.Equal(1, b.Count);
        return (System.Text.Encoding.UTF8.GetString(h.SchemaJson(ocf)), ocf.AsSpan(b.DataStart, b.DataLength).ToArray());
    }
}
