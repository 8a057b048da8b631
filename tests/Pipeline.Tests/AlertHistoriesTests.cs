using Alerts.Core;
using Alerts.Ingest.Decoding;
using Alerts.Avro;
using Alerts.Pipeline.Commands;
using Alerts.Simulator;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// The training inputs `alerts features --alert-samples` makes must be what the service sees: for every alert of
/// simulated objects, the truncated history AlertHistories cuts from the object's full light curve holds exactly the
/// detections the decoded alert carries (same times, bands and fluxes).
/// </summary>
public class AlertHistoriesTests
{
    [Theory]
    [InlineData(Survey.Ztf, AlertFormat.Container)]
    [InlineData(Survey.Lsst, AlertFormat.Wire)]
    public void AlertHistory_HoldsTheDetectionsTheDecodedAlertCarries(Survey survey, AlertFormat format)
    {
        var sim = new AlertSimulator(new SimulationOptions { Survey = survey, Objects = 12, Seed = 5, Format = format, SpanDays = 120, Balanced = true });
        var decoder = new AlertDecoder(new AvroSchemaRegistry(RepoPaths.Of("schemas", "lsst")));
        int checkedAlerts = 0;
        foreach (var group in sim.Generate().GroupBy(a => a.ObjectId))
        {
            var obj = group.First().Object;
            var full = new LightCurve();
            foreach (var o in obj.Observations)
                full.Add(o.Mjd, o.Band, (float)o.Flux, (float)o.FluxErr, o.Detected ? PointKind.Detection : PointKind.NonDetection);
            var histories = ClassifierInputs.AlertHistories([new ObjectLightCurve(obj.ObjectId, full, 0)], int.MaxValue,
                ClassifierInputs.AlertHistoryDays(survey), seed: 1, includeFull: false);
            var alerts = group.ToList();
            Assert.Equal(alerts.Count, histories.Count);   // one history per detection = one per alert
            for (int k = 0; k < alerts.Count; k++)
            {
                var result = decoder.Decode(new RawAlert(alerts[k].Bytes, SourcePosition.File("sim", k), DateTimeOffset.UtcNow));
                Assert.True(result.IsSuccess, result.DeadLetter?.Reason);
                var served = Detections(result.Alert!.LightCurve);
                var trained = Detections(histories[k].LightCurve);
                Assert.Equal(served.Count, trained.Count);
                for (int i = 0; i < served.Count; i++)
                {
                    Assert.Equal(served[i].Mjd, trained[i].Mjd, 1e-6);
                    Assert.Equal(served[i].Band, trained[i].Band);
                    Assert.Equal(served[i].Flux, trained[i].Flux, Math.Max(1e-2, 2e-3 * Math.Abs(trained[i].Flux)));
                }
                checkedAlerts++;
            }
        }
        Assert.True(checkedAlerts > 50, $"only {checkedAlerts} alerts checked");
    }

    private static List<(double Mjd, Band Band, double Flux)> Detections(LightCurve lc)
    {
        var list = new List<(double, Band, double)>();
        for (int i = 0; i < lc.Count; i++)
            if (lc.Kind[i] == PointKind.Detection) list.Add((lc.Mjd[i], lc.Band[i], lc.Flux[i]));
        list.Sort();
        return list;
    }
}
