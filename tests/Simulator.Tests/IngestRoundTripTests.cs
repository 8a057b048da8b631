using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Tests.Shared;

namespace Alerts.Simulator.Tests;

/// <summary>Simulated alerts decode through our own Ingest stage (AlertDecoder) to exactly the simulated values.</summary>
public class IngestRoundTripTests
{
    private static RawAlert Raw(SimulatedAlert a) => new(a.Bytes, SourcePosition.File(a.AlertId + ".avro"), DateTimeOffset.UnixEpoch);

    [Fact]
    public void Ztf_alerts_decode_through_ingest_to_the_true_light_curve()
    {
        var decoder = new AlertDecoder();
        int n = 0;
        foreach (var a in TestSupport.Alerts(new SimulationOptions { Survey = Survey.Ztf, Objects = 28, Seed = 21, Balanced = true }, 300))
        {
            var res = decoder.Decode(Raw(a));
            Assert.True(res.IsSuccess, res.DeadLetter?.ToString());
            var d = res.Alert!;
            var obj = a.Object; int i = (int)(a.AlertId - obj.AlertId(0)); var o = obj.Observations[i];
            Assert.Equal(Survey.Ztf, d.Identity.Survey);
            Assert.Equal(a.AlertId, d.Identity.AlertId);
            Assert.Equal(obj.ObjectId, d.Identity.ObjectId);
            Assert.Equal(o.Mjd, d.Identity.Mjd, 1e-8);
            Assert.Equal(obj.Ra, d.Identity.Ra);
            var lc = d.LightCurve;
            var window = obj.Observations.Take(i).Where(p => p.Mjd >= o.Mjd - 30).ToList();
            var det = Points(lc, PointKind.Detection);
            var expectedDet = window.Where(p => p.Detected).Append(o).ToList();
            Assert.Equal(expectedDet.Count, det.Count);
            for (int k = 0; k < det.Count; k++)
            {
                var e = expectedDet[k];
                double f = Math.Sign(e.Flux) * Photometry.MagToFlux(e.Mag);
                Assert.Equal(e.Mjd, det[k].Mjd, 1e-8);
                Assert.Equal(e.Band, det[k].Band);
                Assert.Equal((float)f, det[k].Flux);
                Assert.Equal((float)Photometry.MagErrToFluxErr(f, e.MagErr), det[k].Err);
                Assert.Equal(e.Flux, det[k].Flux, Math.Abs(e.Flux) * 1e-5);           // the true measured flux, to float precision
            }
            var non = Points(lc, PointKind.NonDetection);
            var expectedNon = window.Where(p => !p.Detected).ToList();
            Assert.Equal(expectedNon.Count, non.Count);
            for (int k = 0; k < non.Count; k++)
            {
                Assert.Equal(0f, non[k].Flux);
                Assert.Equal((float)Photometry.LimitingMagToSigma(expectedNon[k].Visit.LimitingMag), non[k].Err);
            }
            var fp = Points(lc, PointKind.ForcedPhotometry);
            Assert.Equal(window.Count, fp.Count);
            for (int k = 0; k < fp.Count; k++)
            {
                Assert.Equal(window[k].Flux, fp[k].Flux, Math.Abs(window[k].Flux) * 1e-5 + 1e-2);
                Assert.Equal(window[k].FluxErr, fp[k].Err, window[k].FluxErr * 1e-5);
            }
            n++;
        }
        Assert.True(n > 100);
    }

    [Theory]
    [InlineData("9.0", AlertFormat.Wire)]
    [InlineData("11.0", AlertFormat.Wire)]
    [InlineData("11.0", AlertFormat.Container)]
    public void Rubin_alerts_decode_through_ingest_with_our_schema_folder(string version, AlertFormat format)
    {
        var decoder = new AlertDecoder(new AvroSchemaRegistry(RepoPaths.Of("schemas", "lsst")));
        int n = 0;
        foreach (var a in TestSupport.Alerts(new SimulationOptions { Survey = Survey.Lsst, Objects = 28, Seed = 22, Balanced = true, Format = format, SchemaVersion = version }, 300))
        {
            var res = decoder.Decode(Raw(a));
            Assert.True(res.IsSuccess, res.DeadLetter?.ToString());
            var d = res.Alert!;
            var obj = a.Object; int i = (int)(a.AlertId - obj.AlertId(0)); var o = obj.Observations[i];
            Assert.Equal(a.AlertId, d.Identity.AlertId);
            Assert.Equal(obj.DiaObjectId.ToString(), d.Identity.ObjectId);
            Assert.Equal(o.Mjd, d.Identity.Mjd);
            var window = obj.Observations.Take(i).Where(p => p.Mjd >= o.Mjd - 365).ToList();
            var det = Points(d.LightCurve, PointKind.Detection);
            var expectedDet = window.Where(p => p.Detected).Append(o).ToList();
            Assert.Equal(expectedDet.Select(e => (e.Mjd, e.Band, (float)e.Flux, (float)e.FluxErr)), det.Select(p => (p.Mjd, p.Band, p.Flux, p.Err)));
            var fp = Points(d.LightCurve, PointKind.ForcedPhotometry);
            Assert.Equal(window.Select(e => (e.Mjd, e.Band, (float)e.Flux, (float)e.FluxErr)), fp.Select(p => (p.Mjd, p.Band, p.Flux, p.Err)));
            n++;
        }
        Assert.True(n > 100);
    }

    private static List<(double Mjd, Band Band, float Flux, float Err)> Points(LightCurve lc, PointKind kind)
    {
        var list = new List<(double, Band, float, float)>();
        for (int i = 0; i < lc.Count; i++) if (lc.Kind[i] == kind) list.Add((lc.Mjd[i], lc.Band[i], lc.Flux[i], lc.FluxErr[i]));
        return list.OrderBy(p => p.Item1).ToList();
    }
}
