using System.Formats.Tar;
using System.IO.Compression;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Ingest.Sources;
using Alerts.Simulator;
using Alerts.Tests.Shared;

namespace Alerts.Ingest.Tests;

/// <summary>
/// tests/Ingest.Tests/Corpus/: simulated ZTF and Rubin alerts (ok-*) and hand-mutated copies (truncated, flipped
/// bytes, huge varints, bad framing). Every file goes through the decoder directly, through the file source and
/// through a tarball of the whole corpus: every input is decoded or dead-lettered, none is lost, nothing throws.
/// Regenerate with <c>ALERTS_WRITE_CORPUS=1 dotnet test tests/Ingest.Tests -c Release --filter CorpusReplayTests</c>.
/// </summary>
public sealed class CorpusReplayTests : IDisposable
{
    private static string CorpusDir => RepoPaths.Of("tests", "Ingest.Tests", "Corpus");
    private readonly string _tmp = Directory.CreateTempSubdirectory("corpus-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static AvroSchemaRegistry Registry() => new(RepoPaths.Of("schemas", "lsst"));

    /// <summary>The corpus as our simulator and these mutations make it (deterministic: fixed seeds and offsets).</summary>
    internal static List<(string Name, byte[] Bytes)> Build()
    {
        var files = new List<(string, byte[])>();
        var ztf = new AlertSimulator(new SimulationOptions { Survey = Survey.Ztf, Objects = 2, Seed = 11 }).Generate().Take(6).ToList();
        var lsstWire = new AlertSimulator(new SimulationOptions { Survey = Survey.Lsst, Objects = 2, Seed = 12, Format = AlertFormat.Wire, SchemaVersion = "11.0" }).Generate().Take(3).ToList();
        var lsstWire9 = new AlertSimulator(new SimulationOptions { Survey = Survey.Lsst, Objects = 2, Seed = 13, Format = AlertFormat.Wire, SchemaVersion = "9.0" }).Generate().Take(3).ToList();
        var lsstOcf = new AlertSimulator(new SimulationOptions { Survey = Survey.Lsst, Objects = 2, Seed = 13, Format = AlertFormat.Container, SchemaVersion = "9.0" }).Generate().Take(2).ToList();
        // The cutouts (~50 KB of FITS stamps) are nulled to keep the corpus small: the light curve is what decodes.
        var registry = Registry();
        var z = WithoutCutouts(ztf.OrderByDescending(a => a.Bytes.Length).First().Bytes, registry);
        var w = WithoutCutouts(lsstWire.OrderByDescending(a => a.Bytes.Length).First().Bytes, registry);
        var w9 = WithoutCutouts(lsstWire9.OrderByDescending(a => a.Bytes.Length).First().Bytes, registry);
        files.Add(("ok-ztf.avro", z));
        files.Add(("ok-lsst-11.0.wire", w));
        files.Add(("ok-lsst-9.0.wire", w9));
        files.Add(("ok-lsst-9.0.avro", WithoutCutouts(lsstOcf.OrderBy(a => a.Bytes.Length).First().Bytes, registry)));

        // A two-record container (the sources cut it into two single-object records), and a deflate one.
        var (schemaJson, datum) = TestAlerts.StripContainer(z);
        files.Add(("ok-ztf-two-records.avro", AvroContainer.Write(schemaJson, [datum, datum])));
        files.Add(("ok-ztf-deflate.avro", AvroContainer.Write(schemaJson, [datum], "deflate")));
        int ztfData = ContainerHeader.Parse(z).DataStart;
        files.Add(("bad-ztf-truncated-in-header.avro", z[..(ztfData / 2)]));
        files.Add(("bad-ztf-container-header-only.avro", z[..ztfData]));

        // Mutations of the datum part (after the container header or the 5-byte wire header).
        foreach (var (name, bytes, dataStart, ext) in new[] { ("ztf", z, ztfData, ".avro"), ("lsst-11.0", w, 5, ".wire"), ("lsst-9.0", w9, 5, ".wire") })
        {
            int len = bytes.Length - dataStart;
            files.Add(($"bad-{name}-truncated-mid-datum{ext}", bytes[..(dataStart + len / 2)]));
            files.Add(($"bad-{name}-last-byte-cut{ext}", bytes[..^1]));
            if (ext == ".wire") files.Add(($"bad-{name}-header-only{ext}", bytes[..dataStart]));
            var rng = new Random(name.Length * 7919);
            for (int i = 0; i < 2; i++)
            {
                var c = (byte[])bytes.Clone();
                int at = dataStart + rng.Next(len);
                c[at] ^= (byte)(1 << rng.Next(8));
                files.Add(($"flip-{name}-{i}-at-{at}{ext}", c)); // may still decode (a flipped bit in a flux): either outcome is fine
            }
            // A 2^40 length (a 6-byte varint) and an 11-byte varint spliced into the datum, a third of the way in.
            int cut = dataStart + len / 3;
            byte[] huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
            files.Add(($"flip-{name}-huge-varint{ext}", [.. bytes[..cut], .. huge, .. bytes[cut..]]));
            files.Add(($"bad-{name}-overlong-varint{ext}", [.. bytes[..cut], .. Enumerable.Repeat((byte)0xff, 11), .. bytes[cut..]]));
        }
        files.Add(("bad-empty.avro", []));
        files.Add(("bad-magic.avro", "not an alert at all"u8.ToArray()));
        files.Add(("bad-wire-unknown-schema.wire", [0, 0, 0, 0x10, 0x68, 1, 2, 3]));
        files.Add(("bad-single-object-unknown-fingerprint.avro", [0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0]));
        return files;
    }

    /// <summary>The same alert (container or Confluent wire) with its trailing cutout fields set to null.</summary>
    private static byte[] WithoutCutouts(byte[] alert, AvroSchemaRegistry registry)
    {
        RecordSchema rec;
        byte[] datum;
        string? schemaJson = null;
        if (ContainerHeader.HasMagic(alert)) { (schemaJson, datum) = TestAlerts.StripContainer(alert); rec = (RecordSchema)AvroSchema.Parse(schemaJson); }
        else
        {
            Assert.True(registry.TryGetById(ConfluentWireFormat.SchemaId(alert), out var s, out var error), error);
            rec = (RecordSchema)s;
            datum = alert[ConfluentWireFormat.HeaderLength..];
        }
        int first = rec.Fields.FindIndex(f => f.Name.StartsWith("cutout", StringComparison.Ordinal));
        Assert.True(first > 0 && rec.Fields.Skip(first).All(f => f.Name.StartsWith("cutout", StringComparison.Ordinal)), rec.FullName);
        var r = new AvroReader(datum);
        for (int i = 0; i < first; i++) r.SkipValue(rec.Fields[i].Schema);
        var wr = new AvroBinaryWriter();
        wr.WriteRaw(datum.AsSpan(0, r.Position));
        foreach (var f in rec.Fields.Skip(first))
            wr.WriteUnionIndex(((UnionSchema)f.Schema).Branches.ToList().FindIndex(b => b.Type == AvroType.Null));
        var stripped = wr.ToArray();
        return schemaJson is not null ? AvroContainer.Write(WithoutDocs(schemaJson), [stripped]) : ConfluentWireFormat.Encode(ConfluentWireFormat.SchemaId(alert), stripped);
    }

    /// <summary>The schema JSON without its "doc" attributes (the same canonical form and fingerprint, a third of the bytes).</summary>
    private static string WithoutDocs(string schemaJson)
    {
        static void Strip(System.Text.Json.Nodes.JsonNode? n)
        {
            if (n is System.Text.Json.Nodes.JsonObject o) { o.Remove("doc"); foreach (var (_, v) in o.ToList()) Strip(v); }
            else if (n is System.Text.Json.Nodes.JsonArray a) foreach (var v in a) Strip(v);
        }
        var node = System.Text.Json.Nodes.JsonNode.Parse(schemaJson);
        Strip(node);
        return node!.ToJsonString();
    }

    [Fact]
    public void Writes_the_corpus_when_asked()
    {
        if (Environment.GetEnvironmentVariable("ALERTS_WRITE_CORPUS") != "1") return;
        if (Directory.Exists(CorpusDir)) Directory.Delete(CorpusDir, recursive: true);
        Directory.CreateDirectory(CorpusDir);
        foreach (var (name, bytes) in Build()) File.WriteAllBytes(Path.Combine(CorpusDir, name), bytes);
    }

    private static List<string> CorpusFiles()
    {
        var files = Directory.EnumerateFiles(CorpusDir).Where(AlertFiles.IsAlertFile).Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 30, $"{files.Count} corpus files in {CorpusDir}");
        return files;
    }

