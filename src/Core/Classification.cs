namespace Alerts.Core;

/// <summary>
/// The 14 classes of t2 (the PLAsTiCC taxonomy), in FINK's <c>T2_COLS</c> output order. Models shipped by
/// Alerts emit probabilities in this order too, so an index means the same class everywhere.
/// </summary>
public static class T2Classes
{
    public static readonly string[] Names =
    [
        "mu-Lens-Single", "TDE", "EB", "SNII", "SNIax", "Mira", "SNIbc", "KN",
        "M-dwarf", "SNIa-91bg", "AGN", "SNIa", "RRL", "SLSN-I",
    ];

    public const int Count = 14;

    public static int IndexOf(string name)
    {
        for (int i = 0; i < Names.Length; i++)
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}

/// <summary>Wall-clock spent on one alert per stage, in microseconds (batch stages report the batch time divided by batch size).</summary>
public readonly record struct StageTimings(double DecodeUs, double PreprocessUs, double InferenceUs);

/// <summary>
/// The result of classifying one alert. When <see cref="IsClassified"/> is false, <see cref="Reason"/> says why
/// (e.g. "too-few-points", "missing-band:ztfr") and the probabilities are empty.
/// </summary>
public sealed record Classification(
    AlertIdentity Identity,
    SourcePosition Source,
    string? Label,
    float LabelProbability,
    float[] Probabilities,
    string ModelId,
    int PointCount,
    string Bands,
    string? Reason,
    StageTimings Timings,
    DateTimeOffset IngestedAt,
    DateTimeOffset ClassifiedAt,
    DateTimeOffset? SourceTimestamp = null)
{
    public bool IsClassified => Reason is null;

    /// <summary>P(SNIa) + P(SNIax) + P(SNIa-91bg); null when not classified.</summary>
    public float? SNIaFamilyProbability => FamilyProbability(ClassFamilies.SNIaFamily);

    /// <summary>The sum of the family's class probabilities; null when not classified (no probability vector).</summary>
    public float? FamilyProbability(ClassFamily family) =>
        IsClassified && Probabilities.Length >= T2Classes.Count ? ClassFamilies.Probability(Probabilities, family) : null;

    public static Classification NotClassified(DecodedAlert alert, string modelId, string reason, StageTimings timings, DateTimeOffset at) =>
        new(alert.Identity, alert.Source.Position, null, 0f, [], modelId, alert.LightCurve.Count,
            BandList(alert.LightCurve), reason, timings, alert.Source.ReceivedAt, at, alert.Source.SourceTimestamp);

    /// <summary>The distinct bands of a light curve as a comma-separated list of band names, in enum order.</summary>
    public static string BandList(LightCurve lc)
    {
        Span<bool> seen = stackalloc bool[16];
        foreach (var b in lc.Band) seen[(int)b] = true;
        var parts = new List<string>(4);
        for (int i = 1; i < 16; i++) if (seen[i]) parts.Add(((Band)i).Name());
        return string.Join(',', parts);
    }
}
