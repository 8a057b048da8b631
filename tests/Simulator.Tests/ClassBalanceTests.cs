using Alerts.Core;
using Alerts.Simulator.Physics;

namespace Alerts.Simulator.Tests;

public class ClassBalanceTests
{
    [Fact]
    public void Balanced_runs_have_the_same_number_of_objects_in_every_class_and_each_is_detected()
    {
        var objs = new AlertSimulator(new SimulationOptions { Objects = 14 * 6, Seed = 1, Balanced = true }).Objects().ToList();
        foreach (var g in objs.GroupBy(o => o.ClassName)) Assert.Equal(6, g.Count());
        Assert.Equal(14, objs.Select(o => o.ClassName).Distinct().Count());
        Assert.All(objs, o => Assert.True(o.DetectionCount >= 1, $"{o.ObjectId} ({o.ClassName}) has no detection"));
    }

    [Fact]
    public void Unbalanced_runs_follow_the_natural_class_weights()
    {
        var sim = new AlertSimulator(new SimulationOptions { Objects = 20000, Seed = 2 });
        var counts = Enumerable.Range(0, 20000).Select(i => sim.ClassOf(i)).GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        double total = T2Classes.Names.Sum(ClassCatalog.NaturalWeight);
        foreach (var c in T2Classes.Names)
        {
            double expected = 20000 * ClassCatalog.NaturalWeight(c) / total;
            Assert.InRange(counts.GetValueOrDefault(c), expected - 5 * Math.Sqrt(expected) - 1, expected + 5 * Math.Sqrt(expected) + 1);
        }
    }

    [Theory]
    [InlineData("RRL", "period_days", 0.22, 0.85)]
    [InlineData("Mira", "period_days", 150, 500)]
    [InlineData("EB", "period_days", 0.25, 10)]
    [InlineData("SNIa", "peak_abs_mag", -20.1, -18.4)]
    [InlineData("SLSN-I", "peak_abs_mag", -22.95, -19.65)]
    [InlineData("KN", "peak_abs_mag", -17.5, -14.5)]
    [InlineData("SNIa", "redshift", 0.003, 0.6)]
    [InlineData("KN", "redshift", 0.003, 0.1)]
    [InlineData("mu-Lens-Single", "u0", 0.01, 1.0)]
    [InlineData("AGN", "tau_days", 20, 2000)]
    public void True_parameters_stay_in_their_documented_ranges(string cls, string parameter, double lo, double hi)
    {
        var sim = new AlertSimulator(new SimulationOptions { Objects = 60, Seed = 3, Balanced = true, Classes = [cls] });
        foreach (var o in sim.Objects())
        {
            double v = parameter == "redshift" ? o.Redshift : o.Source.Parameters[parameter];
            Assert.InRange(v, lo, hi);
        }
    }

    [Fact]
    public void Galactic_classes_have_no_redshift_and_extragalactic_ones_do()
    {
        foreach (var o in new AlertSimulator(new SimulationOptions { Objects = 28, Seed = 4, Balanced = true }).Objects())
            Assert.Equal(ClassCatalog.IsExtragalactic(o.ClassName), !double.IsNaN(o.Redshift));
    }
}
