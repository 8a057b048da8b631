using System.Runtime.InteropServices;
using Alerts.OrtKernels;
using BenchmarkDotNet.Attributes;

namespace Alerts.Classifier.Bench;

/// <summary>
/// Alerts' fused attention kernel (src/OrtKernels) against ORT's own attention kernels, on the shipped fp32 t2-ztf
/// at batch 32 (per alert): baseline = the model after AttentionLayoutPass (ORT's Transposes, FusedMatMuls and
/// Softmax), against the same model with fusedAttention (one ai.alerts.ScaledDotProductAttention node); and the
/// kernel alone on t2's [32, 100, 4·8] q/k/v, to show it allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class FusedAttentionBenchmarks
{
    private const int Alerts = 256, Size = 200, Width = 32;
    private float[] _features = null!, _probabilities = null!;
    private string _ortPath = null!, _fusedPath = null!;
    private OnnxT2Classifier _ort = null!, _fused = null!;
    private nint _q, _k, _v, _o;

    [GlobalSetup]
    public unsafe void Setup()
    {
        var (onnx, _) = BenchData.ZtfModel();
        var rng = new Random(1);
        _features = Enumerable.Range(0, Alerts * Size).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        _probabilities = new float[Alerts * 14];
        var model = global::Alerts.Onnx.OnnxModel.Load(onnx);
        _ortPath = Path.Combine(Path.GetTempPath(), $"t2-attn-ort-{Environment.ProcessId}.onnx");
        _fusedPath = Path.Combine(Path.GetTempPath(), $"t2-attn-fused-{Environment.ProcessId}.onnx");
        new Compression.Passes.AttentionLayoutPass().Apply(model, null).Save(_ortPath);
        new Compression.Passes.AttentionLayoutPass(fusedAttention: true).Apply(model, null).Save(_fusedPath);
        _ort = new OnnxT2Classifier(_ortPath, new OnnxT2Options { MaxBatchSize = 32 });
        _fused = new OnnxT2Classifier(_fusedPath, new OnnxT2Options { MaxBatchSize = 32 });
        // q/k/v as ORT hands them to the kernel: 64-byte aligned arena memory
        const int n = 32 * 100 * Width;
        _q = (nint)BenchData.AlignedRandomFloats(n, rng); _k = (nint)BenchData.AlignedRandomFloats(n, rng);
        _v = (nint)BenchData.AlignedRandomFloats(n, rng); _o = (nint)BenchData.AlignedRandomFloats(n, rng);
    }

    [GlobalCleanup]
    public unsafe void Cleanup()
    {
        _ort.Dispose();
        _fused.Dispose();
        File.Delete(_ortPath);
        File.Delete(_fusedPath);
        foreach (var p in new[] { _q, _k, _v, _o }) NativeMemory.AlignedFree((void*)p);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Alerts, Description = "t2 fp32 + AttentionLayoutPass: ORT's attention kernels, batch 32")]
    public float OrtAttention()
    {
        _ort.Predict(_features, Alerts, _probabilities);
        return _probabilities[0];
    }

    [Benchmark(OperationsPerInvoke = Alerts, Description = "t2 fp32 + fused attention: ai.alerts.ScaledDotProductAttention, batch 32")]
    public float FusedAttention()
    {
        _fused.Predict(_features, Alerts, _probabilities);
        return _probabilities[0];
    }

    [Benchmark(OperationsPerInvoke = 32, Description = "the kernel alone on [32, 100, 4x8] (attention only)")]
    public unsafe float KernelAlone()
    {
        const int n = 32 * 100 * Width;
        ScaledDotProductAttention.Compute(new ReadOnlySpan<float>((void*)_q, n), new ReadOnlySpan<float>((void*)_k, n),
            new ReadOnlySpan<float>((void*)_v, n), new Span<float>((void*)_o, n), 32, 100, 4, 8, 1f / MathF.Sqrt(8));
        return ((float*)_o)[0];
    }
}
