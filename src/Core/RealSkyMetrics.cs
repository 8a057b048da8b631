namespace Alerts.Core;

/// <summary>Recall, precision and F1 of one class (or family) from its confusion counts: the one definition every evaluation uses.</summary>
public static class ConfusionScores
{
    /// <summary>Recall NaN without true members; precision 0 when nothing was predicted; F1 NaN without true members, else 0 when recall and precision are both 0.</summary>
    public static (double Recall, double Precision, double F1) Of(int support, int predicted, int correct)
    {
        double recall = support == 0 ? double.NaN : (double)correct / support;
        double precision = predicted == 0 ? 0 : (double)correct / predicted;
        double f1 = support == 0 ? double.NaN : (precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall));
        return (recall, precision, f1);
    }
}

/// <summary>Metrics of one scored family in a <see cref="RealSkyMetrics"/> evaluation.</summary>
public sealed record FamilyMetrics(string Name, int Support, int Predicted, int Correct, double Recall, double Precision, double F1);

/// <summary>
/// One confidence bin of a reliability table: the objects whose top-family probability is in
/// [<see cref="Lower"/>, <see cref="Upper"/>) (the last bin also holds 1), their mean confidence and the fraction whose
/// top family is the true one. Mean confidence and accuracy are NaN for an empty bin.
/// </summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanConfidence, double Accuracy);

/// <summary>
/// The metrics astronomers quote for a real-sky classifier, scored by family rather than by t2 class:
/// <list type="bullet">
/// <item>Families: SN Ia (SNIa, SNIax and SNIa-91bg together), SNII, SNIbc, SLSN-I, TDE, plus "other" for the seven
/// remaining t2 classes. Only objects whose true class is in one of the five scored families count; the others are
/// ignored (<see cref="Ignored"/>).</item>
/// <item>Family probability = the sum of its classes' probabilities (the row renormalised to sum 1); the predicted
/// family is the argmax over the five scored families and "other" (ties go to the first in that order).</item>
/// <item>Coverage = classified / (classified + not classified), over objects of the scored families.</item>
/// <item>SN Ia balanced accuracy: the binary task SN Ia family vs the four other scored families, an object predicted
/// Ia iff its predicted family is SN Ia; the mean of the recalls of the two sides that have objects (scikit-learn's
/// <c>balanced_accuracy_score</c>), NaN without objects.</item>
/// <item>Per family recall, precision (0 when never predicted), F1 (NaN without support) and support; macro-F1 is the
/// mean F1 over the five scored families that have at least one true object (families with zero support are left out
/// of the mean).</item>
/// <item>ECE of the top label: confidence = the predicted family's summed probability, correct = predicted family is
/// the true family; 15 equal-width bins on [0, 1], bin b = [b/15, (b+1)/15) with 1 in the last bin;
/// ECE = Σ_b (n_b / N) |accuracy_b − confidence_b|.</item>
/// <item>Because only objects of the scored families are scored, a prediction of "other" is always wrong here,
/// and the ECE is that of the scored objects, not of every object the model sees.</item>
/// <item>A family confusion matrix: true scored family × predicted family (the five and "other").</item>
/// </list>
/// </summary>
public sealed class RealSkyMetrics
{
    /// <summary>The five scored families (<see cref="ClassFamilies.Scored"/>, SN Ia family named "SNIa"), then "other".</summary>
    public static readonly string[] FamilyNames = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE", "other"];

    /// <summary>Number of scored families (<see cref="FamilyNames"/> without "other").</summary>
    public const int ScoredCount = 5;

    /// <summary>Index of "other" in <see cref="FamilyNames"/>.</summary>
    public const int Other = 5;

    /// <summary>Equal-width confidence bins of the ECE and the reliability table.</summary>
    public const int Bins = 15;

    private const int Ia = 0;

    // t2 class → family index (0-4 scored, in ClassFamilies.Scored order, 5 = other).
    private static readonly int[] FamilyOfClass =
        [.. Enumerable.Range(0, T2Classes.Count).Select(c => ClassFamilies.FamilyOf(c) is var f && f >= 0 ? f : Other)];

    private readonly int[,] _confusion = new int[ScoredCount, ScoredCount + 1];
    private readonly int[] _binCount = new int[Bins];
    private readonly int[] _binCorrect = new int[Bins];
    private readonly double[] _binConfidence = new double[Bins];
    private int _classified, _notClassified, _ignored;

    /// <summary>The family index (into <see cref="FamilyNames"/>) of a t2 class index.</summary>
    public static int FamilyOf(int classIndex) =>
        (uint)classIndex < T2Classes.Count ? FamilyOfClass[classIndex] : throw new ArgumentOutOfRangeException(nameof(classIndex));

    /// <summary>True when the t2 class belongs to one of the five scored families.</summary>
    public static bool IsScored(int classIndex) => (uint)classIndex < T2Classes.Count && FamilyOfClass[classIndex] != Other;

    /// <summary>
    /// Writes the six family probabilities (five scored, then "other") of 14 class probabilities, renormalised to sum 1
    /// (left as they are when the row sums to 0 or is not finite), and returns the predicted family.
    /// </summary>
    public static int FamilyProbabilities(ReadOnlySpan<float> probabilities, Span<double> families)
    {
        if (probabilities.Length != T2Classes.Count) throw new ArgumentException($"expected {T2Classes.Count} probabilities, got {probabilities.Length}");
        if (families.Length < FamilyNames.Length) throw new ArgumentException($"need room for {FamilyNames.Length} family probabilities");
        families[..FamilyNames.Length].Clear();
        double sum = 0;
        for (int c = 0; c < T2Classes.Count; c++) { families[FamilyOfClass[c]] += probabilities[c]; sum += probabilities[c]; }
        if (sum > 0 && double.IsFinite(sum))
            for (int f = 0; f < FamilyNames.Length; f++) families[f] /= sum;
        int top = 0;
        for (int f = 1; f < FamilyNames.Length; f++) if (families[f] > families[top]) top = f;
        return top;
    }

