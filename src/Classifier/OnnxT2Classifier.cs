using Alerts.OrtKernels;
using System.Diagnostics;
using System.Security.Cryptography;
using Alerts.Core;
using Microsoft.ML.OnnxRuntime;

namespace Alerts.Classifier;

/// <summary>Options of the ONNX Runtime session and of the micro-batches.</summary>
public sealed record OnnxT2Options
{
    /// <summary>Largest batch handed to the model at once; bigger inputs are split.</summary>
    public int MaxBatchSize { get; init; } = 256;

    /// <summary>How long a streaming micro-batcher may wait to fill a batch (read by the pipeline's micro-batcher; this class batches what it is handed).</summary>
    public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// GP feature extractors run in parallel inside one <see cref="OnnxT2Classifier.Classify"/> call (each with its own
    /// buffers). 1 = on the calling thread. The GP is the expensive part of a batch, so a batcher on one thread can use
    /// the other cores this way.
    /// </summary>
    public int PreprocessWorkers { get; init; } = 1;

    /// <summary>
    /// Rows per ORT run inside a micro-batch, over the same pinned buffers; 0 = the whole micro-batch in one run.
    /// Small runs keep the attention's [rows, heads, 100, 100] score tensors in cache when ORT's own kernels compute
    /// them (2 was best for FINK's 16-head shape: 311-356 vs 350-479 CPU µs/alert at 4); larger runs spread ORT's
    /// per-node cost (~1 µs a node) over more rows. Since the deployed models' attention is Alerts' fused kernel,
    /// which never materialises the scores, 8 is best: `Classifier.Bench compare` with EXECUTION_SIZES=2,8,32 on the
    /// deployed t2-ztf gave 138.6 / 105.2 / 107.7 and 175.8 / 148.2 / 150.6 CPU µs/alert in two processes, and 8 is
    /// no worse than 2 on the unfused 4-head models (fp32 180 vs 174, old deployed 177 vs 162).
    /// </summary>
    public int ExecutionBatchSize { get; init; } = 8;

    /// <summary>Intra-op threads. 1 by default: the service scales by workers, one session per core.</summary>
    public int IntraOpThreads { get; init; } = 1;

    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>Preset override; by default the model's metadata (alerts.preprocessing) or its channel count decides.</summary>
    public T2Preprocessing? Preprocessing { get; init; }

    /// <summary>The session options used for every shipped model: tuned for small, repeated CPU batches.</summary>
    public SessionOptions CreateSessionOptions()
    {
        var o = new SessionOptions
        {
            GraphOptimizationLevel = OptimizationLevel,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,   // one small graph: parallel execution only adds hand-offs
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = 1,
            EnableMemoryPattern = true,                      // shapes repeat per batch size: reuse the planned arena
            EnableCpuMemArena = true,
        };
        // Spinning threads burn the cores the GP workers need; with 1 intra-op thread this is moot, else turn it off.
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", IntraOpThreads > 1 ? "0" : "1");
        // Deployed models may use Alerts' fused kernels (ai.alerts.ScaledDotProductAttention, written by the compressor).
        return AlertsOperators.Register(o);
    }
}

