using Alerts.Core;
using CsCheck;

namespace Alerts.Core.Tests;

public sealed class ClassFamiliesTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 3, 0, 0, TimeSpan.Zero);

    /// <summary>Random softmax-like vectors: 14 non-negative values normalised to sum 1.</summary>
    private static readonly Gen<float[]> ProbabilityVectors =
        Gen.Float[0f, 1f].Array[T2Classes.Count].Where(a => a.Sum() > 1e-3f).Select(a => { var s = a.Sum(); return a.Select(x => x / s).ToArray(); });

    private static Classification Classified(float[] p) =>
        new(new AlertIdentity(Survey.Ztf, 1, "ZTF24aaaaaaa", 150, -30, 60324.25, "4.02"), SourcePosition.Kafka("t", 0, 1),
            T2Classes.Names[Array.IndexOf(p, p.Max())], p.Max(), p, "t2-test", 12, "ztfg,ztfr", null, default, T0, T0);

    [Fact]
    public void The_SNIa_family_is_SNIa_SNIax_and_SNIa_91bg()
    {
        Assert.Equal("SNIa_family", ClassFamilies.SNIaFamily.Name);
        Assert.Equal(["SNIa", "SNIax", "SNIa-91bg"], ClassFamilies.SNIaFamily.Members.Select(k => T2Classes.Names[k]));
    }

    [Fact]
    public void The_scored_families_are_SNIa_family_SNII_SNIbc_SLSN_I_and_TDE_in_that_order()
    {
        Assert.Equal(["SNIa_family", "SNII", "SNIbc", "SLSN-I", "TDE"], ClassFamilies.Scored.Select(f => f.Name));
        Assert.Same(ClassFamilies.SNIaFamily, ClassFamilies.Scored[0]);
        Assert.Equal([T2Classes.IndexOf("SNII")], ClassFamilies.Scored[1].Members);
        Assert.Equal([T2Classes.IndexOf("SNIbc")], ClassFamilies.Scored[2].Members);
        Assert.Equal([T2Classes.IndexOf("SLSN-I")], ClassFamilies.Scored[3].Members);
        Assert.Equal([T2Classes.IndexOf("TDE")], ClassFamilies.Scored[4].Members);
    }

    [Theory]
    [InlineData("SNIa", 0)]
    [InlineData("SNIax", 0)]
    [InlineData("SNIa-91bg", 0)]
    [InlineData("SNII", 1)]
    [InlineData("SNIbc", 2)]
    [InlineData("SLSN-I", 3)]
    [InlineData("TDE", 4)]
    [InlineData("mu-Lens-Single", -1)]
    [InlineData("EB", -1)]
    [InlineData("Mira", -1)]
    [InlineData("KN", -1)]
    [InlineData("M-dwarf", -1)]
    [InlineData("AGN", -1)]
    [InlineData("RRL", -1)]
    public void Each_class_maps_to_its_scored_family_or_to_none(string className, int family)
    {
        Assert.Equal(family, ClassFamilies.FamilyOf(T2Classes.IndexOf(className)));
    }

    [Fact]
    public void Family_of_agrees_with_the_members_of_every_class()
    {
        for (int k = 0; k < T2Classes.Count; k++)
        {
            int f = ClassFamilies.FamilyOf(k);
            for (int g = 0; g < ClassFamilies.Scored.Count; g++)
                Assert.Equal(g == f, ClassFamilies.Scored[g].Members.Contains(k));
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(14)]
    public void Family_of_rejects_an_index_that_is_not_a_class(int classIndex)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassFamilies.FamilyOf(classIndex));
    }

    [Fact]
    public void A_family_probability_is_the_sum_of_its_members()
    {
        ProbabilityVectors.Sample(p =>
        {
            foreach (var f in ClassFamilies.Scored)
                Assert.Equal(f.Members.Sum(k => (double)p[k]), ClassFamilies.Probability(p, f), tolerance: 1e-6);
            var ia = p[T2Classes.IndexOf("SNIa")] + (double)p[T2Classes.IndexOf("SNIax")] + p[T2Classes.IndexOf("SNIa-91bg")];
            Assert.Equal(ia, ClassFamilies.Probability(p, ClassFamilies.SNIaFamily), tolerance: 1e-6);
            Assert.Equal(ia, Classified(p).SNIaFamilyProbability!.Value, tolerance: 1e-6);
        });
    }

    [Fact]
    public void The_scored_families_never_add_up_to_more_than_one()
    {
        ProbabilityVectors.Sample(p => Assert.InRange(ClassFamilies.Scored.Sum(f => (double)ClassFamilies.Probability(p, f)), 0, 1 + 1e-5));
    }

    [Fact]
    public void A_known_vector_gives_the_family_sums()
    {
        var p = new float[T2Classes.Count];
        p[T2Classes.IndexOf("SNIa")] = 0.5f;
        p[T2Classes.IndexOf("SNIax")] = 0.25f;
        p[T2Classes.IndexOf("SNIa-91bg")] = 0.125f;
        p[T2Classes.IndexOf("AGN")] = 0.125f;
        Assert.Equal(0.875f, ClassFamilies.Probability(p, ClassFamilies.SNIaFamily));
        Assert.Equal(0.875f, Classified(p).SNIaFamilyProbability);
        Assert.Equal(0f, Classified(p).FamilyProbability(ClassFamilies.Scored[4]));
    }

    [Fact]
    public void An_unclassified_alert_has_no_family_probability()
    {
        var c = Classified(new float[T2Classes.Count]) with { Label = null, Probabilities = [], Reason = "too-few-points" };
        Assert.False(c.IsClassified);
        Assert.Null(c.SNIaFamilyProbability);
        Assert.Null(c.FamilyProbability(ClassFamilies.Scored[1]));
    }

    [Fact]
    public void A_vector_too_short_for_a_member_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassFamilies.Probability(new float[5], ClassFamilies.SNIaFamily));
        Assert.Contains("SNIa", e.Message);
    }

    [Theory]
    [InlineData("SNIa_family")]
    [InlineData("snia_family")]
    [InlineData("SNIa-family")]
    [InlineData("SNIA-FAMILY")]
    public void The_SNIa_family_is_found_by_name_ignoring_case_and_dash_or_underscore(string name)
    {
        Assert.Same(ClassFamilies.SNIaFamily, ClassFamilies.Find(name));
    }

    [Fact]
    public void Find_returns_null_for_a_name_that_is_no_family()
    {
        Assert.Null(ClassFamilies.Find("SNIa_famly"));
        Assert.Null(ClassFamilies.Find("AGN"));
    }
}