    [Fact]
    public void The_corpus_is_small_and_holds_good_and_bad_inputs()
    {
        var files = CorpusFiles();
        Assert.True(files.Sum(f => new FileInfo(f).Length) < 200_000);
        // The committed files are the ones Build() names (regenerate with ALERTS_WRITE_CORPUS=1, see the class summary).
        Assert.Equal(Build().Select(b => b.Name).Order(StringComparer.Ordinal), files.Select(f => Path.GetFileName(f)!));
        Assert.Contains(files, f => Path.GetFileName(f).StartsWith("ok-", StringComparison.Ordinal));
        Assert.Contains(files, f => Path.GetFileName(f).StartsWith("bad-", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_corpus_file_fed_to_the_decoder_is_decoded_or_dead_lettered_as_its_name_says()
    {
        var decoder = new AlertDecoder(Registry());
        int decoded = 0, dead = 0;
        var files = CorpusFiles();
        foreach (var f in files)
        {
            var name = Path.GetFileName(f);
            DecodeResult r;
            try { r = decoder.Decode(new RawAlert(File.ReadAllBytes(f), SourcePosition.File(f), DateTimeOffset.UtcNow)); }
            catch (Exception ex) { Assert.Fail($"{name}: {ex.GetType().Name} escaped the decoder: {ex.Message}"); throw; }
            if (r.IsSuccess) decoded++;
            else
            {
                dead++;
                Assert.False(string.IsNullOrEmpty(r.DeadLetter!.Reason), name);
                Assert.Contains(f, r.DeadLetter.Detail);
                Assert.True(r.DeadLetter.Source.Payload.Span.SequenceEqual(File.ReadAllBytes(f)), $"{name}: the dead letter keeps the bytes");
            }
            // The two-record container is for the sources; handed to the decoder whole it is a multi-record dead letter.
            if (name.StartsWith("ok-", StringComparison.Ordinal) && !name.Contains("two-records", StringComparison.Ordinal))
                Assert.True(r.IsSuccess, $"{name}: {r.DeadLetter}");
            if (name.StartsWith("bad-", StringComparison.Ordinal)) Assert.False(r.IsSuccess, $"{name} decoded");
        }
        Assert.Equal(files.Count, decoded + dead);
    }

    private static async Task<(int Raw, int Decoded, int Dead)> Replay(IAlertSource source, AlertDecoder decoder)
    {
        int raw = 0, decoded = 0, dead = 0;
        await foreach (var r in source.ReadAsync())
        {
            raw++;
            var res = decoder.Decode(r);
            if (res.IsSuccess) decoded++; else dead++;
        }
        return (raw, decoded, dead);
    }

    [Fact]
    public async Task The_corpus_through_the_folder_source_and_as_a_tarball_loses_nothing()
    {
        var files = CorpusFiles();
        var folder = await Replay(new FolderAlertSource(CorpusDir, Registry()), new AlertDecoder(Registry()));
        Assert.Equal(folder.Raw, folder.Decoded + folder.Dead);
        Assert.Equal(files.Count + 1, folder.Raw); // the two-record container gives two raw alerts
        Assert.True(folder.Decoded >= 6, $"{folder.Decoded} decoded");

        var tgz = Path.Combine(_tmp, "corpus.tar.gz");
        using (var gz = new GZipStream(File.Create(tgz), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
            foreach (var f in files) tar.WriteEntry(f, Path.GetFileName(f));
        var tarball = await Replay(new TarballAlertSource(tgz, Registry()), new AlertDecoder(Registry()));
        Assert.Equal(folder, tarball);
    }
}
