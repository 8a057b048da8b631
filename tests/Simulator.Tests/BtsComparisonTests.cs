using Alerts.Simulator.Validation;
using Alerts.Tests.Shared;

namespace Alerts.Simulator.Tests;

public class BtsComparisonTests
{
    [Fact]
    public void Ks_statistic_is_zero_for_equal_samples_and_one_for_disjoint_ones()
    {
        Assert.Equal(0, BtsComparison.KolmogorovSmirnov([1, 2, 3], [1, 2, 3]));
        Assert.Equal(1, BtsComparison.KolmogorovSmirnov([1, 2, 3], [4, 5, 6]));
        Assert.Equal(0.5, BtsComparison.KolmogorovSmirnov([1, 2, 3, 4], [3, 4, 5, 6]), 1e-12);
    }

    [SharedDataFact]
    public void Simulated_SNIa_and_SNII_match_the_BTS_distributions_within_KS_0_25()
    {
        var report = BtsComparison.Run(SharedData.Path("labelled", "ztf-bts-antares"), new SimulationOptions { Seed = 42 }, targetPerClass: 400);
        foreach (var row in report.Rows.Where(r => r.Class is "SNIa" or "SNII"))
            foreach (var (q, ks) in row.Ks)
                Assert.True(ks <= 0.25, $"{row.Class} {q}: KS {ks:F3} (sim median {row.SimMedian[q]:G3}, real {row.RealMedian[q]:G3})");
    }
}
