using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Tests.Shared;
using CsCheck;

namespace Alerts.Ingest.Tests;

/// <summary>
/// Property tests: random alerts written with our <see cref="AvroBinaryWriter"/> against the real writer schemas of
/// every supported version (loaded from ../shared/data), in every framing, decode to exactly the light curve the
/// conventions predict; truncated or corrupted bytes always give a dead letter and never an exception.
/// </summary>
public class RoundTripPropertyTests
{
    public sealed record PrvRow(double Jd, int Fid, bool Detection, float Mag, float Sig, bool Positive, float Lim);
    public sealed record FpRow(double Jd, int Fid, int Missing, float Flux, float Unc, float Zp);
    public sealed record ZtfCase(int Seed, int Framing, long Candid, PrvRow Current, PrvRow[] Prv, FpRow[] Fp);

    private static readonly Gen<PrvRow> GenPrv =
        Gen.Select(Gen.Double[2458000, 2461000], Gen.Int[1, 3], Gen.Bool, Gen.Float[12f, 22f], Gen.Float[0.001f, 0.5f], Gen.Bool, Gen.Float[17f, 22f])
            .Select(t => new PrvRow(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7));

    private static readonly Gen<FpRow> GenFp =
        Gen.Select(Gen.Double[2458000, 2461000], Gen.Int[1, 3], Gen.Int[0, 3], Gen.Float[-5000f, 5000f], Gen.Float[1f, 300f], Gen.Float[25f, 27f])
            .Select(t => new FpRow(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6));

    private static readonly Gen<ZtfCase> GenZtf =
        Gen.Select(Gen.Int, Gen.Int[0, 3], Gen.Long[1, long.MaxValue], GenPrv, GenPrv.Array[0, 30], GenFp.Array[0, 20])
            .Select(t => new ZtfCase(t.Item1, t.Item2, t.Item3, t.Item4 with { Detection = true }, t.Item5, t.Item6));

    public static readonly TheoryData<string> ZtfVersions = new() { "2.0", "3.0", "3.1", "3.2", "3.3", "4.01", "4.02" };

    private static AvroSchema ZtfSchema(string version) => AvroSchemaRegistry.LoadFile(SharedData.Path("ztf", "schema", version, "alert.avsc"));

    private static (bool, object?) ZtfLookup(ZtfCase c, string version, string path, int row)
    {
        PrvRow? p = path.StartsWith("prv_candidates[]", StringComparison.Ordinal) ? c.Prv[row] : path.StartsWith("candidate.", StringComparison.Ordinal) ? c.Current : null;
        FpRow? f = path.StartsWith("fp_hists[]", StringComparison.Ordinal) ? c.Fp[row] : null;
        var leaf = path[(path.LastIndexOf('.') + 1)..];
        if (f is not null)
            return leaf switch
            {
                "jd" => (true, f.Jd), "fid" => (true, f.Fid), "magzpsci" => (true, f.Zp), "forcediffimfluxunc" => (true, f.Unc),
                "forcediffimflux" => (true, f.Missing switch { 0 => null, 1 => -99999f, _ => f.Flux }),
                _ => (false, null),
            };
        if (p is not null)
            return leaf switch
            {
                "jd" => (true, p.Jd), "fid" => (true, p.Fid), "diffmaglim" => (true, p.Lim),
                "magpsf" => (true, p.Detection ? p.Mag : null), "sigmapsf" => (true, p.Detection ? p.Sig : null),
                "isdiffpos" => (true, p.Detection ? (p.Positive ? "t" : "f") : null),
                "ra" => (true, 150.25), "dec" => (true, -12.5),
                _ => (false, null),
            };
        return path switch
        {
            "schemavsn" => (true, version),
            "objectId" => (true, "ZTF" + c.Candid % 1000003),
            "candid" => (true, c.Candid),
            "prv_candidates" => (true, new Rows(c.Prv.Length)),
            "fp_hists" => (true, new Rows(c.Fp.Length)),
            _ => (false, null),
        };
    }

