using Alerts.Core;
using Alerts.Tests.Shared;

namespace Alerts.Classifier.Tests;

public class BtsLabelledSetTests
{
    private static string Folder => SharedData.Path("labelled", "ztf-bts-antares");

    [SharedDataFact]
    public void RealBtsLightCurve_BecomesNanojanskyDetectionsInGAndR()
    {
        var lc = new LightCurve();
        var file = Directory.GetFiles(Path.Combine(Folder, "light-curves"), "*.csv").Order(StringComparer.Ordinal).First();
        Assert.Null(BtsLabelledSet.ReadLightCurve(file, lc));
        Assert.True(lc.Count > 0);
        Assert.All(lc.Band.ToArray(), b => Assert.True(b is Band.ZtfG or Band.ZtfR));
        // 19 mag AB ≈ 91 000 nJy: BTS objects peak brighter than 18.5 mag, alerts go down to ~21.
        Assert.All(lc.Flux.ToArray(), f => Assert.InRange(f, 1_000f, 5_000_000f));
        for (int i = 1; i < lc.Count; i++) Assert.True(lc.Mjd[i] >= lc.Mjd[i - 1]);
    }

    [SharedDataFact]
    public void Labels_CoverEveryLightCurve_AndMostMapOntoT2()
    {
        var skipped = new Dictionary<string, int>();
        var items = BtsLabelledSet.Read(Folder, skipped).Take(400).ToList();
        Assert.Equal(400, items.Count);
        Assert.DoesNotContain("(no label)", skipped.Keys);
        Assert.Contains(items, x => x.ClassIndex == T2Classes.IndexOf("SNIa"));
        Assert.All(items, x => Assert.InRange(x.ClassIndex, 0, 13));
    }

    [SharedDataFact]
    public void RealLightCurves_GiveFeaturesOrReasons()
    {
        var ex = new T2FeatureExtractor(T2Preprocessing.Ztf);
        var dest = new float[200];
        int ok = 0, n = 0;
        foreach (var item in BtsLabelledSet.Read(Folder, new()).Take(60))
        {
            n++;
            var reason = ex.Extract(item.LightCurve, dest);
            if (reason is null) { ok++; Assert.All(dest, v => Assert.True(float.IsFinite(v))); }
        }
        Assert.True(ok >= n * 0.8, $"{ok}/{n} extracted");
    }
}
