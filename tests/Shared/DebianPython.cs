using System.Diagnostics;
using System.Text;
using Xunit;

namespace Alerts.Tests.Shared;

/// <summary>
/// Runs a cross-check script under Debian's interpreter, the one that has python3-avro, -onnx, -numpy and -sklearn
/// (a pyenv <c>python3</c> may come first on PATH and has none of them).
/// </summary>
public static class DebianPython
{
    public const string Interpreter = "/usr/bin/python3";

    /// <summary>Runs <c>python3 -c script args…</c> with UTF-8 both ways and returns its standard output; the test
    /// fails with the script's standard error when it exits non-zero.</summary>
    public static string Run(string script, params string[] args)
    {
        if (!File.Exists(Interpreter)) Assert.Fail($"{Interpreter} (Debian's, with the python3-* packages .ci/run installs) is needed for this cross-check");
        var psi = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8,
        };
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(); // drained alongside stdout, so neither pipe can fill and block
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr.Result);
        return output;
    }
}
