using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Ingest.Sources;
using Alerts.Simulator;

namespace Alerts.Ingest.Tests;

/// <summary>Hostile input (huge claimed lengths and counts, bombs, links, escaping names) becomes a dead letter with a reason and the bytes, quickly and cheaply.</summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("hostile-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static readonly List<SimulatedAlert> Ztf =
        new AlertSimulator(new SimulationOptions { Survey = Survey.Ztf, Objects = 4, Seed = 7 }).Generate().Take(40).ToList();

    /// <summary>A simulated ZTF alert with the most history rows.</summary>
    private static byte[] LongestZtf => Ztf.OrderByDescending(a => a.Bytes.Length).First().Bytes;

    private static RawAlert Raw(byte[] bytes, string origin = "hostile") => new(bytes, SourcePosition.File(origin), DateTimeOffset.UtcNow);

    private static byte[] Varint(long v)
    {
        var w = new AvroBinaryWriter();
        w.WriteLong(v);
        return w.ToArray();
    }

    private static DeadLetter AssertDeadLetter(DecodeResult r, string reason, string detailPart)
    {
        Assert.False(r.IsSuccess);
        Assert.Equal(reason, r.DeadLetter!.Reason);
        Assert.Contains(detailPart, r.DeadLetter.Detail);
        return r.DeadLetter;
    }

    [Fact]
    public void A_string_length_of_2_pow_40_is_refused_before_any_allocation()
    {
        var decoder = new AlertDecoder();
        var (schemaJson, _) = TestAlerts.StripContainer(LongestZtf);
        var fp = decoder.Registry.Register(AvroSchema.Parse(schemaJson));
        Assert.True(decoder.Decode(Raw(LongestZtf)).IsSuccess); // warm: projection compiled, buffers sized

        // schemavsn (the first field, a string) claims 2^40 bytes, followed by a few bytes only.
        var hostile = SingleObjectEncoding.Encode(fp, [.. Varint(1L << 40), .. "abc"u8]);
        var raw = Raw(hostile);
        var sw = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var r = decoder.Decode(raw);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        sw.Stop();

        var dl = AssertDeadLetter(r, "too-large", "MaxValueBytes");
        Assert.Contains("1099511627776-byte", dl.Detail);
        Assert.True(dl.Source.Payload.Span.SequenceEqual(hostile), "the dead letter keeps the original bytes");
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
        Assert.True(sw.ElapsedMilliseconds < 1000, $"took {sw.ElapsedMilliseconds} ms");

        // Under a limit above the claim, a 2^30-byte claim is still refused before allocating, as truncated
        // (the length is checked against the bytes present).
        var lax = new AlertDecoder(decoder.Registry, new IngestLimits { Avro = new AvroLimits { MaxValueBytes = int.MaxValue } });
        var claim30 = Raw(SingleObjectEncoding.Encode(fp, [.. Varint(1L << 30), .. "abc"u8]));
        before = GC.GetAllocatedBytesForCurrentThread();
        var laxResult = lax.Decode(claim30);
        Assert.True(laxResult.DeadLetter?.Reason == "truncated", laxResult.DeadLetter?.Detail);
        Assert.Contains("1073741824-byte value", laxResult.DeadLetter!.Detail);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void An_array_block_count_of_2_pow_40_is_refused_by_MaxItems()
    {
        var schema = AvroSchema.Parse("""{"type":"array","items":"null"}""");
        var bytes = Varint(1L << 40);
        var ex = Assert.Throws<AvroFormatException>(() => { var r = new AvroReader(bytes); r.SkipValue(schema); });
        Assert.Equal("MaxItems", ex.Limit);
        Assert.Contains("1099511627776 items", ex.Message);

        // Items are counted over all blocks of a datum: 3 blocks of 40 000 null items pass 100 000 in the third.
        var w = new AvroBinaryWriter();
        for (int i = 0; i < 3; i++) w.WriteLong(40_000);
        w.WriteLong(0);
        var many = w.ToArray();
        var ex2 = Assert.Throws<AvroFormatException>(() => { var r = new AvroReader(many); r.SkipValue(schema); });
        Assert.Contains("80000 read before it", ex2.Message);
        var ok = new AvroReader(many, new AvroLimits { MaxItems = 120_000 });
        ok.SkipValue(schema);
        Assert.True(ok.AtEnd);
    }

    [Fact]
    public async Task The_item_bound_is_per_record_so_a_container_of_many_records_is_cut_whole()
    {
        // 3 000 records of a null-item array with 40 items each: 120 000 items in one block, 40 per record.
        var schemaJson = """{"type":"record","name":"r","fields":[{"name":"xs","type":{"type":"array","items":"null"}}]}""";
        var rec = new AvroBinaryWriter();
        rec.WriteLong(40); rec.WriteLong(0);
        var one = rec.ToArray();
        var path = Path.Combine(_tmp, "many.avro");
        System.IO.File.WriteAllBytes(path, AvroContainer.Write(schemaJson, Enumerable.Repeat((ReadOnlyMemory<byte>)one, 3000).ToList()));
        var raws = await All(new ContainerFileSource(path, new AvroSchemaRegistry()));
        Assert.Equal(3000, raws.Count);
        Assert.All(raws, r => Assert.Equal(SingleObjectEncoding.HeaderLength + one.Length, r.Payload.Length));
    }

    [Fact]
    public void A_negative_length_and_an_overlong_varint_are_malformed()
    {
        var neg = Assert.Throws<AvroFormatException>(() => { var r = new AvroReader(Varint(-5)); r.ReadBytes(); });
        Assert.Null(neg.Limit);
        Assert.Contains("negative length -5", neg.Message);
        byte[] eleven = [.. Enumerable.Repeat((byte)0xff, 11)];
        Assert.Throws<AvroFormatException>(() => { var r = new AvroReader(eleven); r.ReadLong(); });
    }

    [Fact]
    public void An_alert_over_MaxAlertBytes_is_dead_lettered_undecoded_with_its_bytes()
    {
        var bytes = LongestZtf;
        var decoder = new AlertDecoder(limits: new IngestLimits { MaxAlertBytes = bytes.Length - 1 });
        var dl = AssertDeadLetter(decoder.Decode(Raw(bytes)), "too-large", $"{bytes.Length} bytes, more than MaxAlertBytes {bytes.Length - 1}");
        Assert.True(dl.Source.Payload.Span.SequenceEqual(bytes));
        Assert.True(new AlertDecoder(limits: new IngestLimits { MaxAlertBytes = bytes.Length }).Decode(Raw(bytes)).IsSuccess);
    }

    [Fact]
    public void A_light_curve_history_over_MaxHistoryRows_is_dead_lettered()
    {
        var bytes = LongestZtf;
        var ok = new AlertDecoder().Decode(Raw(bytes));
        Assert.True(ok.IsSuccess);
        int points = ok.Alert!.LightCurve.Count;
        Assert.True(points > 4, $"{points} points");
        var dl = AssertDeadLetter(new AlertDecoder(limits: new IngestLimits { MaxHistoryRows = 2 }).Decode(Raw(bytes)), "too-large", "more than MaxHistoryRows 2");
        Assert.Contains("ztf.alert", dl.Detail);
    }

    private static string ZtfSchemaWithDoc(int docChars)
    {
        var (schemaJson, _) = TestAlerts.StripContainer(LongestZtf);
        return schemaJson.Insert(1, $"\"doc\":\"{new string('x', docChars)}\",");
    }

    [Fact]
    public void A_container_header_schema_over_MaxSchemaJsonBytes_is_a_bad_schema()
    {
        var (_, datum) = TestAlerts.StripContainer(LongestZtf);
        var file = AvroContainer.Write(ZtfSchemaWithDoc(2 << 20), [datum]);
        var dl = AssertDeadLetter(new AlertDecoder().Decode(Raw(file)), "bad-schema", "more than MaxSchemaJsonBytes 1048576");
        Assert.Equal(file.Length, dl.Source.Payload.Length);
        // The same schema with a short doc decodes: the limit, not the doc, refused it.
        Assert.True(new AlertDecoder().Decode(Raw(AvroContainer.Write(ZtfSchemaWithDoc(10), [datum]))).IsSuccess);
    }

    [Fact]
    public void A_schema_nested_deeper_than_MaxSchemaDepth_is_a_bad_schema()
    {
        string deep = "\"long\"";
        for (int i = 0; i < 100; i++) deep = $"{{\"type\":\"array\",\"items\":{deep}}}";
        var file = AvroContainer.Write(deep, [new byte[] { 0 }]);
        AssertDeadLetter(new AlertDecoder().Decode(Raw(file)), "bad-schema", "deeper than MaxSchemaDepth 64");
        var ex = Assert.Throws<AvroSchemaException>(() => AvroSchema.Parse(deep, new AvroLimits { MaxSchemaDepth = 32 }));
        Assert.Contains("MaxSchemaDepth 32", ex.Message);
    }

    [Fact]
    public void A_deflate_block_inflating_past_MaxInflatedBytes_is_dead_lettered()
    {
        var (schemaJson, _) = TestAlerts.StripContainer(LongestZtf);
        var file = AvroContainer.Write(schemaJson, [new byte[8 << 20]], "deflate");
        Assert.True(file.Length < 100_000, $"{file.Length} bytes");
        var decoder = new AlertDecoder(limits: new IngestLimits { Avro = new AvroLimits { MaxInflatedBytes = 1 << 20 } });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var dl = AssertDeadLetter(decoder.Decode(Raw(file)), "too-large", "MaxInflatedBytes 1048576");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
        Assert.True(dl.Source.Payload.Span.SequenceEqual(file));
    }

    // ---- tarballs ----

    private sealed class Zeros(long total) : Stream
    {
        private readonly long _total = total;
        private long _left = total;
        public override bool CanRead => true;
        public override bool CanSeek => true; // TarWriter asks for the length before writing to an unseekable archive
        public override bool CanWrite => false;
        public override long Length => _total;
        public override long Position { get => _total - _left; set => _left = _total - value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, _left);
            Array.Clear(buffer, offset, n);
            _left -= n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) =>
            Position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => Position + offset, _ => _total + offset };
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private string Tarball(string name, Action<TarWriter> write)
    {
        var path = Path.Combine(_tmp, name);
        using (var f = File.Create(path))
        using (var gz = new GZipStream(f, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
            write(tar);
        return path;
    }

    private static void Member(TarWriter tar, string name, Stream data) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data });

    private static async Task<List<RawAlert>> All(IAlertSource s)
    {
        var list = new List<RawAlert>();
        await foreach (var r in s.ReadAsync()) list.Add(r);
        return list;
    }

    [Fact]
    public async Task A_tarball_member_over_MaxTarEntryBytes_is_dead_lettered_with_its_first_64_KiB_and_reading_goes_on()
    {
        var good = LongestZtf;
        var path = Tarball("big.tar.gz", tar =>
        {
            Member(tar, "a.avro", new MemoryStream(good));
            Member(tar, "bomb.avro", new Zeros(64L << 20));
            Member(tar, "c.avro", new MemoryStream(good));
        });
        Assert.True(new FileInfo(path).Length < 1 << 20);
        var raws = await All(new TarballAlertSource(path, new AvroSchemaRegistry(), new IngestLimits { MaxTarEntryBytes = 1 << 20 }));
        Assert.Equal(3, raws.Count);
        var decoder = new AlertDecoder();
        var results = raws.Select(decoder.Decode).ToList();
        Assert.True(results[0].IsSuccess && results[2].IsSuccess);
        var dl = AssertDeadLetter(results[1], "too-large", "tarball member of 67108864 bytes, more than MaxTarEntryBytes 1048576");
        Assert.Equal(TarballAlertSource.RejectedPrefixBytes, dl.Source.Payload.Length);
        Assert.EndsWith("!bomb.avro", dl.Source.Position.Origin);
    }

    [Fact]
    public async Task A_gzip_bomb_past_MaxTarTotalBytes_ends_the_archive_with_one_dead_letter()
    {
        var good = LongestZtf;
        var path = Tarball("bomb.tar.gz", tar =>
        {
            Member(tar, "a.avro", new MemoryStream(good));
            for (int i = 0; i < 8; i++) Member(tar, $"pad{i}.bin", new Zeros(1 << 20)); // not alert files, but decompressed to be skipped
            Member(tar, "late.avro", new MemoryStream(good));
        });
        var source = new TarballAlertSource(path, new AvroSchemaRegistry(), new IngestLimits { MaxTarTotalBytes = 3 << 20 });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var raws = await All(source);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
        Assert.Equal(2, raws.Count);
        var decoder = new AlertDecoder();
        Assert.True(decoder.Decode(raws[0]).IsSuccess);
        AssertDeadLetter(decoder.Decode(raws[1]), "too-large", "more than MaxTarTotalBytes 3145728");
        Assert.Contains("MaxTarTotalBytes", raws[1].Position.Origin);

        // Under the default bound the same archive reads to the end.
        var all = await All(new TarballAlertSource(path, new AvroSchemaRegistry()));
        Assert.Equal(2, all.Count);
        Assert.All(all, r => Assert.True(decoder.Decode(r).IsSuccess));
    }

    [Fact]
    public async Task Links_are_skipped_with_a_reason_and_escaping_names_are_only_labels()
    {
        var good = LongestZtf;
        var path = Tarball("links.tar.gz", tar =>
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "sym.avro") { LinkName = "/etc/passwd" });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "hard.avro") { LinkName = "../../outside.avro" });
            Member(tar, "../escape.avro", new MemoryStream(good));
            Member(tar, "/abs/escape2.avro", new MemoryStream(good));
        });
        var source = new TarballAlertSource(path, new AvroSchemaRegistry());
        var raws = await All(source);
        Assert.Equal(2, raws.Count);
        Assert.EndsWith("!../escape.avro", raws[0].Position.Origin);
        Assert.EndsWith("!/abs/escape2.avro", raws[1].Position.Origin);
        var decoder = new AlertDecoder();
        Assert.All(raws, r => Assert.True(decoder.Decode(r).IsSuccess));
        Assert.Equal(2, source.SkippedMembers);
        Assert.Equal(["sym.avro: SymbolicLink to '/etc/passwd' ignored: links are never followed",
                      "hard.avro: HardLink to '../../outside.avro' ignored: links are never followed"], source.SkipReasons);
        // Nothing was written: no file beside the temp folder, none under /abs.
        var parent = Path.GetDirectoryName(_tmp)!;
        Assert.False(System.IO.File.Exists(Path.Combine(parent, "escape.avro")));
        Assert.False(System.IO.File.Exists(Path.Combine(parent, "outside.avro")));
        Assert.False(Directory.Exists("/abs"));
        Assert.Equal(["links.tar.gz"], Directory.GetFileSystemEntries(_tmp).Select(Path.GetFileName));
    }
}