    private static LightCurve ExpectedZtf(ZtfCase c)
    {
        var lc = new LightCurve();
        foreach (var p in c.Prv)
        {
            if (p.Detection)
            {
                double f = ZtfAlertDecoder.DetectionFlux(p.Mag, p.Positive ? 1 : -1);
                lc.Add(Photometry.JdToMjd(p.Jd), Bands.FromZtfFid(p.Fid), (float)f, (float)Photometry.MagErrToFluxErr(f, p.Sig), PointKind.Detection);
            }
            else lc.Add(Photometry.JdToMjd(p.Jd), Bands.FromZtfFid(p.Fid), 0f, (float)Photometry.LimitingMagToSigma(p.Lim), PointKind.NonDetection);
        }
        var cur = c.Current;
        double cf = ZtfAlertDecoder.DetectionFlux(cur.Mag, cur.Positive ? 1 : -1);
        lc.Add(Photometry.JdToMjd(cur.Jd), Bands.FromZtfFid(cur.Fid), (float)cf, (float)Photometry.MagErrToFluxErr(cf, cur.Sig), PointKind.Detection);
        return lc;
    }

    private static byte[] Frame(int framing, AvroSchema schema, byte[] datum, AvroSchemaRegistry registry, int schemaId)
    {
        switch (framing)
        {
            case 0: return AvroContainer.Write(schema.ToString(), [datum]);
            case 1: return AvroContainer.Write(schema.ToString(), [datum], "deflate");
            case 2: return SingleObjectEncoding.Encode(registry.Register(schema), datum);
            default: registry.Register(schemaId, schema); return ConfluentWireFormat.Encode(schemaId, datum);
        }
    }

    private static void AssertSame(LightCurve expected, LightCurve actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.True(expected.Mjd.SequenceEqual(actual.Mjd));
        Assert.True(expected.Band.SequenceEqual(actual.Band));
        Assert.True(expected.Flux.SequenceEqual(actual.Flux));
        Assert.True(expected.FluxErr.SequenceEqual(actual.FluxErr));
        Assert.True(expected.Kind.SequenceEqual(actual.Kind));
    }

    [SharedDataTheory]
    [MemberData(nameof(ZtfVersions))]
    public void ZtfRandomAlertRoundTripsExactly(string version)
    {
        var schema = ZtfSchema(version);
        bool hasFp = ((RecordSchema)schema).Field("fp_hists") is not null;
        GenZtf.Sample(c =>
        {
            if (!hasFp) c = c with { Fp = [] };
            var registry = new AvroSchemaRegistry();
            using var w = new AvroBinaryWriter();
            new RandomDatumWriter(new Random(c.Seed), (p, r) => ZtfLookup(c, version, p, r)).Write(w, schema);
            var bytes = Frame(c.Framing, schema, w.ToArray(), registry, 4242);
            var decoder = new AlertDecoder(registry);
            var result = decoder.Decode(TestAlerts.Raw(bytes));
            Assert.True(result.IsSuccess, result.DeadLetter?.ToString());
            var expected = ExpectedZtf(c);
            long skipped = 0;
            foreach (var f in c.Fp)
            {
                if (f.Missing < 2) { skipped++; continue; }
                expected.Add(Photometry.JdToMjd(f.Jd), Bands.FromZtfFid(f.Fid), (float)ZtfAlertDecoder.ForcedFluxToNanojansky(f.Flux, f.Zp),
                    (float)ZtfAlertDecoder.ForcedFluxToNanojansky(f.Unc, f.Zp), PointKind.ForcedPhotometry);
            }
            expected.SortByTime();
            AssertSame(expected, result.Alert!.LightCurve);
            Assert.Equal(skipped, decoder.Counters.ForcedPhotometryRowsSkipped);
            Assert.Equal(c.Candid, result.Alert.Identity.AlertId);
            Assert.Equal(version, result.Alert.Identity.SchemaVersion);
            Assert.Equal(Photometry.JdToMjd(c.Current.Jd), result.Alert.Identity.Mjd);
        }, iter: 60);
    }

