using Alerts.Core;
using Alerts.Ingest.Decoding;
using Alerts.Tests.Shared;

namespace Alerts.Ingest.Tests;

/// <summary>Bytes, not time: the hot path allocates only the identity, the result record and the objectId string.</summary>
public class AllocationTests
{
    [SharedDataFact]
    public void DecodeIntoAllocatesLessThanOneKilobytePerAlertInSteadyState()
    {
        var raws = TestAlerts.Files("ztf", "alerts").Select(f => TestAlerts.Raw(File.ReadAllBytes(f), f)).ToArray();
        var decoder = new AlertDecoder();
        var lc = new LightCurve(256);
        for (int warm = 0; warm < 3; warm++)
            foreach (var r in raws) Assert.True(decoder.DecodeInto(r, lc).IsSuccess);
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var r in raws) decoder.DecodeInto(r, lc);
        long perAlert = (GC.GetAllocatedBytesForCurrentThread() - before) / raws.Length;
        Assert.True(perAlert < 1024, $"{perAlert} B allocated per alert");
    }
}
