using System.Text.Json;
using Alerts.Core;
using Alerts.Pipeline.Commands;

namespace Alerts.Pipeline.Tests;

/// <summary>The JSON line <c>alerts classify</c> prints for one result.</summary>
public sealed class ClassifyJsonTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 3, 0, 0, TimeSpan.Zero);
    private static readonly AlertIdentity Id = new(Survey.Ztf, 7, "ZTF24aaaaaab", 150, -30, 60324.25, "4.02");

    [Fact]
    public void A_classified_line_carries_p_SNIa_family_as_the_sum_of_SNIa_SNIax_and_SNIa_91bg()
    {
        var p = new float[T2Classes.Count];
        p[T2Classes.IndexOf("SNIa")] = 0.5f; p[T2Classes.IndexOf("SNIax")] = 0.25f; p[T2Classes.IndexOf("SNIa-91bg")] = 0.125f;
        p[T2Classes.IndexOf("AGN")] = 0.125f;
        var c = new Classification(Id, SourcePosition.Kafka("t", 0, 1), "SNIa", 0.5f, p, "t2-test", 12, "ztfg,ztfr", null, default, T0, T0);
        var json = JsonDocument.Parse(ClassifyCommand.ToJson(c)).RootElement;
        Assert.Equal(0.875, json.GetProperty("p_SNIa_family").GetDouble(), 6);
        Assert.Equal(0.25, json.GetProperty("probabilities").GetProperty("SNIax").GetDouble(), 6);
    }

    [Fact]
    public void An_unclassified_line_has_a_null_p_SNIa_family()
    {
        var c = new Classification(Id, SourcePosition.Kafka("t", 0, 1), null, 0f, [], "t2-test", 2, "ztfg", "too-few-points", default, T0, T0);
        var json = JsonDocument.Parse(ClassifyCommand.ToJson(c)).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("p_SNIa_family").ValueKind);
        Assert.Equal("too-few-points", json.GetProperty("reason").GetString());
    }
}
