using System.Diagnostics;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>Runs the real <c>alerts ort-layout</c> as a process.</summary>
public sealed class OrtLayoutCommandTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("ort-layout-cli-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static (int Code, string Out) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "alerts.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "200"; // one table row per line
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void Onnx_model_is_saved_both_ways_and_every_part_and_the_total_are_listed()
    {
        var (code, output) = Run("ort-layout", RepoPaths.Of("tests", "Compression.Tests", "fixtures", "t2-trained.onnx"));
        Assert.True(code == 0, output);
        foreach (var expected in new[] { "ORT's direct save", "alerts compress save", "initializer raw data", "node_args", "kernel type string resolver", "total", "largest initializers", "MatMul" })
            Assert.Contains(expected, output);
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_refused_naming_the_file()
    {
        var bad = Path.Combine(_tmp, "bad.ort");
        File.WriteAllText(bad, "not a flatbuffer at all");
        var (code, output) = Run("ort-layout", bad);
        Assert.Equal(1, code);
        Assert.Contains("bad.ort", output);
        Assert.Contains("ORTM", output);
    }
}
