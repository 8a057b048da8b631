using System.Diagnostics;
using System.Globalization;
using System.Text;
using Alerts.Core;

namespace Alerts.Classifier.Bench;

/// <summary>Fixed synthetic ZTF-like light curves and the helpers that run the Python baselines.</summary>
public static class BenchData
{
    /// <summary>
    /// <paramref name="count"/> floats uniform in [-1, 1) in 64-byte aligned native memory, as ORT's arena hands tensors
    /// to a kernel (GC arrays are only 8-byte aligned, which splits vector loads across cache lines). Never freed by
    /// the caller's GC: free with NativeMemory.AlignedFree.
    /// </summary>
    public static unsafe float* AlignedRandomFloats(int count, Random rng)
    {
        var p = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)count * sizeof(float), 64);
        for (int i = 0; i < count; i++) p[i] = (float)(rng.NextDouble() * 2 - 1);
        return p;
    }

    /// <summary>
    /// <paramref name="count"/> ZTF g/r transients (Bazin rise/fall, 3-5% noise), 16-48 detections over 20-90 days:
    /// the size of a ZTF alert's 30-day history up to a well-sampled BTS object.
    /// </summary>
    public static List<LightCurve> ZtfTransients(int count, int seed = 42)
    {
        var rng = new Random(seed);
        var list = new List<LightCurve>(count);
        for (int o = 0; o < count; o++)
        {
            int n = rng.Next(16, 49);
            double span = 20 + rng.NextDouble() * 70, peak = 20_000 + rng.NextDouble() * 200_000, t0 = 59000, rise = 2 + rng.NextDouble() * 6, fall = 15 + rng.NextDouble() * 40;
            double tpk = t0 + rng.NextDouble() * span * 0.5;
            var lc = new LightCurve(n);
            for (int i = 0; i < n; i++)
            {
                double t = t0 + span * i / (n - 1) + rng.NextDouble() * 0.2;
                var band = rng.Next(2) == 0 ? Band.ZtfG : Band.ZtfR;
                double colour = band == Band.ZtfG ? 1.0 : 0.85;
                double x = t - tpk;
                double f = peak * colour * Math.Exp(-x / fall) / (1 + Math.Exp(-x / rise));
                double err = (0.03 + 0.02 * rng.NextDouble()) * peak + 300;
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                f += err * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                lc.Add(t, band, (float)f, (float)err, PointKind.Detection);
            }
            list.Add(lc);
        }
        return list;
    }

    /// <summary>Writes the GP inputs exactly as the C# extractor sees them (FLUXCAL, days from first point, Å).</summary>
    public static string WriteGpInputs(IReadOnlyList<LightCurve> lcs, T2Preprocessing preset)
    {
        var path = Path.Combine(Path.GetTempPath(), $"alerts-gp-bench-{Environment.ProcessId}.csv");
        double k = Photometry.Rescale(1.0, Photometry.NanojanskyZeroPoint, preset.ZeroPoint);
        var sb = new StringBuilder("id,t,w,f,e\n");
        for (int o = 0; o < lcs.Count; o++)
        {
            var lc = lcs[o];
            double t0 = double.PositiveInfinity;
            foreach (var t in lc.Mjd) t0 = Math.Min(t0, t);
            for (int i = 0; i < lc.Count; i++)
                sb.Append(CultureInfo.InvariantCulture, $"o{o},{lc.Mjd[i] - t0:R},{lc.Band[i].EffectiveWavelength():R},{lc.Flux[i] * k:R},{lc.FluxErr[i] * k:R}\n");
        }
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Alerts.sln"))) return dir.FullName;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Alerts.sln"))) return dir.FullName;
        throw new InvalidOperationException("run the benchmarks from inside the repository (Alerts.sln not found)");
    }

    /// <summary>The shipped ZTF model and its PyTorch weights, or the random-weight test fixture of the same shape.</summary>
    public static (string Onnx, string StateDict) ZtfModel()
    {
        var root = RepoRoot();
        var shipped = Path.Combine(root, "models", "t2-ztf.onnx");
        if (File.Exists(shipped) && File.Exists(Path.ChangeExtension(shipped, ".pt"))) return (shipped, Path.ChangeExtension(shipped, ".pt"));
        var fx = Path.Combine(root, "tests", "Classifier.Tests", "Fixtures", "t2-random-ztf.onnx");
        return (fx, Path.ChangeExtension(fx, ".pt"));
    }
}

/// <summary>A long-lived Python process answering "go ..." with "done &lt;µs&gt;" (so interpreter start-up is not timed).</summary>
public sealed class PythonWorker : IDisposable
{
    private readonly Process _p;

    public PythonWorker(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Per-core figures; OPENBLAS_CORETYPE stays as the machine sets it.
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
        _p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        var ready = _p.StandardOutput.ReadLine();
        if (ready is null || !ready.StartsWith("ready")) throw new InvalidOperationException($"{script} did not start: {ready}");
    }

    public double Go(string command)
    {
        _p.StandardInput.WriteLine(command);
        _p.StandardInput.Flush();
        var line = _p.StandardOutput.ReadLine() ?? throw new InvalidOperationException("python worker exited");
        return double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        try { _p.StandardInput.Close(); if (!_p.WaitForExit(5000)) _p.Kill(); } catch (InvalidOperationException) { }
        _p.Dispose();
    }
}
