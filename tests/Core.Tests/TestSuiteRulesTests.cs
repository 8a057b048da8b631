using System.Text.RegularExpressions;
using Alerts.Tests.Shared;

namespace Alerts.Core.Tests;

/// <summary>Rules the whole test suite keeps, checked over the test sources.</summary>
public sealed partial class TestSuiteRulesTests
{
    /// <summary>Calls that run an external referee (a Debian tool); a test that makes one must skip where it is absent.</summary>
    private static readonly string[] RefereeCalls =
        ["DebianPython.Run(", "DebianPython.RunFile(", "KcatReadAll(", "PrometheusServer.StartAsync(", "\"promtool\"", "Fixtures.OnnxChecker("];

    /// <summary>Attributes that skip, with the reason, where the referee is not installed.</summary>
    private static readonly string[] SkippingAttributes =
        ["RefereeFact", "RefereeTheory", "PrometheusFact", "PromtoolFact", "SklearnFact", "PythonOnnxFact"];

    [GeneratedRegex(@"(?<attrs>(?:^[ \t]*\[[^\r\n]*\][ \t]*\r?\n)+)[ \t]*public\s+(?:async\s+)?[\w<>\[\],? ]+?\s+(?<name>\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex TestMethod();

    [Fact]
    public void Every_test_that_runs_a_referee_is_skipped_where_the_referee_is_absent()
    {
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Of("tests"), "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(RepoPaths.Root, file);
            if (rel.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") || rel.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
            var text = File.ReadAllText(file);
            var methods = TestMethod().Matches(text);
            for (int i = 0; i < methods.Count; i++)
            {
                var attrs = methods[i].Groups["attrs"].Value;
                bool isTest = attrs.Contains("Fact") || attrs.Contains("Theory");
                if (!isTest) continue;
                int end = i + 1 < methods.Count ? methods[i + 1].Index : text.Length;
                var body = text[methods[i].Index..end];
                if (!RefereeCalls.Any(body.Contains)) continue;
                bool skips = SkippingAttributes.Any(a => attrs.Contains("[" + a)) ||
                             (attrs.Contains("[SharedData") && attrs.Contains("Referee."));
                if (!skips) offenders.Add($"{rel}: {methods[i].Groups["name"].Value}");
            }
        }
        Assert.True(offenders.Count == 0,
            "these tests run a referee but fail instead of skipping where it is absent; give them [RefereeFact(Referee.X)] " +
            "(or [SharedDataFact(Referee.X)]) from tests/Shared/Referees.cs:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_rule_sees_a_plain_fact_that_runs_python()
    {
        var source = "    [Fact]\n    public void Reads_with_python()\n    {\n        " + RefereeCalls[0] + "\"print(1)\");\n    }\n";
        var m = TestMethod().Match(source);
        Assert.True(m.Success);
        Assert.Equal("Reads_with_python", m.Groups["name"].Value);
        Assert.Equal("    [Fact]\n", m.Groups["attrs"].Value);
        Assert.Contains(RefereeCalls[0], source[m.Index..]);
    }
}