    /// <summary>Adds one classified object: its true t2 class index and the 14 probabilities. Objects outside the scored families are only counted in <see cref="Ignored"/>.</summary>
    public void Add(int trueClass, ReadOnlySpan<float> probabilities)
    {
        int truth = FamilyOf(trueClass);
        Span<double> fam = stackalloc double[FamilyNames.Length];
        int top = FamilyProbabilities(probabilities, fam);
        if (truth == Other) { _ignored++; return; }
        _classified++;
        _confusion[truth, top]++;
        double confidence = Math.Clamp(fam[top], 0, 1);
        int bin = BinOf(confidence);
        _binCount[bin]++;
        _binConfidence[bin] += confidence;
        if (top == truth) _binCorrect[bin]++;
    }

    /// <summary>Adds one object the classifier turned down (no probabilities); it lowers the coverage when its true class is scored.</summary>
    public void AddNotClassified(int trueClass)
    {
        if (FamilyOf(trueClass) == Other) _ignored++;
        else _notClassified++;
    }

    /// <summary>The bin of a confidence in [0, 1]: floor(confidence · 15), with 1 in the last bin.</summary>
    public static int BinOf(double confidence) => Math.Clamp((int)Math.Floor(confidence * Bins), 0, Bins - 1);

    /// <summary>Classified objects of the scored families.</summary>
    public int Classified => _classified;

    /// <summary>Objects of the scored families that were not classified.</summary>
    public int NotClassified => _notClassified;

    /// <summary>Objects (classified or not) whose true class is outside the scored families.</summary>
    public int Ignored => _ignored;

    /// <summary>Objects of the scored families, classified or not.</summary>
    public int Objects => _classified + _notClassified;

    /// <summary>Classified / all objects of the scored families; NaN without objects.</summary>
    public double Coverage => Objects == 0 ? double.NaN : (double)_classified / Objects;

    /// <summary>Count of classified objects of true scored family <paramref name="truth"/> predicted as <paramref name="predicted"/> (0-5).</summary>
    public int Confusion(int truth, int predicted) => _confusion[truth, predicted];

    /// <summary>SN Ia family vs the other scored families: mean recall of the sides present; NaN without objects.</summary>
    public double SnIaBalancedAccuracy
    {
        get
        {
            int iaTotal = 0, iaRight = 0, restTotal = 0, restRight = 0;
            for (int t = 0; t < ScoredCount; t++)
                for (int p = 0; p <= ScoredCount; p++)
                {
                    int n = _confusion[t, p];
                    if (t == Ia) { iaTotal += n; if (p == Ia) iaRight += n; }
                    else { restTotal += n; if (p != Ia) restRight += n; }
                }
            double s = 0; int sides = 0;
            if (iaTotal > 0) { s += (double)iaRight / iaTotal; sides++; }
            if (restTotal > 0) { s += (double)restRight / restTotal; sides++; }
            return sides == 0 ? double.NaN : s / sides;
        }
    }

    /// <summary>Recall, precision, F1 and support of the five scored families, in <see cref="FamilyNames"/> order.</summary>
    public IReadOnlyList<FamilyMetrics> PerFamily()
    {
        var list = new List<FamilyMetrics>(ScoredCount);
        for (int f = 0; f < ScoredCount; f++)
        {
            int support = 0, predicted = 0, correct = _confusion[f, f];
            for (int k = 0; k <= ScoredCount; k++) support += _confusion[f, k];
            for (int t = 0; t < ScoredCount; t++) predicted += _confusion[t, f];
            var (recall, precision, f1) = ConfusionScores.Of(support, predicted, correct);
            list.Add(new FamilyMetrics(FamilyNames[f], support, predicted, correct, recall, precision, f1));
        }
        return list;
    }

    /// <summary>Mean F1 over the scored families with at least one true object (zero-support families left out); NaN if none.</summary>
    public double MacroF1
    {
        get
        {
            double s = 0; int n = 0;
            foreach (var m in PerFamily()) if (m.Support > 0) { s += m.F1; n++; }
            return n == 0 ? double.NaN : s / n;
        }
    }

    /// <summary>The 15 bins of the top-family confidence (see the class summary).</summary>
    public IReadOnlyList<ReliabilityBin> Reliability()
    {
        var list = new List<ReliabilityBin>(Bins);
        for (int b = 0; b < Bins; b++)
        {
            int n = _binCount[b];
            list.Add(new ReliabilityBin((double)b / Bins, (double)(b + 1) / Bins, n,
                n == 0 ? double.NaN : _binConfidence[b] / n, n == 0 ? double.NaN : (double)_binCorrect[b] / n));
        }
        return list;
    }

    /// <summary>Expected calibration error of the top family, 15 equal-width bins; NaN without classified objects.</summary>
    public double ExpectedCalibrationError
    {
        get
        {
            if (_classified == 0) return double.NaN;
            double e = 0;
            for (int b = 0; b < Bins; b++)
            {
                int n = _binCount[b];
                if (n == 0) continue;
                e += (double)n / _classified * Math.Abs((double)_binCorrect[b] / n - _binConfidence[b] / n);
            }
            return e;
        }
    }
}
