using System.Security.Cryptography;
using System.Text;

namespace Alerts.Classifier.Tests;

public class TrainingObjectsTests
{
    private static char FirstHex(string id) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(id)))[0];

    // Made-up ZTF-style ids (ZTF, two digits, seven lowercase letters).
    private static readonly string[] Ids = Enumerable.Range(0, 200).Select(i =>
        "ZTF2" + (i % 10) + string.Concat(Enumerable.Range(0, 7).Select(k => (char)('a' + (i * 7 + k * 13 + i / 26) % 26)))).ToArray();

    [Fact]
    public void Md5FirstHexRule_ContainsExactlyTheIdsWhoseDigestStartsWithTheListedDigits()
    {
        var rule = TrainingObjects.Parse("md5-first-hex:01234567");
        Assert.Equal("01234567", rule.FirstHexDigits);
        int inside = 0;
        foreach (var id in Ids)
        {
            Assert.True(TrainingObjects.IsZtfStyle(id), id);
            bool expected = "01234567".Contains(FirstHex(id));
            Assert.Equal(expected, rule.Contains(id));
            if (expected) inside++;
        }
        Assert.InRange(inside, 1, Ids.Length - 1);   // both halves are exercised
    }

    [Fact]
    public void KnownIds_FallOnTheirSide()
    {
        var rule = TrainingObjects.Parse("md5-first-hex:01234567");
        foreach (var id in new[] { "ZTF20abcdefg", "ZTF21xyzabcd", "ZTF19qwertyu" })
            Assert.Equal(FirstHex(id) is >= '0' and <= '7', rule.Contains(id));
        var complement = TrainingObjects.Parse("md5-first-hex:89abcdef");
        foreach (var id in Ids) Assert.NotEqual(rule.Contains(id), complement.Contains(id));
    }

    [Theory]
    [InlineData("ZTF26aaaaaaa", true)]
    [InlineData("ZTF2abcdefgh", false)]    // one digit
    [InlineData("ZTF20ABCDEFG", false)]    // capitals
    [InlineData("ZTF20abcdef", false)]     // six letters
    [InlineData("ZTF20abcdefgh", false)]   // eight letters
    [InlineData("sim-000123", false)]
    [InlineData(" ZTF20abcdefg", false)]
    [InlineData("", false)]
    public void OnlyZtfStyleIds_AreSubjectToTheRule(string id, bool ztfStyle)
    {
        Assert.Equal(ztfStyle, TrainingObjects.IsZtfStyle(id));
        if (!ztfStyle) Assert.False(TrainingObjects.Parse("md5-first-hex:0123456789abcdef").Contains(id));
        else Assert.True(TrainingObjects.Parse("md5-first-hex:0123456789abcdef").Contains(id));
    }

    [Theory]
    [InlineData("md5-first-hex:")]
    [InlineData("md5-first-hex:01g")]
    [InlineData("sha1-first-hex:0123")]
    [InlineData("01234567")]
    public void UnknownOrMalformedRules_AreRefusedNamingTheKey(string rule)
    {
        var ex = Assert.Throws<InvalidDataException>(() => TrainingObjects.Parse(rule));
        Assert.Contains(TrainingObjects.MetadataKey, ex.Message);
    }

    [Fact]
    public void UppercaseDigits_AreAccepted()
    {
        Assert.Equal("abcdef", TrainingObjects.Parse("md5-first-hex:ABCdef").FirstHexDigits);
    }

    /// <summary>The shipped ZTF model trained on the developers' half of the real sets; the rule survives compression into the deployed .ort.</summary>
    [Theory]
    [InlineData("t2-ztf.onnx")]
    [InlineData("t2-ztf.deployed.ort")]
    public void ShippedZtfModel_NamesTheRealObjectsItTrainedOn(string file)
    {
        using var clf = new OnnxT2Classifier(Alerts.Tests.Shared.RepoPaths.Of("models", file), new OnnxT2Options { MaxBatchSize = 1 });
        Assert.Equal("01234567", clf.TrainingObjects!.FirstHexDigits);
    }
}
