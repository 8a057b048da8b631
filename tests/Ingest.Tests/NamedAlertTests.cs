using Alerts.Core;
using Alerts.Ingest.Decoding;
using Alerts.Tests.Shared;

namespace Alerts.Ingest.Tests;

/// <summary>Values of named real alerts, checked by hand against python3-avro (Debian) output.</summary>
public class NamedAlertTests
{
    private static string Ztf(params string[] p) => SharedData.Path(["ztf", "alerts", .. p]);

    [SharedDataFact]
    public void Candid472263571115115000GivesTheSameLightCurveInEverySchemaVersion()
    {
        var decoder = new AlertDecoder();
        var versions = new[] { "v3.0", "v3.1", "v3.2", "v3.3" };
        var alerts = versions.Select(v => TestAlerts.DecodeOk(decoder, Ztf("ztf-avro-alert", v, "472263571115115000.avro"))).ToList();
        Assert.Equal(["3.0", "3.1", "3.2", "3.3"], alerts.Select(a => a.Identity.SchemaVersion));
        var first = alerts[0];
        Assert.Equal(472263571115115000, first.Identity.AlertId);
        Assert.Equal("ZTF17aaajnnn", first.Identity.ObjectId);
        Assert.Equal(12, first.LightCurve.Count);            // 11 prv_candidates (all limits) + the candidate
        Assert.Equal(11, first.LightCurve.CountOf(PointKind.NonDetection));
        Assert.Equal(58224.2012384, first.LightCurve.Mjd[0], 6);
        Assert.Equal(58226.2635764, first.LightCurve.Mjd[^1], 6);
        Assert.Equal(first.Identity.Mjd, first.LightCurve.Mjd[^1]);
        foreach (var a in alerts.Skip(1))
        {
            Assert.Equal(first.Identity with { SchemaVersion = a.Identity.SchemaVersion }, a.Identity);
            Assert.True(first.LightCurve.Mjd.SequenceEqual(a.LightCurve.Mjd));
            Assert.True(first.LightCurve.Flux.SequenceEqual(a.LightCurve.Flux));
            Assert.True(first.LightCurve.FluxErr.SequenceEqual(a.LightCurve.FluxErr));
            Assert.True(first.LightCurve.Band.SequenceEqual(a.LightCurve.Band));
            Assert.True(first.LightCurve.Kind.SequenceEqual(a.LightCurve.Kind));
        }
        // The v2.0 packet of the same object is a different candid (472263571115095000) with a longer history.
        var v2 = TestAlerts.DecodeOk(decoder, Ztf("ztf-avro-alert", "v2.0", "472263571115095000.avro"));
        Assert.Equal("ZTF17aaajnnn", v2.Identity.ObjectId);
        Assert.Equal("2.0", v2.Identity.SchemaVersion);
        Assert.Equal(74, v2.LightCurve.Count);
        Assert.Equal(63, v2.LightCurve.CountOf(PointKind.Detection));
    }

    [SharedDataFact]
    public void NegativeDifferenceHasNegativeFlux()
    {
        // isdiffpos = 'f', magpsf 15.3711338: flux = -10^(-0.4 (15.3711338 - 31.4)) nJy.
        var a = TestAlerts.DecodeOk(new AlertDecoder(), Ztf("ztf-avro-alert", "v3.2", "2019_01_10_739260766315010006.avro"));
        Assert.Equal(739260766315010006, a.Identity.AlertId);
        Assert.Equal("ZTF17aaacxxf", a.Identity.ObjectId);
        Assert.Equal(29, a.LightCurve.Count);
        Assert.Equal(23, a.LightCurve.CountOf(PointKind.Detection));
        int last = a.LightCurve.Count - 1;
        Assert.Equal(58493.2607639, a.LightCurve.Mjd[last], 6);
        Assert.Equal((float)-Math.Pow(10, -0.4 * (15.371133804321289 - 31.4)), a.LightCurve.Flux[last]);
        Assert.Equal(58464.2433681, a.LightCurve.Mjd[0], 6);
        Assert.All(a.LightCurve.Band.ToArray(), b => Assert.True(b is Band.ZtfG or Band.ZtfR));
    }

