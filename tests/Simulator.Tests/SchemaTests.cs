using Alerts.Core;
using Alerts.Simulator.Avro;
using Alerts.Tests.Shared;
using Avro;

namespace Alerts.Simulator.Tests;

public class SchemaTests
{
    [SharedDataTheory]
    [InlineData(Survey.Ztf, "4.02")]
    [InlineData(Survey.Lsst, "9.0")]
    [InlineData(Survey.Lsst, "11.0")]
    public void Our_schema_has_the_parsing_canonical_form_of_the_published_one(Survey survey, string version)
    {
        var ours = Schema.Parse((survey == Survey.Ztf ? SchemaSet.Ztf402() : SchemaSet.Lsst(version)).FullSchemaJson);
        var real = TestSupport.RealSchema(survey, version);
        Assert.Equal(SchemaNormalization.ToParsingForm(real), SchemaNormalization.ToParsingForm(ours));
        Assert.Equal(SchemaNormalization.ParsingFingerprint64(real), SchemaNormalization.ParsingFingerprint64(ours));
    }

    [SharedDataTheory]
    [InlineData(Survey.Ztf, "4.02")]
    [InlineData(Survey.Lsst, "9.0")]
    [InlineData(Survey.Lsst, "11.0")]
    public void Every_field_default_matches_the_published_schema(Survey survey, string version)
    {
        var ours = survey == Survey.Ztf ? SchemaSet.Ztf402() : SchemaSet.Lsst(version);
        var real = SchemaSet.FromFolder(TestSupport.RealSchemaFolder(survey, version), ours.TopLevelName);
        foreach (var name in real.NamedTypes.Where(n => n.EndsWith("candidate") || n.EndsWith("fp_hist") || n.EndsWith("diaSource") || n.EndsWith("diaForcedSource") || n.EndsWith("diaObject")))
        {
            var a = ours.Plan(name).Fields; var b = real.Plan(name).Fields;
            Assert.Equal(b.Length, a.Length);
            for (int i = 0; i < a.Length; i++)
            {
                Assert.Equal(b[i].Name, a[i].Name);
                Assert.Equal((b[i].Type, b[i].Nullable, b[i].HasNonNullDefault, b[i].DefaultNumber, b[i].DefaultString),
                    (a[i].Type, a[i].Nullable, a[i].HasNonNullDefault, a[i].DefaultNumber, a[i].DefaultString));
            }
        }
    }

    [Fact]
    public void Our_schema_files_carry_no_doc_text_from_the_published_ones()
    {
        // Only the survey input schemas mirror published ones; our own label schema (schemas/labels) documents itself.
        foreach (var survey in new[] { "ztf", "lsst" })
            foreach (var f in Directory.GetFiles(RepoPaths.Of("schemas", survey), "*.avsc", SearchOption.AllDirectories))
                Assert.DoesNotContain("\"doc\"", File.ReadAllText(f));
    }
}
