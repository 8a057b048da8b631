namespace Alerts.Classifier.Calibration;

/// <summary>
/// Temperature scaling (Guo et al. 2017) of probability rows: q = softmax(log p / T). T &gt; 1 softens an overconfident
/// model, T &lt; 1 sharpens an underconfident one; the top class never changes. <see cref="Fit"/> picks the T that
/// minimises the mean negative log-likelihood of the true labels, by golden-section search on log T over
/// [<see cref="MinTemperature"/>, <see cref="MaxTemperature"/>]: the NLL is convex in 1/T (a log-sum-exp of linear
/// functions minus a linear one), hence unimodal in log T, so the search finds the minimum. Probabilities are clipped
/// to at least 1e-15 before the log.
/// </summary>
public sealed record TemperatureScaling(double Temperature)
{
    /// <summary>The temperature, positive and finite.</summary>
    public double Temperature { get; init; } = Temperature > 0 && double.IsFinite(Temperature) ? Temperature
        : throw new ArgumentOutOfRangeException(nameof(Temperature), $"temperature {Temperature}: must be positive and finite");

    public const double MinTemperature = 0.01;
    public const double MaxTemperature = 100;
    private const double Floor = 1e-15;

    /// <summary>The identity (T = 1).</summary>
    public static TemperatureScaling Identity { get; } = new(1.0);

    /// <summary>Fits T on rows of probabilities and their true class indices.</summary>
    public static TemperatureScaling Fit(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> labels, double tolerance = 1e-6)
    {
        if (probabilities.Count != labels.Count) throw new ArgumentException($"{probabilities.Count} probability rows but {labels.Count} labels");
        if (probabilities.Count == 0) throw new ArgumentException("temperature scaling needs at least one labelled row");
        for (int i = 0; i < labels.Count; i++)
            if ((uint)labels[i] >= probabilities[i].Length) throw new ArgumentOutOfRangeException(nameof(labels), $"row {i}: label {labels[i]} is not a class of a {probabilities[i].Length}-class row");
        // Golden-section on u = log T.
        double a = Math.Log(MinTemperature), b = Math.Log(MaxTemperature);
        double r = (Math.Sqrt(5) - 1) / 2;
        double c = b - r * (b - a), d = a + r * (b - a);
        double fc = NegativeLogLikelihood(probabilities, labels, Math.Exp(c)), fd = NegativeLogLikelihood(probabilities, labels, Math.Exp(d));
        while (b - a > tolerance)
        {
            if (fc <= fd) { b = d; d = c; fd = fc; c = b - r * (b - a); fc = NegativeLogLikelihood(probabilities, labels, Math.Exp(c)); }
            else { a = c; c = d; fc = fd; d = a + r * (b - a); fd = NegativeLogLikelihood(probabilities, labels, Math.Exp(d)); }
        }
        return new TemperatureScaling(Math.Exp((a + b) / 2));
    }

    /// <summary>Mean −ln q_label of softmax(log p / T) over the rows.</summary>
    public static double NegativeLogLikelihood(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> labels, double temperature)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), "the temperature must be positive");
        double sum = 0;
        for (int i = 0; i < probabilities.Count; i++)
        {
            var p = probabilities[i];
            // log softmax(z)_y = z_y − max z − ln Σ exp(z − max z), z = ln p / T.
            double max = double.NegativeInfinity;
            for (int k = 0; k < p.Length; k++) max = Math.Max(max, Logit(p[k], temperature));
            double s = 0;
            for (int k = 0; k < p.Length; k++) s += Math.Exp(Logit(p[k], temperature) - max);
            sum += -(Logit(p[labels[i]], temperature) - max - Math.Log(s));
        }
        return sum / probabilities.Count;
    }

    private static double Logit(float p, double temperature) => Math.Log(Math.Max(p, Floor)) / temperature;

    /// <summary>softmax(log p / T) of one row into <paramref name="destination"/>.</summary>
    public void Apply(ReadOnlySpan<float> probabilities, Span<float> destination)
    {
        if (destination.Length < probabilities.Length) throw new ArgumentException($"destination holds {destination.Length} values; the row has {probabilities.Length}");
        if (probabilities.Length == 0) return;
        double max = double.NegativeInfinity;
        for (int k = 0; k < probabilities.Length; k++) max = Math.Max(max, Logit(probabilities[k], Temperature));
        double s = 0;
        for (int k = 0; k < probabilities.Length; k++) s += Math.Exp(Logit(probabilities[k], Temperature) - max);
        for (int k = 0; k < probabilities.Length; k++) destination[k] = (float)(Math.Exp(Logit(probabilities[k], Temperature) - max) / s);
    }

    /// <summary>softmax(log p / T) of one row, as a new array.</summary>
    public float[] Apply(ReadOnlySpan<float> probabilities)
    {
        var q = new float[probabilities.Length];
        Apply(probabilities, q);
        return q;
    }
}
