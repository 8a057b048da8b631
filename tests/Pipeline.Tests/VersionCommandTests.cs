using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>`alerts version`: the versions of alerts and its native dependencies, and the shipped models and schemas.</summary>
public sealed class VersionCommandTests
{
    [Fact]
    public void Version_prints_alerts_runtime_native_libraries_models_and_schemas_with_values()
    {
        var (code, stdout, err) = CommandLineTests.Run("version");
        Assert.True(code == 0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(": ", 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

        Assert.Matches(@"^\d+\.\d+\.\d+", lines["alerts"]);
        Assert.Matches(@"^\.NET \d+\.\d+", lines[".NET runtime"]);
        Assert.Matches(@"^\d+\.\d+\.\d+ \(native; managed \d+\.\d+", lines["ONNX Runtime"]);
        Assert.Matches(@"^\d+\.\d+\.\d+ \(native; Confluent\.Kafka \d+\.\d+", lines["librdkafka"]);
        Assert.Matches(@"^\d+\.\d+\.\d+", lines["Parquet.Net"]);

        foreach (var survey in new[] { "ztf", "lsst" })
        {
            var m = Regex.Match(lines[$"model {survey}"], @$"^t2-{survey}\.deployed\.ort id (?<id>[0-9a-f]{{12}}) preprocessing (?<pre>\S+) \((?<path>.+)\)$");
            Assert.True(m.Success, lines[$"model {survey}"]);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(m.Groups["path"].Value)))[..12], m.Groups["id"].Value);
            Assert.StartsWith("t2-", m.Groups["pre"].Value);
        }

        Assert.Matches(@"^alert\.avsc, candidate\.avsc, .*; version 4\.02$", lines["schema ztf/4.02"]);
        Assert.Contains("lsst.v11_0.alert.avsc", lines["schema lsst/11.0"]);
        Assert.EndsWith("; version 11.0", lines["schema lsst/11.0"]);
        Assert.StartsWith("alerts.label.avsc; doc alerts.label.avsc: One classification", lines["schema labels"]);
        // Every schema folder in the repository has its line.
        foreach (var dir in Directory.EnumerateFiles(RepoPaths.Of("schemas"), "*.avsc", SearchOption.AllDirectories).Select(Path.GetDirectoryName).Distinct())
            Assert.Contains("schema " + Path.GetRelativePath(RepoPaths.Of("schemas"), dir!).Replace('\\', '/'), lines.Keys);
    }
}
