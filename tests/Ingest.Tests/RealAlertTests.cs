using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Tests.Shared;

namespace Alerts.Ingest.Tests;

public class RealAlertTests
{
    [SharedDataTheory]
    [InlineData("ztf", 331)]
    [InlineData("lsst", 114)]
    [InlineData("elasticc", 1)]
    public void EveryRealAlertDecodes(string survey, int expectedFiles)
    {
        var decoder = new AlertDecoder();
        var files = TestAlerts.Files(survey, "alerts").ToList();
        Assert.Equal(expectedFiles, files.Count);
        var failures = new List<string>();
        foreach (var f in files)
        {
            var r = decoder.Decode(TestAlerts.Raw(File.ReadAllBytes(f), f));
            if (!r.IsSuccess) failures.Add(r.DeadLetter!.ToString());
            else
            {
                Assert.True(r.Alert!.LightCurve.Count > 0);
                Assert.Equal(survey == "ztf" ? Survey.Ztf : survey == "lsst" ? Survey.Lsst : Survey.Elasticc, r.Alert.Identity.Survey);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)) + $"\n({failures.Count} failures)");
    }
}
