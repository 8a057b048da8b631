namespace Alerts.Core;

/// <summary>
/// A photometric passband. ZTF and Rubin bands are distinct values because their effective
/// wavelengths differ: the GP preprocessing works in wavelength, not in band letters.
/// </summary>
public enum Band : byte
{
    Unknown = 0,
    ZtfG = 1,
    ZtfR = 2,
    ZtfI = 3,
    LsstU = 4,
    LsstG = 5,
    LsstR = 6,
    LsstI = 7,
    LsstZ = 8,
    LsstY = 9,
}

public static class Bands
{
    /// <summary>Effective wavelengths in Ångström. ZTF values follow astronet/FINK (t2); LSST values follow avocado/PLAsTiCC.</summary>
    public static double EffectiveWavelength(this Band band) => band switch
    {
        Band.ZtfG => 4804.79,
        Band.ZtfR => 6436.92,
        Band.ZtfI => 7968.22,
        Band.LsstU => 3670.69,
        Band.LsstG => 4826.85,
        Band.LsstR => 6223.24,
        Band.LsstI => 7545.98,
        Band.LsstZ => 8590.90,
        Band.LsstY => 9710.28,
        _ => double.NaN,
    };

    /// <summary>Short name as used in tables and JSON: "ztfg", "lsstu", ...</summary>
    public static string Name(this Band band) => band switch
    {
        Band.ZtfG => "ztfg",
        Band.ZtfR => "ztfr",
        Band.ZtfI => "ztfi",
        Band.LsstU => "lsstu",
        Band.LsstG => "lsstg",
        Band.LsstR => "lsstr",
        Band.LsstI => "lssti",
        Band.LsstZ => "lsstz",
        Band.LsstY => "lssty",
        _ => "unknown",
    };

    public static readonly Band[] Ztf = [Band.ZtfG, Band.ZtfR, Band.ZtfI];
    public static readonly Band[] Lsst = [Band.LsstU, Band.LsstG, Band.LsstR, Band.LsstI, Band.LsstZ, Band.LsstY];

    /// <summary>ZTF filter id (fid): 1 = g, 2 = r, 3 = i.</summary>
    public static Band FromZtfFid(int fid) => fid switch
    {
        1 => Band.ZtfG,
        2 => Band.ZtfR,
        3 => Band.ZtfI,
        _ => Band.Unknown,
    };

    /// <summary>Rubin band letter (u, g, r, i, z, y), as in diaSource.band or the older filterName.</summary>
    public static Band FromLsstLetter(ReadOnlySpan<char> letter) => letter switch
    {
        "u" => Band.LsstU,
        "g" => Band.LsstG,
        "r" => Band.LsstR,
        "i" => Band.LsstI,
        "z" => Band.LsstZ,
        "y" or "Y" => Band.LsstY,
        _ => Band.Unknown,
    };

    /// <summary>Parses <see cref="Name"/> output and common short forms ("g", "R", "ztfg", "lsstr").</summary>
    public static Band Parse(string text, Survey survey)
    {
        var t = text.Trim().ToLowerInvariant();
        foreach (var b in Enum.GetValues<Band>())
            if (b != Band.Unknown && b.Name() == t) return b;
        return survey == Survey.Ztf
            ? t switch { "g" => Band.ZtfG, "r" => Band.ZtfR, "i" => Band.ZtfI, _ => Band.Unknown }
            : FromLsstLetter(t);
    }
}
