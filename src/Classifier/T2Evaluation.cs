using Alerts.Core;

namespace Alerts.Classifier;

/// <summary>Metrics of one class in an evaluation.</summary>
public sealed record ClassMetrics(string Name, int Support, int Predicted, int Correct, double Accuracy, double Precision, double Recall, double F1);

/// <summary>
/// Classification metrics computed in C#, the ones the model cards report:
/// per-class accuracy (the fraction of a true class labelled correctly, i.e. its recall), macro-F1 over the classes
/// present in the truth, overall accuracy, and the PLAsTiCC weighted log-loss
/// <c>L = −Σ_j w_j (1/N_j) Σ_{i∈j} ln p_ij / Σ_j w_j</c> over the true classes j present, with probabilities clipped to
/// [1e-15, 1 − 1e-15] and renormalised per row (the Kaggle PLAsTiCC metric). Weights: 2 for TDE and KN (PLAsTiCC's
/// rare classes 15 and 64; class 99 does not exist in t2), 1 for the other twelve t2 classes.
/// </summary>
public sealed class T2Evaluation
{
    private readonly int[,] _confusion = new int[T2Classes.Count, T2Classes.Count];
    private readonly double[] _logLossSum = new double[T2Classes.Count];
    private int _total;

    public static double PlasticcWeight(int classIndex) => T2Classes.Names[classIndex] is "TDE" or "KN" ? 2.0 : 1.0;

    /// <summary>Adds one labelled prediction: the true class index and the 14 probabilities.</summary>
    public void Add(int trueClass, ReadOnlySpan<float> probabilities)
    {
        if ((uint)trueClass >= T2Classes.Count) throw new ArgumentOutOfRangeException(nameof(trueClass));
        if (probabilities.Length != T2Classes.Count) throw new ArgumentException($"expected {T2Classes.Count} probabilities, got {probabilities.Length}");
        int top = 0;
        double sum = 0;
        for (int c = 0; c < probabilities.Length; c++)
        {
            if (probabilities[c] > probabilities[top]) top = c;
            sum += Math.Clamp(probabilities[c], 1e-15, 1 - 1e-15);
        }
        _confusion[trueClass, top]++;
        _logLossSum[trueClass] += -Math.Log(Math.Clamp(probabilities[trueClass], 1e-15, 1 - 1e-15) / sum);
        _total++;
    }

    public int Count => _total;

    public int Confusion(int trueClass, int predicted) => _confusion[trueClass, predicted];

    public double Accuracy
    {
        get
        {
            if (_total == 0) return double.NaN;
            int ok = 0;
            for (int c = 0; c < T2Classes.Count; c++) ok += _confusion[c, c];
            return (double)ok / _total;
        }
    }

    public IReadOnlyList<ClassMetrics> PerClass()
    {
        var list = new List<ClassMetrics>(T2Classes.Count);
        for (int c = 0; c < T2Classes.Count; c++)
        {
            int support = 0, predicted = 0, correct = _confusion[c, c];
            for (int k = 0; k < T2Classes.Count; k++) { support += _confusion[c, k]; predicted += _confusion[k, c]; }
            var (recall, precision, f1) = ConfusionScores.Of(support, predicted, correct);
            list.Add(new ClassMetrics(T2Classes.Names[c], support, predicted, correct, recall, precision, recall, f1));
        }
        return list;
    }

    /// <summary>Mean F1 over the classes with at least one true member.</summary>
    public double MacroF1
    {
        get
        {
            double s = 0; int n = 0;
            foreach (var m in PerClass()) if (m.Support > 0) { s += m.F1; n++; }
            return n == 0 ? double.NaN : s / n;
        }
    }

    public double WeightedLogLoss
    {
        get
        {
            double num = 0, den = 0;
            for (int c = 0; c < T2Classes.Count; c++)
            {
                int support = 0;
                for (int k = 0; k < T2Classes.Count; k++) support += _confusion[c, k];
                if (support == 0) continue;
                double w = PlasticcWeight(c);
                num += w * _logLossSum[c] / support;
                den += w;
            }
            return den == 0 ? double.NaN : num / den;
        }
    }
}
