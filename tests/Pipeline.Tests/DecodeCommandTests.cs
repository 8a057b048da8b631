using System.Diagnostics;
using System.Text.Json;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>Runs the real <c>alerts</c> executable (decode) as a process and checks stdout/stderr.</summary>
public sealed class DecodeCommandTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("decode-cli-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static (int Code, string[] Out, string[] Err) Run(params string[] args)
    {
        var (code, stdout, stderr) = AlertsProcess.Run(args);
        return (code, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [SharedDataFact]
    public void DecodePrintsOneJsonLinePerAlertAndTheCountsLast()
    {
        var bad = Path.Combine(_tmp, "bad.avro");
        File.WriteAllText(bad, "not an alert");
        var dl = Path.Combine(_tmp, "dead");
        var (code, lines, err) = Run("decode", SharedData.Path("ztf", "alerts", "ztf-avro-alert"), bad, "--dead-letter", dl);
        Assert.Equal(0, code);
        Assert.Equal("decoded=15 dead_lettered=1", err[^1]);
        Assert.Equal(15, lines.Length);
        using var doc = JsonDocument.Parse(lines.Single(l => l.Contains("472263571115115000") && l.Contains("\"3.3\"")));
        var root = doc.RootElement;
        Assert.Equal("ztf", root.GetProperty("survey").GetString());
        Assert.Equal("ZTF17aaajnnn", root.GetProperty("objectId").GetString());
        var points = root.GetProperty("points");
        Assert.Equal(12, points.GetArrayLength());
        Assert.Equal("nondetection", points[0].GetProperty("kind").GetString());
        Assert.Equal("detection", points[11].GetProperty("kind").GetString());
        Assert.Equal("ztfr", points[11].GetProperty("band").GetString());
        Assert.Single(Directory.GetFiles(Path.Combine(dl, "bad-magic"), "*.bin"));
    }
}
