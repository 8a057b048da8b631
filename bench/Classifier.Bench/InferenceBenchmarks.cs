using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Alerts.Classifier.Bench;

/// <summary>
/// t2 inference on 256 alerts per invocation (so the per-operation time is per alert):
/// the naive path (default SessionOptions, a new NamedOnnxValue + DenseTensor per alert, batch 1),
/// <see cref="OnnxT2Classifier"/> (tuned session, 1 intra-op thread, pinned buffers, cached OrtValues) at batch
/// 1/32/256 on the shipped fp32 .onnx, on the same model after <see cref="Compression.Passes.AttentionLayoutPass"/>
/// (exact: same weights, outputs within 1e-6) and on the deployed .ort, and PyTorch eager (Debian python3-torch, 1 thread, no_grad) on the same weights at the same batch.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    public const int Alerts = 256;
    private const int Size = 200;

    [Params(1, 32, 256)]
    public int Batch { get; set; }

    private float[] _features = null!;
    private float[] _probabilities = null!;
    private OnnxT2Classifier _tuned = null!;
    private OnnxT2Classifier? _deployed;
    private OnnxT2Classifier _fused = null!;
    private string _fusedPath = null!;
    private InferenceSession _naive = null!;
    private PythonWorker _torch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (onnx, state) = BenchData.ZtfModel();
        var rng = new Random(1);
        _features = Enumerable.Range(0, Alerts * Size).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        _probabilities = new float[Alerts * 14];
        _tuned = new OnnxT2Classifier(onnx, new OnnxT2Options { MaxBatchSize = Batch });
        _naive = new InferenceSession(onnx);
        _fusedPath = Path.Combine(Path.GetTempPath(), $"t2-attn-layout-{Environment.ProcessId}.onnx");
        new Compression.Passes.AttentionLayoutPass().Apply(global::Alerts.Onnx.OnnxModel.Load(onnx), null).Save(_fusedPath);
        _fused = new OnnxT2Classifier(_fusedPath, new OnnxT2Options { MaxBatchSize = Batch });
        // The model the service runs by default (ModelLocator): the compressed .ort `alerts compress` deployed.
        var deployed = Path.ChangeExtension(onnx, ".deployed.ort");
        if (File.Exists(deployed)) _deployed = new OnnxT2Classifier(deployed, new OnnxT2Options { MaxBatchSize = Batch });
        _torch = new PythonWorker(Path.Combine(BenchData.RepoRoot(), "bench", "torch_baseline.py"), state, "2");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tuned.Dispose();
        _fused.Dispose();
        File.Delete(_fusedPath);
        _deployed?.Dispose();
        _naive.Dispose();
        _torch.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Alerts, Description = "naive: default options, NamedOnnxValue per alert, batch 1")]
    public float Naive()
    {
        float s = 0;
        for (int a = 0; a < Alerts; a++)
        {
            var t = new DenseTensor<float>(_features.AsMemory(a * Size, Size), [1, 100, 2]);
            using var r = _naive.Run([NamedOnnxValue.CreateFromTensor("input", t)]);
            s += r[0].AsEnumerable<float>().First();
        }
        return s;
    }

    [Benchmark(OperationsPerInvoke = Alerts, Description = "OnnxT2Classifier: tuned session, pinned buffers, batch = Batch")]
    public float Tuned()
    {
        _tuned.Predict(_features, Alerts, _probabilities);
        return _probabilities[0];
    }

    [Benchmark(OperationsPerInvoke = Alerts, Description = "OnnxT2Classifier on the fp32 model after AttentionLayoutPass, batch = Batch")]
    public float Fused()
    {
        _fused.Predict(_features, Alerts, _probabilities);
        return _probabilities[0];
    }

    [Benchmark(OperationsPerInvoke = Alerts, Description = "OnnxT2Classifier on the deployed compressed .ort, batch = Batch")]
    public float Deployed()
    {
        if (_deployed is null) throw new InvalidOperationException("models/t2-ztf.deployed.ort not found: run alerts compress first");
        _deployed.Predict(_features, Alerts, _probabilities);
        return _probabilities[0];
    }

    [Benchmark(OperationsPerInvoke = Alerts, Description = "PyTorch eager (1 thread, no_grad), batch = Batch")]
    public double PyTorchEager() => _torch.Go($"go {Batch} {Alerts}");
}
