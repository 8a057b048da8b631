using System.Globalization;
using System.Text;
using System.Text.Json;
using Alerts.Core;
using Alerts.Tests.Shared;

namespace Alerts.Classifier.Tests;

/// <summary>A fact that needs Debian's python3-sklearn (the independent GP implementation); skipped with the reason when absent.</summary>
public sealed class SklearnFactAttribute : FactAttribute
{
    public SklearnFactAttribute()
    {
        if (Referees.MissingReason(Referee.PythonSklearn) is { } reason) Skip = reason;
    }
}

public class SklearnCrossCheckTests
{
    [SklearnFact]
    public void GpFeatures_MatchScikitLearnGaussianProcessRegressor_OnTheSameLightCurves()
    {
        var preset = T2Preprocessing.Ztf;
        var lcs = Enumerable.Range(0, 8).Select(s => TestLightCurves.Transient([Band.ZtfG, Band.ZtfR], 14 + 3 * s, peakNjy: 30_000 + 10_000 * s, cadence: 1.5 + 0.3 * s, seed: 100 + s)).ToList();
        double k = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, preset.ZeroPoint);
        var csv = Path.Combine(Path.GetTempPath(), $"alerts-gp-xcheck-{Environment.ProcessId}.csv");
        var sb = new StringBuilder("id,t,w,f,e\n");
        for (int o = 0; o < lcs.Count; o++)
            for (int i = 0; i < lcs[o].Count; i++)
                sb.Append(CultureInfo.InvariantCulture, $"o{o},{lcs[o].Mjd[i] - lcs[o].Mjd[0]:R},{lcs[o].Band[i].EffectiveWavelength():R},{lcs[o].Flux[i] * k:R},{lcs[o].FluxErr[i] * k:R}\n");
        File.WriteAllText(csv, sb.ToString());
        var lines = DebianPython.RunFile(RepoPaths.Of("bench", "gp_baseline.py"), csv, "4804.79,6436.92", "--emit").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        File.Delete(csv);
        Assert.Equal(lcs.Count, lines.Length);

        var ex = new T2FeatureExtractor(preset);
        var mine = new float[200];
        for (int o = 0; o < lcs.Count; o++)
        {
            using var doc = JsonDocument.Parse(lines[o]);
            var root = doc.RootElement;
            Assert.Null(ex.Extract(lcs[o], mine));
            // Same likelihood surface: our optimum is at least as good (sklearn's NLL omits nothing: both include ½ n ln 2π).
            double skNll = root.GetProperty("nll").GetDouble();
            Assert.True(ex.LastFit.NegativeLogLikelihood <= skNll + 1e-3 * Math.Abs(skNll), $"object {o}: NLL {ex.LastFit.NegativeLogLikelihood} vs sklearn {skNll}");
            Assert.Equal(root.GetProperty("length_scale").GetDouble(), ex.LastFit.TimeLengthScale, 0.02 * ex.LastFit.TimeLengthScale + 0.05);
            var x = root.GetProperty("x").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int i = 0; i < 200; i++) Assert.Equal(x[i], mine[i], 0.02);
        }
    }
}
