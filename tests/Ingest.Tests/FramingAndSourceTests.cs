using System.Formats.Tar;
using System.IO.Compression;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Ingest.Sources;
using Alerts.Tests.Shared;

namespace Alerts.Ingest.Tests;

public sealed class FramingAndSourceTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("ingest-tests-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static async Task<List<RawAlert>> All(IAlertSource s)
    {
        var list = new List<RawAlert>();
        await foreach (var r in s.ReadAsync()) list.Add(r);
        return list;
    }

    private static void AssertSameAlert(DecodedAlert a, DecodedAlert b)
    {
        Assert.Equal(a.Identity, b.Identity);
        Assert.True(a.LightCurve.Mjd.SequenceEqual(b.LightCurve.Mjd));
        Assert.True(a.LightCurve.Flux.SequenceEqual(b.LightCurve.Flux));
        Assert.True(a.LightCurve.FluxErr.SequenceEqual(b.LightCurve.FluxErr));
        Assert.True(a.LightCurve.Kind.SequenceEqual(b.LightCurve.Kind));
    }

    [SharedDataTheory]
    [InlineData("3.0", 300)] [InlineData("5.0", 500)] [InlineData("7.1", 701)] [InlineData("9.0", 900)] [InlineData("11.0", 1100)]
    public void RubinWireMessageDecodesAgainstTheSchemaFolder(string version, int schemaId)
    {
        var file = SharedData.Path("lsst", "alerts", "alert_packet-fake", version, "fakeAlert.avro");
        var ocf = File.ReadAllBytes(file);
        var (_, datum) = TestAlerts.StripContainer(ocf);
        var decoder = new AlertDecoder(new AvroSchemaRegistry(SharedData.Path("lsst", "schema")));
        var fromWire = decoder.Decode(TestAlerts.Raw(ConfluentWireFormat.Encode(schemaId, datum), "wire"));
        Assert.True(fromWire.IsSuccess, fromWire.DeadLetter?.ToString());
        AssertSameAlert(TestAlerts.DecodeOk(decoder, file), fromWire.Alert!);
        Assert.Equal(version, fromWire.Alert!.Identity.SchemaVersion);
    }

    [SharedDataFact]
    public void UnknownSchemaIdIsDeadLettered()
    {
        var (_, datum) = TestAlerts.StripContainer(File.ReadAllBytes(SharedData.Path("lsst", "alerts", "alert_packet-fake", "9.0", "fakeAlert.avro")));
        var decoder = new AlertDecoder(new AvroSchemaRegistry(SharedData.Path("lsst", "schema")));
        var r = decoder.Decode(TestAlerts.Raw(ConfluentWireFormat.Encode(4200, datum), "x.wire"));
        Assert.False(r.IsSuccess);
        Assert.Equal("unknown-schema-id", r.DeadLetter!.Reason);
        Assert.Contains("lsst.v42_0.alert.avsc", r.DeadLetter.Detail);
        // The wrong (but existing) schema: the bytes do not fit, so a clear dead letter, not garbage.
        var wrong = decoder.Decode(TestAlerts.Raw(ConfluentWireFormat.Encode(300, datum), "x.wire"));
        Assert.False(wrong.IsSuccess);
    }

    [SharedDataFact]
    public async Task MultiRecordContainerIsCutIntoSingleObjectRecords()
    {
        var files = TestAlerts.Files("ztf", "alerts", "fink-broker-20200101").Take(5).ToList();
        var parts = files.Select(f => TestAlerts.StripContainer(File.ReadAllBytes(f))).ToList();
        var decoder = new AlertDecoder();
        foreach (var codec in new[] { "null", "deflate" })
        {
            var path = Path.Combine(_tmp, $"night-{codec}.avro");
            File.WriteAllBytes(path, AvroContainer.Write(parts[0].SchemaJson, parts.Select(p => (ReadOnlyMemory<byte>)p.Datum).ToList(), codec));
            var raws = await All(new ContainerFileSource(path, decoder.Registry));
            Assert.True(raws.Count == 5, decoder.Decode(raws[0]).DeadLetter?.ToString());
            Assert.All(raws, r => Assert.True(SingleObjectEncoding.HasMarker(r.Payload.Span)));
            Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), raws.Select(r => r.Position.Offset));
            for (int i = 0; i < 5; i++)
                AssertSameAlert(TestAlerts.DecodeOk(decoder, files[i]), decoder.Decode(raws[i]).Alert!);
            // The folder and file sources detect a multi-record container too.
            Assert.Equal(5, (await All(new FileAlertSource(path, decoder.Registry))).Count);
        }
    }

    [SharedDataFact]
    public async Task CorruptContainerBlockDoesNotStopTheRestOfTheFile()
    {
        var files = TestAlerts.Files("ztf", "alerts", "kowalski-20200202").Take(3).ToList();
        var parts = files.Select(f => TestAlerts.StripContainer(File.ReadAllBytes(f))).ToList();
        // Three one-record blocks with one sync marker; corrupt the middle block's data.
        var sync = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var blocks = parts.Select(p => AvroContainer.Write(p.SchemaJson, [p.Datum], "null", sync)).ToList();
        int headerLen = ContainerHeader.Parse(blocks[0]).DataStart;
        var file = blocks[0].Concat(blocks[1].Skip(headerLen)).Concat(blocks[2].Skip(headerLen)).ToArray();
        int secondBlock = blocks[0].Length + 200;
        for (int i = 0; i < 50; i++) file[secondBlock + i] = 0xFF;
        var path = Path.Combine(_tmp, "corrupt.avro");
        File.WriteAllBytes(path, file);

        var decoder = new AlertDecoder();
        var results = (await All(new ContainerFileSource(path, decoder.Registry))).Select(decoder.Decode).ToList();
        Assert.Equal(3, results.Count);
        Assert.True(results[0].IsSuccess);
        Assert.False(results[1].IsSuccess);
        Assert.True(results[2].IsSuccess, results[2].DeadLetter?.ToString());
        Assert.Equal(parts[2].Datum.Length + SingleObjectEncoding.HeaderLength, results[2].Alert!.Source.Payload.Length);
    }

    [SharedDataFact]
    public async Task TarballIsStreamedMemberByMemberWithABadMemberDeadLettered()
    {
        var files = TestAlerts.Files("ztf", "alerts", "kowalski-20200202").ToList();
        var path = Path.Combine(_tmp, "ztf_public_20200202.tar.gz");
        using (var fs = File.Create(path))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
        {
            foreach (var f in files) tar.WriteEntry(f, Path.GetFileName(f));
            var bad = new PaxTarEntry(TarEntryType.RegularFile, "broken.avro") { DataStream = new MemoryStream(File.ReadAllBytes(files[0])[..1000]) };
            tar.WriteEntry(bad);
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "README.txt") { DataStream = new MemoryStream("hi"u8.ToArray()) });
        }
        var decoder = new AlertDecoder();
        var raws = await All(new TarballAlertSource(path, decoder.Registry));
        Assert.Equal(files.Count + 1, raws.Count);
        Assert.Equal($"{path}!{Path.GetFileName(files[0])}", raws[0].Position.Origin);
        var results = raws.Select(decoder.Decode).ToList();
        Assert.Equal(files.Count, results.Count(r => r.IsSuccess));
        var dl = results.Single(r => !r.IsSuccess).DeadLetter!;
        Assert.Equal("truncated", dl.Reason);
        Assert.EndsWith("!broken.avro", dl.Source.Position.Origin);
    }

    [SharedDataFact]
    public async Task CutTarballYieldsTheAlertsBeforeTheDamageThenOneDeadLetterWithoutThrowing()
    {
        var files = TestAlerts.Files("ztf", "alerts", "fink-broker-20200101").Take(10).ToList();
        var whole = Path.Combine(_tmp, "whole.tar.gz");
        using (var fs = File.Create(whole))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
            foreach (var f in files) tar.WriteEntry(f, Path.GetFileName(f));
        var bytes = File.ReadAllBytes(whole);
        var cut = Path.Combine(_tmp, "cut.tar.gz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);

        var decoder = new AlertDecoder();
        var results = (await All(new TarballAlertSource(cut, decoder.Registry))).Select(decoder.Decode).ToList();
        int ok = results.Count(r => r.IsSuccess);
        Assert.InRange(ok, 2, files.Count - 1);
        Assert.True(results.Take(ok).All(r => r.IsSuccess));
        Assert.All(results.Skip(ok), r => Assert.False(r.IsSuccess));
        Assert.NotEmpty(results.Skip(ok));
    }

    [SharedDataFact]
    public async Task FolderSourceReadsSortedRecursively()
    {
        var decoder = new AlertDecoder();
        var raws = await All(new FolderAlertSource(SharedData.Path("ztf", "alerts", "ztf-avro-alert"), decoder.Registry));
        Assert.Equal(15, raws.Count);
        Assert.Equal(raws.Select(r => r.Position.Origin).Order(StringComparer.Ordinal), raws.Select(r => r.Position.Origin));
    }

    [SharedDataFact]
    public async Task RateLimitedSourcePacesAlerts()
    {
        var decoder = new AlertDecoder();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var raws = await All(new RateLimitedSource(new FolderAlertSource(SharedData.Path("ztf", "alerts", "ztf-avro-alert", "v3.0"), decoder.Registry), 20));
        Assert.Equal(4, raws.Count);
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(140), $"4 alerts at 20/s took {sw.Elapsed}");
    }

    [Fact]
    public void SingleObjectWithUnregisteredFingerprintIsDeadLettered()
    {
        var r = new AlertDecoder().Decode(TestAlerts.Raw(SingleObjectEncoding.Encode(0x1234, [1, 2, 3])));
        Assert.Equal("unknown-fingerprint", r.DeadLetter!.Reason);
    }
}
