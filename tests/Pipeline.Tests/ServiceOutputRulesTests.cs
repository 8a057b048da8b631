using System.Text.RegularExpressions;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>The service writes one structured log stream: nothing in its code path prints to stderr by itself.</summary>
public sealed class ServiceOutputRulesTests
{
    [Theory]
    [InlineData("src/Sink")]
    [InlineData("src/Ingest")]
    [InlineData("src/Pipeline/Service")]
    public void Service_code_never_writes_to_Console_Error(string folder)
    {
        var hits = Directory.EnumerateFiles(RepoPaths.Of(folder.Split('/')), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => Regex.IsMatch(x.line, @"Console\.(Error|Write)"))
            .Select(x => $"{Path.GetRelativePath(RepoPaths.Of(), x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(hits.Count == 0, string.Join("\n", hits));
    }
}
