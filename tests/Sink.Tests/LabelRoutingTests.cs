using Alerts.Core;
using Alerts.Sink.Kafka;

namespace Alerts.Sink.Tests;

public sealed class LabelRoutingTests
{
    private static Classification WithProbabilities(params (string Class, float P)[] ps)
    {
        var c = TestClassifications.Make(1);
        var p = new float[T2Classes.Count];
        foreach (var (name, v) in ps) p[T2Classes.IndexOf(name)] = v;
        var best = Enumerable.Range(0, p.Length).MaxBy(i => p[i]);
        return c with { Probabilities = p, Label = T2Classes.Names[best], LabelProbability = p[best] };
    }

    [Theory]
    [InlineData("all", true)]
    [InlineData("SNIa >= 0.8", true)]
    [InlineData("SNIa > 0.85", false)]
    [InlineData("snia>=0.8", true)]
    [InlineData("SNIa + SNIbc >= 0.95", true)]
    [InlineData("SNIa_91bg < 0.1 and label == SNIa", true)]
    [InlineData("SNIa-91bg >= 0.1 or KN >= 0.5", false)]
    [InlineData("mu_Lens_Single == 0", true)]
    [InlineData("label_probability >= 0.85", false)]
    [InlineData("survey == ztf and classified", true)]
    [InlineData("survey != ztf", false)]
    [InlineData("unclassified", false)]
    public void Rules_match_on_class_probabilities_labels_and_survey(string rule, bool expected)
    {
        var c = WithProbabilities(("SNIa", 0.82f), ("SNIbc", 0.15f), ("SNII", 0.03f));
        Assert.Equal(expected, LabelFilter.Parse(rule).Matches(c));
    }

    [Theory]
    [InlineData("SNIa_family >= 0.8", 0.5f, 0.35f, true)]
    [InlineData("SNIa_family >= 0.8", 0.5f, 0.2f, false)]
    [InlineData("snia_family >= 0.8", 0.5f, 0.35f, true)]
    [InlineData("SNIa-family >= 0.8", 0.5f, 0.35f, true)]
    [InlineData("SNIA-FAMILY >= 0.8", 0.5f, 0.2f, false)]
    [InlineData("SNIa >= 0.8", 0.5f, 0.35f, false)]
    [InlineData("SNIa_family < 0.8 and label == SNIa", 0.5f, 0.2f, true)]
    [InlineData("SNIa_family + SNII >= 0.9", 0.5f, 0.35f, true)]
    [InlineData("SNIa_family + SNII >= 0.9", 0.5f, 0.2f, false)]
    public void The_SNIa_family_sums_SNIa_SNIax_and_SNIa_91bg_in_a_rule(string rule, float snia, float sniax, bool expected)
    {
        var c = WithProbabilities(("SNIa", snia), ("SNIax", sniax), ("SNII", 0.06f), ("AGN", 1 - snia - sniax - 0.06f));
        Assert.Equal(expected, LabelFilter.Parse(rule).Matches(c));
    }

    [Fact]
    public void The_SNIa_family_counts_SNIa_91bg_too()
    {
        var c = WithProbabilities(("SNIa", 0.4f), ("SNIax", 0.2f), ("SNIa-91bg", 0.25f), ("AGN", 0.15f));
        Assert.True(LabelFilter.Parse("SNIa_family >= 0.8").Matches(c));
        Assert.False(LabelFilter.Parse("SNIa + SNIax >= 0.8").Matches(c));
    }

    [Fact]
    public void A_SNIa_family_rule_never_matches_an_unclassified_alert()
    {
        var c = TestClassifications.Make(3); // too-few-points
        Assert.False(LabelFilter.Parse("SNIa_family >= 0").Matches(c));
        Assert.False(LabelFilter.Parse("SNIa_family < 1").Matches(c));
    }

    [Fact]
    public void Probability_rules_never_match_an_unclassified_alert()
    {
        var c = TestClassifications.Make(3); // too-few-points
        Assert.False(LabelFilter.Parse("SNIa >= 0").Matches(c));
        Assert.False(LabelFilter.Parse("SNIa < 1").Matches(c));
        Assert.True(LabelFilter.Parse("unclassified and reason == too-few-points").Matches(c));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("SNIz >= 0.8", "'SNIz' is not a t2 class")]
    [InlineData("SNIa >= high", "must be followed by a number")]
    [InlineData("SNIa => 0.8", "'=' at position")]
    [InlineData("SNIa", "comparison")]
    [InlineData("label SNIa", "== or !=")]
    [InlineData("SNIa >= 0.8 and", "missing")]
    [InlineData("all all", "unexpected 'all'")]
    [InlineData("SNIa_famly >= 0.8", "class family (SNIa_family)")]
    [InlineData("SNIa_family + SNIax >= 0.8", "SNIax is counted twice")]
    [InlineData("SNIa + SNIa_family >= 0.8", "SNIa is counted twice")]
    [InlineData("SNIa_family + label_probability >= 0.8", "label_probability cannot be added")]
    public void Bad_rules_are_rejected_with_a_message_naming_the_problem(string rule, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => LabelFilter.Parse(rule));
        Assert.Contains(fragment, e.Message);
        Assert.Contains("Routing rule", e.Message);
    }

    [Fact]
    public void The_router_lists_every_matching_topic_from_configuration()
    {
        var router = LabelRouter.FromConfiguration(new Dictionary<string, string?>
        {
            ["alerts.all"] = "all", ["alerts.snia"] = "SNIa >= 0.8", ["alerts.kn"] = "KN >= 0.5",
        });
        var topics = new List<string>();
        router.Match(WithProbabilities(("SNIa", 0.9f), ("KN", 0.1f)), topics);
        Assert.Equal(["alerts.all", "alerts.snia"], topics);
        router.Match(WithProbabilities(("KN", 0.6f)), topics);
        Assert.Equal(["alerts.all", "alerts.kn"], topics);
    }
}
