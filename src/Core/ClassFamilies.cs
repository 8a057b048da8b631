namespace Alerts.Core;

/// <summary>
/// A set of t2 classes that together answer one question (e.g. "is it a type Ia supernova?"): its probability is
/// the sum of its members'. <see cref="Members"/> are indices into <see cref="T2Classes.Names"/>; the arrays of
/// the families in <see cref="ClassFamilies"/> are shared, so do not write to them.
/// </summary>
public sealed record ClassFamily(string Name, int[] Members)
{
    public override string ToString() => $"{Name} ({string.Join(" + ", Members.Select(k => T2Classes.Names[k]))})";
}

/// <summary>
/// Families of the 14 t2 classes. t2 splits some answers over several classes (SNIa, SNIax and SNIa-91bg are all
/// thermonuclear supernovae), and a question about the answer should add them. <see cref="Scored"/> are the five
/// supernova-like families real labelled sets are scored by; the other nine classes belong to none of them.
/// </summary>
public static class ClassFamilies
{
    /// <summary>SNIa + SNIax + SNIa-91bg; archived and sent with labels as <c>p_SNIa_family</c>.</summary>
    public static readonly ClassFamily SNIaFamily = Of("SNIa_family", "SNIa", "SNIax", "SNIa-91bg");

    /// <summary>SNIa family, SNII, SNIbc, SLSN-I, TDE: disjoint, so a class is in at most one (<see cref="FamilyOf"/>).</summary>
    public static readonly IReadOnlyList<ClassFamily> Scored =
    [
        SNIaFamily, Of("SNII", "SNII"), Of("SNIbc", "SNIbc"), Of("SLSN-I", "SLSN-I"), Of("TDE", "TDE"),
    ];

    private static readonly int[] FamilyByClass = BuildFamilyByClass();

    /// <summary>The index in <see cref="Scored"/> of the family holding class <paramref name="classIndex"/>, or -1 (e.g. AGN, RRL, KN).</summary>
    public static int FamilyOf(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, T2Classes.Count);
        return FamilyByClass[classIndex];
    }

    /// <summary>The sum of the members' probabilities in a t2 probability vector (T2Classes order).</summary>
    public static float Probability(ReadOnlySpan<float> probabilities, ClassFamily family)
    {
        double sum = 0;
        foreach (var k in family.Members)
        {
            if (k >= probabilities.Length)
                throw new ArgumentException($"{probabilities.Length} probabilities do not reach class {T2Classes.Names[k]} (index {k}) of {family.Name}; a t2 vector has {T2Classes.Count}", nameof(probabilities));
            sum += probabilities[k];
        }
        return (float)sum;
    }

    /// <summary>
    /// The family called <paramref name="name"/> (<see cref="SNIaFamily"/> or one of <see cref="Scored"/>), ignoring
    /// case and treating '-' and '_' alike (SNIa-family, snia_family); null when there is none.
    /// </summary>
    public static ClassFamily? Find(string name)
    {
        var norm = name.Replace('-', '_');
        foreach (var f in Scored)
            if (string.Equals(f.Name.Replace('-', '_'), norm, StringComparison.OrdinalIgnoreCase)) return f;
        return null;
    }

    private static ClassFamily Of(string name, params string[] classes) =>
        new(name, classes.Select(c => T2Classes.IndexOf(c) is >= 0 and var k ? k : throw new InvalidOperationException($"'{c}' is not a t2 class")).ToArray());

    private static int[] BuildFamilyByClass()
    {
        var map = Enumerable.Repeat(-1, T2Classes.Count).ToArray();
        for (int f = 0; f < Scored.Count; f++)
            foreach (var k in Scored[f].Members)
            {
                if (map[k] >= 0) throw new InvalidOperationException($"{T2Classes.Names[k]} is in both {Scored[map[k]].Name} and {Scored[f].Name}");
                map[k] = f;
            }
        return map;
    }
}
