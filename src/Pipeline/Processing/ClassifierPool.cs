using System.Collections.Concurrent;
using Alerts.Core;

namespace Alerts.Pipeline.Processing;

/// <summary>
/// Several instances of the same classifier behind one thread-safe <see cref="IAlertClassifier"/>: each
/// <see cref="Classify"/> call takes an idle instance, so <see cref="AlertPipeline"/> can run one classify loop per
/// core, each doing GP preprocessing and t2 inference of its own micro-batch. (One instance with a parallel GP idles
/// the other cores while ONNX Runtime runs the batch on one thread; two loops keep both cores busy.)
/// The instances must be equivalent (same models); the pool owns and disposes them.
/// </summary>
public sealed class ClassifierPool : IAlertClassifier, IDisposable
{
    private readonly IAlertClassifier[] _all;
    private readonly ConcurrentBag<IAlertClassifier> _idle;
    private readonly SemaphoreSlim _available;

    public ClassifierPool(IReadOnlyList<IAlertClassifier> instances)
    {
        if (instances.Count == 0) throw new ArgumentException("a pool needs at least one classifier", nameof(instances));
        if (instances.Select(i => i.ModelId).Distinct().Count() != 1)
            throw new ArgumentException("the pooled classifiers must run the same models: " + string.Join(", ", instances.Select(i => i.ModelId).Distinct()), nameof(instances));
        _all = instances.ToArray();
        _idle = new ConcurrentBag<IAlertClassifier>(_all);
        _available = new SemaphoreSlim(_all.Length, _all.Length);
    }

    /// <summary>How many batches can be classified at the same time.</summary>
    public int Instances => _all.Length;

    public IReadOnlyList<IAlertClassifier> Members => _all;

    public string ModelId => _all[0].ModelId;

    public IReadOnlyList<string> ClassNames => _all[0].ClassNames;

    public IReadOnlyList<Classification> Classify(IReadOnlyList<DecodedAlert> batch)
    {
        _available.Wait();
        _idle.TryTake(out var classifier);
        try
        {
            return classifier!.Classify(batch);
        }
        finally
        {
            _idle.Add(classifier!);
            _available.Release();
        }
    }

    public void Dispose()
    {
        foreach (var c in _all) (c as IDisposable)?.Dispose();
        _available.Dispose();
    }
}
