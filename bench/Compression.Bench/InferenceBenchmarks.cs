using Alerts.Compression;
using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace Alerts.Compression.Bench;

/// <summary>
/// Per-batch inference latency of the t2 fixture model: the naive baseline (fp32 .onnx, default SessionOptions) against
/// single-threaded fp32 and compressed variants loaded from .ort. Inputs and outputs are pre-allocated OrtValues, so the
/// managed allocation column shows what one Run costs the caller in steady state.
/// Model: tests/Compression.Tests/fixtures/t2-trained.onnx (t2 ZTF shape, 2 bands) unless ALERTS_BENCH_MODEL is set.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    [Params(1, 32)] public int Batch;

    private readonly Dictionary<string, (InferenceSession Session, OrtValue In, OrtValue Out)> _runs = new();
    private readonly RunOptions _runOptions = new();

    [GlobalSetup]
    public void Setup()
    {
        string root = FindRoot();
        string modelPath = Environment.GetEnvironmentVariable("ALERTS_BENCH_MODEL") ?? Path.Combine(root, "tests", "Compression.Tests", "fixtures", "t2-trained.onnx");
        var calib = LabelledSet.Load(Path.Combine(root, "tests", "Compression.Tests", "fixtures", "calib.npz"));
        var fp32 = OnnxModel.Load(modelPath);
        byte[] fp32Bytes = fp32.ToBytes();
        Add("naive", fp32Bytes, new SessionOptions(), calib);
        Add("fp32-1t", fp32Bytes, OrtModelRunner.CreateOptions(ModelFormat.Onnx, GraphOptimizationLevel.ORT_ENABLE_ALL, 1), calib);
        var int8 = Recipe.Of(new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()).Apply(fp32, calib).ToBytes();
        Add("int8-ort", OrtFormat.SaveOptimized(int8, ModelFormat.Ort), OrtModelRunner.CreateOptions(ModelFormat.Ort, GraphOptimizationLevel.ORT_ENABLE_ALL, 1), calib);
        // the 4-bit recipe `alerts compress --target size` deploys since MatMulNBitsPass (int4 weights, int8 constants, short names)
        var int4 = Recipe.Of(new MatMulNBitsPass(32, WeightRounding.Gptq), new Int8ConstantStoragePass(), new CompactNamesPass()).Apply(fp32, calib).ToBytes();
        Add("int4-ort", OrtFormat.SaveOptimized(int4, ModelFormat.Ort), OrtModelRunner.CreateOptions(ModelFormat.Ort, GraphOptimizationLevel.ORT_ENABLE_ALL, 1), calib);
        var h8 = Recipe.Of(new StructuredPruningPass(8, 64), new Int8DynamicPass(), new Int8ConstantStoragePass(), new CompactNamesPass()).Apply(fp32, calib).ToBytes();
        Add("h8-ff64-int8-ort", OrtFormat.SaveOptimized(h8, ModelFormat.Ort), OrtModelRunner.CreateOptions(ModelFormat.Ort, GraphOptimizationLevel.ORT_ENABLE_ALL, 1), calib);
    }

    private void Add(string name, byte[] model, SessionOptions options, LabelledSet data)
    {
        var session = new InferenceSession(model, options);
        var input = new float[Batch * data.RowLength];
        for (int i = 0; i < Batch; i++) data.Row(i % data.Count).CopyTo(input.AsSpan(i * data.RowLength));
        var inValue = OrtValue.CreateTensorValueFromMemory(input, new long[] { Batch, data.Steps, data.Bands });
        var outValue = OrtValue.CreateTensorValueFromMemory(new float[Batch * 14], new long[] { Batch, 14 });
        _runs[name] = (session, inValue, outValue);
    }

    private void Run(string name)
    {
        var (s, i, o) = _runs[name];
        s.Run(_runOptions, ["input"], [i], ["probabilities"], [o]);
    }

    [Benchmark(Baseline = true, Description = "fp32 .onnx, default SessionOptions (naive)")] public void Naive() => Run("naive");
    [Benchmark(Description = "fp32 .onnx, 1 thread")] public void Fp32SingleThread() => Run("fp32-1t");
    [Benchmark(Description = "int8 dynamic .ort, 1 thread")] public void Int8Ort() => Run("int8-ort");
    [Benchmark(Description = "int4 MatMulNBits (GPTQ, b32) + int8 constants .ort, 1 thread")] public void Int4Ort() => Run("int4-ort");
    [Benchmark(Description = "8 heads + FF 64 + int8 .ort, 1 thread")] public void PrunedInt8Ort() => Run("h8-ff64-int8-ort");

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (s, i, o) in _runs.Values) { s.Dispose(); i.Dispose(); o.Dispose(); }
        _runOptions.Dispose();
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Alerts.sln"))) return d.FullName;
        throw new InvalidOperationException("run from inside the repository (Alerts.sln not found above " + AppContext.BaseDirectory + ")");
    }
}