    public sealed record RubinRow(double Mjd, int Band, float Flux, float Err);
    public sealed record RubinCase(int Seed, int Framing, long Id, long ObjectId, RubinRow Current, RubinRow[] Prv, RubinRow[] Forced, RubinRow[] Limits);

    private static readonly Gen<RubinRow> GenRubinRow =
        Gen.Select(Gen.Double[60000, 62000], Gen.Int[0, 5], Gen.Float[-1e5f, 1e5f], Gen.Float[0.1f, 1e4f]).Select(t => new RubinRow(t.Item1, t.Item2, t.Item3, t.Item4));

    private static readonly Gen<RubinCase> GenRubin =
        Gen.Select(Gen.Int, Gen.Int[0, 3], Gen.Long[1, long.MaxValue], Gen.Long[1, long.MaxValue], GenRubinRow, GenRubinRow.Array[0, 20], GenRubinRow.Array[0, 20], GenRubinRow.Array[0, 10])
            .Select(t => new RubinCase(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8));

    public static readonly TheoryData<string> RubinVersions = new() { "3.0", "4.0", "5.0", "6.0", "6.1", "7.0", "7.1", "7.2", "7.3", "7.4", "8.0", "9.0", "10.0", "11.0" };

    private static readonly string[] Letters = ["u", "g", "r", "i", "z", "y"];

    private static (bool, object?) RubinLookup(RubinCase c, string path, int row)
    {
        RubinRow? r = path.StartsWith("diaSource.", StringComparison.Ordinal) ? c.Current
            : path.StartsWith("prvDiaSources[]", StringComparison.Ordinal) ? c.Prv[row]
            : path.StartsWith("prvDiaForcedSources[]", StringComparison.Ordinal) ? c.Forced[row]
            : path.StartsWith("prvDiaNondetectionLimits[]", StringComparison.Ordinal) ? c.Limits[row] : null;
        var leaf = path[(path.LastIndexOf('.') + 1)..];
        if (r is not null)
            return leaf switch
            {
                "midpointMjdTai" or "midPointTai" => (true, r.Mjd),
                "band" or "filterName" => (true, Letters[r.Band]),
                "psfFlux" or "psFlux" => (true, r.Flux),
                "psfFluxErr" or "psFluxErr" => (true, r.Err),
                "diaNoise" => (true, r.Err),
                "diaObjectId" when path.StartsWith("diaSource.", StringComparison.Ordinal) => (true, c.ObjectId),
                "ra" => (true, 10.5), "dec" or "decl" => (true, -45.25),
                _ => (false, null),
            };
        return path switch
        {
            "alertId" or "diaSourceId" => (true, c.Id),
            "prvDiaSources" => (true, new Rows(c.Prv.Length)),
            "prvDiaForcedSources" => (true, new Rows(c.Forced.Length)),
            "prvDiaNondetectionLimits" => (true, new Rows(c.Limits.Length)),
            _ => (false, null),
        };
    }

