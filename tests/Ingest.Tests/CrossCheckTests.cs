using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Tests.Shared;
using Avro.Generic;

namespace Alerts.Ingest.Tests;

/// <summary>
/// Our projection decoder against an independent implementation: Apache.Avro's GenericDatumReader with the full
/// writer schema. Every light-curve value must agree exactly (same float/double bits before conversion).
/// </summary>
public class CrossCheckTests
{
    private static GenericRecord ReadWithApacheAvro(string file)
    {
        using var reader = global::Avro.File.DataFileReader<GenericRecord>.OpenReader(file);
        Assert.True(reader.HasNext());
        return reader.Next();
    }

    private static object? Get(GenericRecord r, params string[] names)
    {
        foreach (var n in names) if (r.Schema.Contains(n)) return r[n];
        return null;
    }

    private static double D(object? o) => o switch { double d => d, float f => f, int i => i, long l => l, null => double.NaN, _ => throw new InvalidCastException(o.GetType().Name) };

    /// <summary>The ZTF light curve built from Apache.Avro's generic records with the documented conventions.</summary>
    private static LightCurve ExpectedZtf(GenericRecord alert)
    {
        var lc = new LightCurve();
        var c = (GenericRecord)alert["candidate"];
        if (alert["prv_candidates"] is object[] prv)
            foreach (GenericRecord p in prv.Cast<GenericRecord>())
            {
                var band = Bands.FromZtfFid((int)p["fid"]);
                double mjd = Photometry.JdToMjd((double)p["jd"]);
                if (p["magpsf"] is float m && p["sigmapsf"] is float s)
                {
                    double f = ZtfAlertDecoder.DetectionFlux(m, ((string?)p["isdiffpos"] ?? "t")[0] is 'f' or '0' ? -1 : 1);
                    lc.Add(mjd, band, (float)f, (float)Photometry.MagErrToFluxErr(f, s), PointKind.Detection);
                }
                else if (p["diffmaglim"] is float lim)
                    lc.Add(mjd, band, 0f, (float)Photometry.LimitingMagToSigma(lim), PointKind.NonDetection);
            }
        double cf = ZtfAlertDecoder.DetectionFlux((float)c["magpsf"], ((string)c["isdiffpos"])[0] is 'f' or '0' ? -1 : 1);
        lc.Add(Photometry.JdToMjd((double)c["jd"]), Bands.FromZtfFid((int)c["fid"]), (float)cf, (float)Photometry.MagErrToFluxErr(cf, (float)c["sigmapsf"]), PointKind.Detection);
        lc.SortByTime();
        return lc;
    }

    private static void AssertSame(LightCurve expected, LightCurve actual, string file)
    {
        Assert.True(expected.Count == actual.Count, $"{file}: {expected.Count} points expected, {actual.Count} decoded");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected.Mjd[i], actual.Mjd[i]);
            Assert.Equal(expected.Band[i], actual.Band[i]);
            Assert.Equal(expected.Flux[i], actual.Flux[i]);
            Assert.Equal(expected.FluxErr[i], actual.FluxErr[i]);
            Assert.Equal(expected.Kind[i], actual.Kind[i]);
        }
    }

    [SharedDataFact]
    public void EveryZtfAlertMatchesApacheAvroGenericReader()
    {
        var decoder = new AlertDecoder();
        int n = 0;
        foreach (var file in TestAlerts.Files("ztf", "alerts"))
        {
            var generic = ReadWithApacheAvro(file);
            var ours = TestAlerts.DecodeOk(decoder, file);
            AssertSame(ExpectedZtf(generic), ours.LightCurve, file);
            Assert.Equal((long)generic["candid"], ours.Identity.AlertId);
            Assert.Equal((string)generic["objectId"], ours.Identity.ObjectId);
            Assert.Equal((string)generic["schemavsn"], ours.Identity.SchemaVersion);
            var c = (GenericRecord)generic["candidate"];
            Assert.Equal((double)c["ra"], ours.Identity.Ra);
            Assert.Equal((double)c["dec"], ours.Identity.Dec);
            Assert.Equal(Photometry.JdToMjd((double)c["jd"]), ours.Identity.Mjd);
            n++;
        }
        Assert.Equal(331, n);
    }

    [SharedDataFact]
    public void EveryRubinAndElasticcAlertMatchesApacheAvroGenericReader()
    {
        var decoder = new AlertDecoder();
        int n = 0;
        foreach (var file in TestAlerts.Files("lsst", "alerts").Concat(TestAlerts.Files("elasticc", "alerts")))
        {
            var a = ReadWithApacheAvro(file);
            var expected = new LightCurve();
            void Add(GenericRecord s, PointKind kind)
            {
                double t = D(Get(s, "midpointMjdTai", "midPointTai")), f = D(Get(s, "psfFlux", "psFlux")), e = D(Get(s, "psfFluxErr", "psFluxErr"));
                if (double.IsNaN(t) || double.IsNaN(f) || double.IsNaN(e) || e < 0) return;
                expected.Add(t, Bands.FromLsstLetter((string?)Get(s, "band", "filterName") ?? ""), (float)f, (float)e, kind);
            }
            if (Get(a, "prvDiaSources") is object[] prv) foreach (var p in prv.OfType<GenericRecord>()) Add(p, PointKind.Detection);
            var src = (GenericRecord)a["diaSource"];
            Add(src, PointKind.Detection);
            if (Get(a, "prvDiaForcedSources") is object[] fs) foreach (var p in fs.OfType<GenericRecord>()) Add(p, PointKind.ForcedPhotometry);
            if (Get(a, "prvDiaNondetectionLimits") is object[] nd)
                foreach (var p in nd.OfType<GenericRecord>())
                    expected.Add(D(Get(p, "midpointMjdTai", "midPointTai")), Bands.FromLsstLetter((string?)Get(p, "band", "filterName") ?? ""), 0f, (float)D(p["diaNoise"]), PointKind.NonDetection);
            expected.SortByTime();

            var ours = TestAlerts.DecodeOk(decoder, file);
            AssertSame(expected, ours.LightCurve, file);
            Assert.Equal(D(Get(src, "midpointMjdTai", "midPointTai")), ours.Identity.Mjd);
            Assert.Equal(((long?)Get(src, "diaObjectId"))?.ToString() ?? "", ours.Identity.ObjectId);
            long id = Get(a, "diaSourceId") is long top ? top : (long)Get(a, "alertId")!;
            Assert.Equal(id, ours.Identity.AlertId);
            n++;
        }
        Assert.Equal(115, n);
    }

    [SharedDataFact]
    public void SchemaFingerprintsMatchApacheAvro()
    {
        foreach (var file in TestAlerts.Files("ztf", "alerts", "ztf-avro-alert").Concat(TestAlerts.Files("lsst", "alerts", "alert_packet-fake")).Concat(TestAlerts.Files("lsst", "alerts", "fink-rubin-v9.0").Take(2)))
        {
            var bytes = File.ReadAllBytes(file);
            var json = System.Text.Encoding.UTF8.GetString(ContainerHeader.Parse(bytes).SchemaJson(bytes));
            var theirs = global::Avro.Schema.Parse(json);
            var ours = AvroSchema.Parse(json);
            Assert.Equal(global::Avro.SchemaNormalization.ToParsingForm(theirs), ours.CanonicalForm);
            Assert.Equal((ulong)global::Avro.SchemaNormalization.ParsingFingerprint64(theirs), ours.Fingerprint);
        }
    }
}