    [SharedDataFact]
    public void FinkSimulatorHeaderSays31ButRecordSays32()
    {
        var a = TestAlerts.DecodeOk(new AlertDecoder(), Ztf("fink-alert-schemas", "template_schema_ZTF_3p1.avro"));
        Assert.Equal("3.2", a.Identity.SchemaVersion);
        Assert.Equal(697252381915015008, a.Identity.AlertId);
        Assert.Equal(11, a.LightCurve.Count);
    }

    [SharedDataFact]
    public void ZtfTotalsOverEveryFile()
    {
        // Counted independently with python3-avro over the 331 files here: prv_candidates hold 998 detections and
        // 3,171 non-detections; no file is 4.x, so there are no fp_hists rows. (SOURCES.md's 1,103 / 3,885 / 426
        // include the 4.x packets that are "not in this copy".)
        var decoder = new AlertDecoder();
        int alerts = 0, det = 0, nondet = 0, fp = 0;
        foreach (var f in TestAlerts.Files("ztf", "alerts"))
        {
            var a = TestAlerts.DecodeOk(decoder, f);
            alerts++;
            det += a.LightCurve.CountOf(PointKind.Detection);
            nondet += a.LightCurve.CountOf(PointKind.NonDetection);
            fp += a.LightCurve.CountOf(PointKind.ForcedPhotometry);
        }
        Assert.Equal(331, alerts);
        Assert.Equal(998 + 331, det);
        Assert.Equal(3171, nondet);
        Assert.Equal(0, fp);
        Assert.Equal(0, decoder.Counters.HistoryRowsSkipped);
    }

    [SharedDataFact]
    public void FinkRubinV9AlertsAreIBandAtOneVisit()
    {
        var decoder = new AlertDecoder();
        var alerts = TestAlerts.Files("lsst", "alerts", "fink-rubin-v9.0").Select(f => TestAlerts.DecodeOk(decoder, f)).ToList();
        Assert.Equal(100, alerts.Count);
        Assert.All(alerts, a =>
        {
            Assert.Equal(Survey.Lsst, a.Identity.Survey);
            Assert.Equal("9.0", a.Identity.SchemaVersion);
            Assert.Equal(60924.33, a.Identity.Mjd, 2);
            Assert.Equal(Band.LsstI, a.LightCurve.Band[^1]);
            Assert.InRange(a.LightCurve.Count, 1, 2);
        });
        var one = alerts.Single(a => a.Identity.AlertId == 169298432598474793);
        Assert.Equal(3028.18701171875f, one.LightCurve.Flux[^1]);
    }

    [SharedDataTheory]
    [InlineData("3.0")] [InlineData("4.0")] [InlineData("5.0")] [InlineData("6.0")] [InlineData("6.1")] [InlineData("7.0")]
    [InlineData("7.1")] [InlineData("7.2")] [InlineData("7.3")] [InlineData("7.4")] [InlineData("8.0")] [InlineData("9.0")]
    [InlineData("10.0")] [InlineData("11.0")]
    public void RubinFakeAlertOfEveryVersionDecodes(string version)
    {
        var a = TestAlerts.DecodeOk(new AlertDecoder(), SharedData.Path("lsst", "alerts", "alert_packet-fake", version, "fakeAlert.avro"));
        Assert.Equal(version, a.Identity.SchemaVersion);
        Assert.Equal(Survey.Lsst, a.Identity.Survey);
        Assert.True(a.LightCurve.CountOf(PointKind.Detection) >= 1);
    }

    [SharedDataFact]
    public void ElasticcAlertHasSixPreviousSourcesInG()
    {
        var a = TestAlerts.DecodeOk(new AlertDecoder(), SharedData.Path("elasticc", "alerts", "alert_mjd60673.2244_obj1198_src2396011.avro"));
        Assert.Equal(Survey.Elasticc, a.Identity.Survey);
        Assert.Equal("0.9", a.Identity.SchemaVersion);
        Assert.Equal(1231321321, a.Identity.AlertId);
        Assert.Equal("1198", a.Identity.ObjectId);
        Assert.Equal(60673.2244, a.Identity.Mjd, 4);
        Assert.Equal(7, a.LightCurve.CountOf(PointKind.Detection));
    }
}