    [SharedDataTheory]
    [MemberData(nameof(RubinVersions))]
    public void RubinRandomAlertRoundTripsExactly(string version)
    {
        var parts = version.Split('.');
        var registryForSchema = new AvroSchemaRegistry(SharedData.Path("lsst", "schema"));
        int id = int.Parse(parts[0]) * 100 + int.Parse(parts[1]);
        Assert.True(registryForSchema.TryGetById(id, out var schema, out var error), error);
        bool hasLimits = ((RecordSchema)schema).Field("prvDiaNondetectionLimits") is not null;
        GenRubin.Sample(c =>
        {
            if (!hasLimits) c = c with { Limits = [] };
            var registry = new AvroSchemaRegistry(SharedData.Path("lsst", "schema"));
            using var w = new AvroBinaryWriter();
            new RandomDatumWriter(new Random(c.Seed), (p, r) => RubinLookup(c, p, r)).Write(w, schema);
            var bytes = Frame(c.Framing, schema, w.ToArray(), registry, id);
            var result = new AlertDecoder(registry).Decode(TestAlerts.Raw(bytes));
            Assert.True(result.IsSuccess, result.DeadLetter?.ToString());
            var expected = new LightCurve();
            Band B(RubinRow r) => Bands.FromLsstLetter(Letters[r.Band]);
            foreach (var r in c.Prv) expected.Add(r.Mjd, B(r), r.Flux, r.Err, PointKind.Detection);
            expected.Add(c.Current.Mjd, B(c.Current), c.Current.Flux, c.Current.Err, PointKind.Detection);
            foreach (var r in c.Forced) expected.Add(r.Mjd, B(r), r.Flux, r.Err, PointKind.ForcedPhotometry);
            foreach (var r in c.Limits) expected.Add(r.Mjd, B(r), 0f, r.Err, PointKind.NonDetection);
            expected.SortByTime();
            AssertSame(expected, result.Alert!.LightCurve);
            Assert.Equal(c.Id, result.Alert.Identity.AlertId);
            Assert.Equal(c.ObjectId.ToString(), result.Alert.Identity.ObjectId);
            Assert.Equal(version, result.Alert.Identity.SchemaVersion);
        }, iter: 25);
    }

    [SharedDataFact]
    public void TruncatedOrCorruptedAlertIsADeadLetterNeverAnException()
    {
        var schema = ZtfSchema("4.02");
        var rubinRegistry = new AvroSchemaRegistry(SharedData.Path("lsst", "schema"));
        Assert.True(rubinRegistry.TryGetById(1100, out var rubin, out _));
        Gen.Select(GenZtf, GenRubin, Gen.Bool, Gen.Double[0, 1], Gen.Int[0, 5]).Sample(t =>
        {
            var (z, rc, useRubin, cut, flips) = t;
            var registry = new AvroSchemaRegistry(SharedData.Path("lsst", "schema"));
            using var w = new AvroBinaryWriter();
            byte[] bytes;
            if (useRubin)
            {
                new RandomDatumWriter(new Random(rc.Seed), (p, r) => RubinLookup(rc, p, r)).Write(w, rubin);
                bytes = Frame(rc.Framing, rubin, w.ToArray(), registry, 1100);
            }
            else
            {
                new RandomDatumWriter(new Random(z.Seed), (p, r) => ZtfLookup(z, "4.02", p, r)).Write(w, schema);
                bytes = Frame(z.Framing, schema, w.ToArray(), registry, 4242);
            }
            var decoder = new AlertDecoder(registry);
            Assert.True(decoder.Decode(TestAlerts.Raw(bytes)).IsSuccess);

            // Truncation anywhere: always a dead letter that keeps the bytes.
            var truncated = bytes[..(int)(cut * (bytes.Length - 1))];
            var r1 = decoder.Decode(TestAlerts.Raw(truncated));
            Assert.False(r1.IsSuccess);
            Assert.Equal(truncated.Length, r1.DeadLetter!.Source.Payload.Length);
            Assert.False(string.IsNullOrWhiteSpace(r1.DeadLetter.Reason));

            // Corruption: any outcome but an exception; a failure names a reason.
            var corrupted = (byte[])bytes.Clone();
            var rnd = new Random(z.Seed);
            for (int i = 0; i < flips + 1; i++) corrupted[rnd.Next(corrupted.Length)] ^= (byte)rnd.Next(1, 256);
            var r2 = decoder.Decode(TestAlerts.Raw(corrupted));
            Assert.True(r2.IsSuccess || r2.DeadLetter!.Reason.Length > 0);
        }, iter: 300);
    }