/// <summary>
/// t2 on ONNX Runtime. One <see cref="InferenceSession"/> built once; input/output names and shape read from the
/// model; model id = first 12 hex digits of the SHA-256 of the model file. Inputs and outputs live in two pinned
/// arrays sized for <see cref="OnnxT2Options.MaxBatchSize"/>, and one pair of <see cref="OrtValue"/> views over them
/// is cached per batch size, so a batch allocates no tensors. Not thread-safe (it owns the feature extractor and the
/// buffers): one instance per worker.
/// </summary>
public sealed class OnnxT2Classifier : IAlertClassifier, IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly Dictionary<(int Start, int Count), (OrtValue Input, OrtValue Output)> _views = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly T2FeatureExtractor _extractor;
    private readonly T2FeatureExtractor[] _extractors;
    private readonly int _featureSize;
    private readonly int[] _slot;
    private readonly string?[] _reason;
    private readonly double[] _preprocessUs;

    public OnnxT2Classifier(string modelPath, OnnxT2Options? options = null)
    {
        Options = options ?? new OnnxT2Options();
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"model file {modelPath} does not exist: pass --model with a t2 model file (.onnx or .ort, e.g. models/t2-ztf.deployed.ort or models/t2-lsst.deployed.ort)", modelPath);
        var bytes = File.ReadAllBytes(modelPath);
        ModelManifest.Verify(modelPath, bytes); // a model listed in a MANIFEST.sha256 beside it must match before ORT parses it
        ModelId = Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];
        ModelPath = modelPath;
        using (var so = Options.CreateSessionOptions()) _session = new InferenceSession(bytes, so);

        _inputNames = [_session.InputNames[0]];
        _outputNames = [_session.OutputNames[0]];
        var dims = _session.InputMetadata[_inputNames[0]].Dimensions;   // [batch(-1), steps, bands]
        if (dims.Length != 3 || dims[1] <= 0 || dims[2] <= 0)
            throw new InvalidDataException($"model {modelPath}: input '{_inputNames[0]}' has shape [{string.Join(',', dims)}]; t2 needs [batch, steps, bands]");
        Steps = dims[1];
        ChannelCount = dims[2];
        var outDims = _session.OutputMetadata[_outputNames[0]].Dimensions;
        ClassCount = outDims[^1];
        if (ClassCount != T2Classes.Count)
            throw new InvalidDataException($"model {modelPath}: output '{_outputNames[0]}' has {ClassCount} classes; t2 emits {T2Classes.Count} (FINK T2_COLS order)");

        Preprocessing = Options.Preprocessing ?? PresetFromModel(_session, ChannelCount, modelPath);
        TrainingObjects = _session.ModelMetadata.CustomMetadataMap.TryGetValue(TrainingObjects.MetadataKey, out var rule)
            ? TrainingObjectsFromModel(rule, modelPath) : null;
        if (Preprocessing.InputChannels != ChannelCount || Preprocessing.Steps != Steps)
            throw new InvalidDataException($"model {modelPath} takes [{Steps} steps, {ChannelCount} channels] but preset {Preprocessing.Name} makes [{Preprocessing.Steps}, {Preprocessing.InputChannels}]");
        _extractor = new T2FeatureExtractor(Preprocessing);
        _extractors = [_extractor, .. Enumerable.Range(1, Math.Max(1, Options.PreprocessWorkers) - 1).Select(_ => new T2FeatureExtractor(Preprocessing))];
        _featureSize = Steps * ChannelCount;

        int max = Math.Max(1, Options.MaxBatchSize);
        _input = GC.AllocateArray<float>(max * _featureSize, pinned: true);
        _output = GC.AllocateArray<float>(max * ClassCount, pinned: true);
        _slot = new int[max];
        _reason = new string?[max];
        _preprocessUs = new double[max];
    }

    public OnnxT2Options Options { get; }

    public string ModelPath { get; }

    public string ModelId { get; }

    public T2Preprocessing Preprocessing { get; }

    /// <summary>The real objects the model was trained on (metadata <c>alerts.training_objects</c>); null when the model does not say.</summary>
    public TrainingObjects? TrainingObjects { get; }

    public int Steps { get; }

    public int ChannelCount { get; }

    public int ClassCount { get; }

    public string InputName => _inputNames[0];

    public string OutputName => _outputNames[0];

    public IReadOnlyList<string> ClassNames => T2Classes.Names;

    public T2FeatureExtractor FeatureExtractor => _extractor;

    /// <summary>
    /// Runs the model on <paramref name="batch"/> feature rows (each Steps×Channels, time first) and writes
    /// batch×14 probabilities. Splits into MaxBatchSize chunks; reuses the pinned buffers and cached OrtValues.
    /// </summary>
    public void Predict(ReadOnlySpan<float> features, int batch, Span<float> probabilities)
    {
        lock (_gate) PredictLocked(features, batch, probabilities);
    }

    private void PredictLocked(ReadOnlySpan<float> features, int batch, Span<float> probabilities)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (features.Length < batch * _featureSize) throw new ArgumentException($"features hold {features.Length} floats; {batch} rows need {batch * _featureSize}");
        if (probabilities.Length < batch * ClassCount) throw new ArgumentException($"probabilities hold {probabilities.Length} floats; {batch} rows need {batch * ClassCount}");
        int max = _slot.Length;
        for (int start = 0; start < batch; start += max)
        {
            int n = Math.Min(max, batch - start);
            features.Slice(start * _featureSize, n * _featureSize).CopyTo(_input);
            RunLoaded(n);
            _output.AsSpan(0, n * ClassCount).CopyTo(probabilities.Slice(start * ClassCount, n * ClassCount));
        }
    }

    /// <summary>Runs the model on the first <paramref name="n"/> rows already in the input buffer.</summary>
    private void RunLoaded(int n)
    {
        int step = Options.ExecutionBatchSize > 0 ? Options.ExecutionBatchSize : n;
        for (int start = 0; start < n; start += step)
        {
            int k = Math.Min(step, n - start);
            if (!_views.TryGetValue((start, k), out var v))
            {
                v = (OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.AsMemory(start * _featureSize, k * _featureSize), [k, Steps, ChannelCount]),
                     OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(start * ClassCount, k * ClassCount), [k, ClassCount]));
                _views[(start, k)] = v;
            }
            _session.Run(_runOptions, _inputNames, [v.Input], _outputNames, [v.Output]);
        }
    }

    /// <summary>Input rows of the internal buffer (for callers that extract features in place, e.g. benchmarks).</summary>
    public Span<float> InputRow(int index) => _input.AsSpan(index * _featureSize, _featureSize);

    /// <summary>Output row of the internal buffer after <see cref="RunBuffered"/>.</summary>
    public ReadOnlySpan<float> OutputRow(int index) => _output.AsSpan(index * ClassCount, ClassCount);

    /// <summary>Runs the model on the first <paramref name="n"/> rows written through <see cref="InputRow"/>.</summary>
    public void RunBuffered(int n)
    {
        if (n < 1 || n > _slot.Length) throw new ArgumentOutOfRangeException(nameof(n), $"batch must be 1..{_slot.Length}");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RunLoaded(n);
        }
    }

    public IReadOnlyList<Classification> Classify(IReadOnlyList<DecodedAlert> batch)
    {
        var results = new Classification[batch.Count];
        int max = _slot.Length;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int start = 0; start < batch.Count; start += max)
                ClassifyChunk(batch, start, Math.Min(max, batch.Count - start), results);
        }
        return results;
    }

    // One instance owns one set of buffers and cached OrtValues, so calls are serialised; above all, Dispose must wait
    // for a run in flight: freeing the session or an OrtValue under a native Run corrupts the native heap (a service
    // stopping on a fault or a shutdown timeout can dispose the models while a classify loop is still inside Run).
    private readonly object _gate = new();
    private bool _disposed;

    private void ClassifyChunk(IReadOnlyList<DecodedAlert> batch, int start, int count, Classification[] results)
    {
        // Row i of the input buffer receives alert i; rows of rejected alerts are squeezed out afterwards.
        if (_extractors.Length == 1 || count < 2)
            for (int i = 0; i < count; i++) ExtractOne(_extractor, batch[start + i].LightCurve, i);
        else
        {
            int workers = Math.Min(_extractors.Length, count);
            Parallel.For(0, workers, w =>
            {
                for (int i = w; i < count; i += workers) ExtractOne(_extractors[w], batch[start + i].LightCurve, i);
            });
        }
        int ok = 0;
        for (int i = 0; i < count; i++)
        {
            if (_reason[i] is not null) { _slot[i] = -1; continue; }
            if (ok != i) _input.AsSpan(i * _featureSize, _featureSize).CopyTo(_input.AsSpan(ok * _featureSize, _featureSize));
            _slot[i] = ok++;
        }
        double inferUs = 0;
        if (ok > 0)
        {
            long t1 = Stopwatch.GetTimestamp();
            RunLoaded(ok);
            inferUs = Stopwatch.GetElapsedTime(t1).TotalMicroseconds / ok;
        }
        var now = DateTimeOffset.UtcNow;
        for (int i = 0; i < count; i++)
        {
            var alert = batch[start + i];
            if (_slot[i] < 0)
            {
                results[start + i] = Classification.NotClassified(alert, ModelId, _reason[i]!, new StageTimings(0, _preprocessUs[i], 0), now);
                continue;
            }
            var probs = _output.AsSpan(_slot[i] * ClassCount, ClassCount).ToArray();
            int top = 0;
            for (int c = 1; c < probs.Length; c++) if (probs[c] > probs[top]) top = c;
            results[start + i] = new Classification(alert.Identity, alert.Source.Position, T2Classes.Names[top], probs[top], probs, ModelId,
                alert.LightCurve.Count, Classification.BandList(alert.LightCurve), null, new StageTimings(0, _preprocessUs[i], inferUs),
                alert.Source.ReceivedAt, now, alert.Source.SourceTimestamp);
        }
    }

    private void ExtractOne(T2FeatureExtractor extractor, LightCurve lc, int i)
    {
        long t0 = Stopwatch.GetTimestamp();
        string? reason;
        try
        {
            reason = extractor.Extract(lc, _input.AsSpan(i * _featureSize, _featureSize));
        }
        catch (Exception ex)
        {
            // The extractor reports reasons itself; anything else is a bug, but one alert must not stop the service.
            reason = "preprocess-error:" + ex.GetType().Name;
        }
        _preprocessUs[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        _reason[i] = reason;
    }

    private static TrainingObjects TrainingObjectsFromModel(string rule, string path)
    {
        try { return TrainingObjects.Parse(rule); }
        catch (InvalidDataException ex) { throw new InvalidDataException($"model {path}: {ex.Message}", ex); }
    }

    private static T2Preprocessing PresetFromModel(InferenceSession session, int channels, string path)
    {
        if (session.ModelMetadata.CustomMetadataMap.TryGetValue("alerts.preprocessing", out var name))
            return T2Preprocessing.ByName(name);
        return channels switch
        {
            2 => T2Preprocessing.Ztf,
            6 => T2Preprocessing.Lsst,
            _ => throw new InvalidDataException($"model {path} has {channels} input channels and no 'alerts.preprocessing' metadata: pass a preset (t2-ztf = 2 bands g,r; t2-lsst = 6 bands ugrizy; t2-ztf-window = 4, t2-lsst-window = 12)"),
        };
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var (i, o) in _views.Values) { i.Dispose(); o.Dispose(); }
            _views.Clear();
            _runOptions.Dispose();
            _session.Dispose();
        }
    }
}
