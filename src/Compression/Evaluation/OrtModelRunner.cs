using Alerts.OrtKernels;
using System.Diagnostics;
using Alerts.Onnx;
using Alerts.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Alerts.Compression.Evaluation;

/// <summary>How a model is handed to ONNX Runtime: ONNX protobuf, or the ORT flatbuffer format.</summary>
public enum ModelFormat { Onnx, Ort }

/// <summary>
/// Runs a t2-shaped model (input [batch, steps, bands] -> probabilities [batch, 14]) on ONNX Runtime's CPU provider,
/// single-threaded so measurements on a shared machine compare like with like.
/// </summary>
public sealed class OrtModelRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _input;
    private readonly string _output;

    public double LoadMilliseconds { get; }

    public OrtModelRunner(byte[] model, ModelFormat format = ModelFormat.Onnx, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_ALL, int threads = 1)
        : this(model, CreateOptions(format, level, threads)) { }

    /// <summary>Takes ownership of <paramref name="options"/> (disposed after the session is created).</summary>
    public OrtModelRunner(byte[] model, SessionOptions options)
    {
        var sw = Stopwatch.StartNew();
        // Alerts' own operators (ai.alerts, see OrtKernels) load in every evaluation session: the compressor's fused
        // passes write them, and the gate must run the model it ships.
        using (options) _session = new InferenceSession(model, AlertsOperators.Register(options));
        LoadMilliseconds = sw.Elapsed.TotalMilliseconds;
        _input = _session.InputMetadata.Keys.First();
        _output = _session.OutputMetadata.Keys.First();
    }

    public static SessionOptions CreateOptions(ModelFormat format, GraphOptimizationLevel level, int threads)
    {
        var options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        if (format == ModelFormat.Ort) options.AddSessionConfigEntry("session.load_model_format", "ORT");
        return options;
    }

    /// <summary>Probabilities for every row of <paramref name="data"/>, [Count x classes], in batches of <paramref name="batchSize"/>.</summary>
    public float[] Predict(LabelledSet data, int batchSize = 64)
    {
        var result = new List<float>(data.Count * Core.T2Classes.Count);
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int b = Math.Min(batchSize, data.Count - start);
            result.AddRange(Run(data.Features.AsMemory(start * data.RowLength, b * data.RowLength), b, data.Steps, data.Bands));
        }
        return result.ToArray();
    }

    public float[] Run(ReadOnlyMemory<float> input, int batch, int steps, int bands)
    {
        var tensor = new DenseTensor<float>(input.ToArray(), [batch, steps, bands]);
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_input, tensor)], [_output]);
        return results.First().AsEnumerable<float>().ToArray();
    }

    /// <summary>
    /// Steady-state latency in µs per alert at the given batch size: pre-allocated OrtValues, <paramref name="warmup"/>
    /// untimed runs, then the median of <paramref name="repeats"/> timed runs divided by the batch size.
    /// </summary>
    public double MicrosecondsPerAlert(LabelledSet data, int batch, int warmup = 20, int repeats = 200)
    {
        var shape = new long[] { batch, data.Steps, data.Bands };
        var input = new float[batch * data.RowLength];
        for (int i = 0; i < batch; i++) data.Row(i % data.Count).CopyTo(input.AsSpan(i * data.RowLength));
        var output = new float[batch * Core.T2Classes.Count];
        using var inValue = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outValue = OrtValue.CreateTensorValueFromMemory(output, new long[] { batch, Core.T2Classes.Count });
        using var runOptions = new RunOptions();
        string[] inNames = [_input], outNames = [_output];
        OrtValue[] ins = [inValue], outs = [outValue];
        for (int i = 0; i < warmup; i++) _session.Run(runOptions, inNames, ins, outNames, outs);
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            _session.Run(runOptions, inNames, ins, outNames, outs);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        Array.Sort(times);
        return times[repeats / 2] / batch;
    }

    /// <summary>Time of the first Run after loading, in ms (includes lazy kernel initialisation).</summary>
    public double FirstInferenceMilliseconds(LabelledSet data)
    {
        var sw = Stopwatch.StartNew();
        Run(data.Features.AsMemory(0, data.RowLength), 1, data.Steps, data.Bands);
        return sw.Elapsed.TotalMilliseconds;
    }

    public void Dispose() => _session.Dispose();

    /// <summary>
    /// Records intermediate float tensors on calibration data: the named values are added as extra graph outputs of a
    /// copy of the model, which is then run batch by batch. Returns, per name, all rows concatenated and the shape of
    /// one batch's tensor with the batch size replaced by the total row count.
    /// </summary>
    public static Dictionary<string, (float[] Data, long[] Shape)> CaptureActivations(OnnxModel model, LabelledSet data, IReadOnlyCollection<string> names, int batchSize = 32)
    {
        var probe = model.Clone();
        var existing = probe.Graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var n in names)
        {
            if (existing.Contains(n)) continue;
            probe.Graph.Output.Add(new ValueInfoProto { Name = n, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = Tensors.Float } } });
        }
        using var options = CreateOptions(ModelFormat.Onnx, GraphOptimizationLevel.ORT_DISABLE_ALL, 1);
        using var session = new InferenceSession(probe.ToBytes(), AlertsOperators.Register(options));
        string input = session.InputMetadata.Keys.First();
        var acc = names.ToDictionary(n => n, _ => new List<float>());
        var shapes = new Dictionary<string, long[]>();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int b = Math.Min(batchSize, data.Count - start);
            var tensor = new DenseTensor<float>(data.Features.AsMemory(start * data.RowLength, b * data.RowLength).ToArray(), [b, data.Steps, data.Bands]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, tensor)], names.ToArray());
            foreach (var r in results)
            {
                var t = r.AsTensor<float>();
                acc[r.Name].AddRange(t.ToArray());
                shapes[r.Name] = t.Dimensions.ToArray().Select(d => (long)d).ToArray();
            }
        }
        return names.ToDictionary(n => n, n =>
        {
            var s = shapes[n];
            var data2 = acc[n].ToArray();
            // The first axis is the batch when the tensor scales with it; report the row total there.
            long per = s.Skip(1).Aggregate(1L, (a, d) => a * d);
            if (s.Length > 0 && per > 0 && data2.Length % per == 0) s = [data2.Length / per, .. s.Skip(1)];
            return (data2, s);
        });
    }
}