    [Fact]
    public void GarbageAndWrongMagicAreDeadLettered()
    {
        var d = new AlertDecoder();
        Assert.Equal("bad-magic", d.Decode(TestAlerts.Raw("hello world"u8.ToArray())).DeadLetter!.Reason);
        Assert.Equal("truncated", d.Decode(TestAlerts.Raw([])).DeadLetter!.Reason);
        Assert.Equal("truncated", d.Decode(TestAlerts.Raw([0, 0, 0])).DeadLetter!.Reason);
        Assert.Equal("unknown-schema-id", d.Decode(TestAlerts.Raw([0, 0, 0, 3, 132, 1, 2])).DeadLetter!.Reason);
        Assert.Equal("truncated", d.Decode(TestAlerts.Raw("Obj\x01"u8.ToArray())).DeadLetter!.Reason);
        Gen.Byte.Array[0, 200].Sample(b => { _ = d.Decode(TestAlerts.Raw(b)); }, iter: 2000);
    }
}

public class BadContentTests
{
    private static DecodeResult DecodeRubinWith(Func<string, int, (bool, object?)> overrides)
    {
        var registry = new AvroSchemaRegistry(SharedData.Path("lsst", "schema"));
        Assert.True(registry.TryGetById(900, out var schema, out _));
        using var w = new AvroBinaryWriter();
        new RandomDatumWriter(new Random(7), (p, r) => overrides(p, r) is (true, var v) ? (true, v)
            : p switch { "prvDiaSources" or "prvDiaForcedSources" => (true, new Rows(0)), "diaSource.midpointMjdTai" => (true, 60500.5), "diaSource.psfFlux" => (true, 10f), "diaSource.psfFluxErr" => (true, 1f), _ => (false, null) }).Write(w, schema);
        return new AlertDecoder(registry).Decode(TestAlerts.Raw(ConfluentWireFormat.Encode(900, w.ToArray()), "topic-x[0]@5"));
    }

    [SharedDataFact]
    public void NullRequiredFluxIsDeadLettered()
    {
        var r = DecodeRubinWith((p, _) => p == "diaSource.psfFlux" ? (true, null) : (false, null));
        Assert.Equal("null-required-field", r.DeadLetter!.Reason);
        Assert.Contains("diaSource.psfFlux", r.DeadLetter.Detail);
        Assert.Contains("topic-x[0]@5", r.DeadLetter.Detail);
    }

    [SharedDataTheory]
    [InlineData(float.NaN)]
    [InlineData(-1f)]
    public void NaNOrNegativeFluxErrorIsDeadLettered(float err)
    {
        var r = DecodeRubinWith((p, _) => p == "diaSource.psfFluxErr" ? (true, err) : (false, null));
        Assert.Equal("bad-flux", r.DeadLetter!.Reason);
    }

    [SharedDataFact]
    public void BadHistoryRowsAreSkippedAndCounted()
    {
        var registry = new AvroSchemaRegistry(SharedData.Path("lsst", "schema"));
        Assert.True(registry.TryGetById(900, out var schema, out _));
        using var w = new AvroBinaryWriter();
        new RandomDatumWriter(new Random(3), (p, r) => p switch
        {
            "prvDiaSources" => (true, new Rows(3)), "prvDiaForcedSources" => (true, new Rows(0)),
            "diaSource.midpointMjdTai" or "prvDiaSources[].midpointMjdTai" => (true, 60500.0 + r),
            "diaSource.psfFlux" or "prvDiaSources[].psfFlux" => (true, 5f),
            "diaSource.psfFluxErr" => (true, 1f),
            "prvDiaSources[].psfFluxErr" => (true, r == 1 ? float.NaN : 2f),
            _ => (false, null),
        }).Write(w, schema);
        var decoder = new AlertDecoder(registry);
        var a = decoder.Decode(TestAlerts.Raw(ConfluentWireFormat.Encode(900, w.ToArray())));
        Assert.True(a.IsSuccess, a.DeadLetter?.ToString());
        Assert.Equal(3, a.Alert!.LightCurve.Count);
        Assert.Equal(1, decoder.Counters.HistoryRowsSkipped);
    }
}
