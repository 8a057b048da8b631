using Alerts.Core;

namespace Alerts.Pipeline.Processing;

/// <summary>
/// Sends each alert to the model of its survey (ZTF g/r model, Rubin ugrizy model) and returns the results in
/// input order. Alerts of a survey without a model get a "not classified: no-model-for-survey" result.
/// Like the classifiers it wraps, it is used by one batcher thread at a time.
/// </summary>
public sealed class SurveyRoutingClassifier : IAlertClassifier, IDisposable
{
    private readonly Dictionary<Survey, IAlertClassifier> _bySurvey;
    private readonly List<DecodedAlert>[] _groups;
    private readonly List<int>[] _indexes;

    public SurveyRoutingClassifier(IReadOnlyDictionary<Survey, IAlertClassifier> bySurvey)
    {
        if (bySurvey.Count == 0) throw new ArgumentException("at least one survey model is needed", nameof(bySurvey));
        _bySurvey = new Dictionary<Survey, IAlertClassifier>(bySurvey);
        _groups = new List<DecodedAlert>[4];
        _indexes = new List<int>[4];
        for (int i = 0; i < 4; i++) { _groups[i] = new(); _indexes[i] = new(); }
    }

    /// <summary>"ztf:&lt;id&gt;+lsst:&lt;id&gt;": each distinct model once, under the first survey that uses it.</summary>
    public string ModelId => string.Join('+', _bySurvey.OrderBy(kv => kv.Key)
        .DistinctBy(kv => kv.Value).Select(kv => $"{kv.Key.Name()}:{kv.Value.ModelId}"));

    public IReadOnlyList<string> ClassNames => T2Classes.Names;

    public IReadOnlyDictionary<Survey, IAlertClassifier> Models => _bySurvey;

    public IReadOnlyList<Classification> Classify(IReadOnlyList<DecodedAlert> batch)
    {
        var results = new Classification[batch.Count];
        for (int i = 0; i < 4; i++) { _groups[i].Clear(); _indexes[i].Clear(); }
        for (int i = 0; i < batch.Count; i++)
        {
            var s = (int)batch[i].Identity.Survey;
            _groups[s].Add(batch[i]);
            _indexes[s].Add(i);
        }
        for (int s = 0; s < 4; s++)
        {
            if (_groups[s].Count == 0) continue;
            if (!_bySurvey.TryGetValue((Survey)s, out var model))
            {
                var now = DateTimeOffset.UtcNow;
                foreach (var (a, j) in _groups[s].Zip(_indexes[s]))
                    results[j] = Classification.NotClassified(a, "none", "no-model-for-survey:" + ((Survey)s).Name(), default, now);
                continue;
            }
            var part = model.Classify(_groups[s]);
            for (int k = 0; k < part.Count; k++) results[_indexes[s][k]] = part[k];
        }
        return results;
    }

    public void Dispose()
    {
        foreach (var m in _bySurvey.Values) (m as IDisposable)?.Dispose();
    }
}
