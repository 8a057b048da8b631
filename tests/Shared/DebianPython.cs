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
    public static string Run(string script, params string[] args) => Succeeded(["-c", script, .. args]);

    /// <summary>Runs a script file (e.g. bench/gp_baseline.py) like <see cref="Run"/>.</summary>
    public static string RunFile(string scriptPath, params string[] args) => Succeeded([scriptPath, .. args]);

    /// <summary>Runs the interpreter with these arguments and returns its exit code and both streams, without
    /// asserting: for availability probes and for checks that expect a failure.</summary>
    public static (int ExitCode, string Stdout, string Stderr) TryRun(params string[] arguments)
    {
        var psi = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8,
        };
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(); // drained alongside stdout, so neither pipe can fill and block
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, stderr.Result);
    }

    /// <summary>True when Debian's interpreter exists and can import these modules (an availability probe for skips).</summary>
    public static bool CanImport(params string[] modules)
    {
        try { return File.Exists(Interpreter) && TryRun("-c", "import " + string.Join(",", modules)).ExitCode == 0; }
        catch (Exception) { return false; }
    }

    private static string Succeeded(string[] arguments)
    {
        if (!File.Exists(Interpreter)) Assert.Fail($"{Interpreter} (Debian's, with the python3-* packages .ci/run installs) is needed for this cross-check");
        var r = TryRun(arguments);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.Stdout;
    }
}
