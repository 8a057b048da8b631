using Alerts.Core;

namespace Alerts.Compression.Evaluation;

/// <summary>
/// Metrics of one model on a labelled set. <see cref="SnIaBalancedAccuracy"/> and <see cref="FamilyMacroF1"/> are the
/// real-sky measures of <see cref="RealSkyMetrics"/> (SN Ia family vs rest; macro-F1 over SNIa, SNII, SNIbc, SLSN-I,
/// TDE) over the <see cref="FamilyRows"/> rows whose true class is in a scored family; NaN when there are none.
/// </summary>
public sealed record ClassificationMetrics(double Accuracy, double MacroF1, double WeightedLogLoss, int Count,
    double SnIaBalancedAccuracy = double.NaN, double FamilyMacroF1 = double.NaN, int FamilyRows = 0);

/// <summary>Accuracy, macro-F1 and the PLAsTiCC weighted log-loss over probabilities in T2Classes order, and the family scores of <see cref="RealSkyMetrics"/>.</summary>
public static class Metrics
{
    /// <summary>
    /// PLAsTiCC class weights (Malz et al. 2019; Kaggle metric): rare, scientifically valuable classes count double.
    /// Of the t2 classes, KN (PLAsTiCC 64) and TDE (15) have weight 2, all others 1 (class 99 is not a t2 output).
    /// </summary>
    public static double ClassWeight(int t2Class) => T2Classes.Names[t2Class] is "KN" or "TDE" ? 2.0 : 1.0;

    public static ClassificationMetrics Compute(ReadOnlySpan<float> probabilities, ReadOnlySpan<long> labels, int classes = T2Classes.Count)
    {
        int n = labels.Length;
        if (probabilities.Length != n * classes) throw new ArgumentException($"expected {n} x {classes} probabilities, got {probabilities.Length}");
        var tp = new int[classes]; var fp = new int[classes]; var fn = new int[classes];
        var logSum = new double[classes]; var count = new int[classes];
        int correct = 0;
        var families = classes == T2Classes.Count ? new RealSkyMetrics() : null;
        for (int i = 0; i < n; i++)
        {
            var p = probabilities.Slice(i * classes, classes);
            families?.Add((int)labels[i], p);
            int pred = 0;
            double sum = 0;
            for (int c = 0; c < classes; c++) { if (p[c] > p[pred]) pred = c; sum += Math.Clamp(p[c], 1e-15, 1 - 1e-15); }
            int y = (int)labels[i];
            if (pred == y) { correct++; tp[y]++; } else { fp[pred]++; fn[y]++; }
            // Kaggle/PLAsTiCC: clip to [1e-15, 1-1e-15], renormalise the row, then take the log of the true class.
            double py = Math.Clamp(p[y], 1e-15, 1 - 1e-15) / sum;
            logSum[y] += Math.Log(py);
            count[y]++;
        }
        double f1Sum = 0; int f1Classes = 0;
        for (int c = 0; c < classes; c++)
        {
            if (count[c] == 0 && fp[c] == 0) continue; // class absent from labels and predictions: not scored
            double denom = 2.0 * tp[c] + fp[c] + fn[c];
            f1Sum += denom == 0 ? 0 : 2.0 * tp[c] / denom;
            f1Classes++;
        }
        double wl = 0, wsum = 0;
        for (int c = 0; c < classes; c++)
        {
            if (count[c] == 0) continue;
            double w = ClassWeight(c);
            wl += w * logSum[c] / count[c];
            wsum += w;
        }
        bool scored = families is { Classified: > 0 };
        return new ClassificationMetrics(n == 0 ? 0 : (double)correct / n, f1Classes == 0 ? 0 : f1Sum / f1Classes, wsum == 0 ? 0 : -wl / wsum, n,
            scored ? families!.SnIaBalancedAccuracy : double.NaN, scored ? families!.MacroF1 : double.NaN, families?.Classified ?? 0);
    }
}
