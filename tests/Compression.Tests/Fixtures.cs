using Alerts.Compression.Evaluation;
using Alerts.Tests.Shared;

namespace Alerts.Compression.Tests;

/// <summary>Fixture models and data made by fixtures/make_fixtures.py (seeded; see that script).</summary>
public static class Fixtures
{
    public static string Path(string name) => RepoPaths.Of("tests", "Compression.Tests", "fixtures", name);
    public static string RandomModel => Path("t2-random.onnx");
    public static string TrainedModel => Path("t2-trained.onnx");

    private static readonly Lazy<LabelledSet> EvalSet = new(() => LabelledSet.Load(Path("eval.npz")));
    private static readonly Lazy<LabelledSet> CalibSet = new(() => LabelledSet.Load(Path("calib.npz")));
    public static LabelledSet Eval => EvalSet.Value;
    public static LabelledSet Calib => CalibSet.Value;

    /// <summary>Runs the Debian python3-onnx checker (full check, with shape inference) on a model file.</summary>
    public static (int ExitCode, string Output) OnnxChecker(string modelPath)
    {
        var (exitCode, stdout, stderr) = DebianPython.TryRun("-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print('ok', len(m.graph.node))", modelPath);
        return (exitCode, stdout + stderr);
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    public static double Agreement(float[] a, float[] b, int classes = 14)
    {
        int n = a.Length / classes, same = 0;
        for (int i = 0; i < n; i++) if (ArgMax(a.AsSpan(i * classes, classes)) == ArgMax(b.AsSpan(i * classes, classes))) same++;
        return (double)same / n;
    }

    public static int ArgMax(ReadOnlySpan<float> p) { int k = 0; for (int i = 1; i < p.Length; i++) if (p[i] > p[k]) k = i; return k; }
}

/// <summary>A fact skipped (with the reason) where the Debian python3-onnx checker is not installed.</summary>
public sealed class PythonOnnxFactAttribute : FactAttribute
{
    public PythonOnnxFactAttribute()
    {
        if (Referees.MissingReason(Referee.PythonOnnx) is { } reason) Skip = reason;
    }
}
