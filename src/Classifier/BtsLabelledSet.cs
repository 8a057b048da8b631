using System.Globalization;
using Alerts.Core;

namespace Alerts.Classifier;

/// <summary>One labelled object of a real evaluation set.</summary>
public sealed record LabelledLightCurve(string ObjectId, string SourceType, int ClassIndex, LightCurve LightCurve);

/// <summary>
/// Reader for the ZTF Bright Transient Survey light curves served by ANTARES (the <c>ztf-bts-antares</c> folder:
/// <c>light-curves/&lt;ZTFID&gt;.csv</c> with <c>ant_mjd, ant_passband (g|R), ant_mag, ant_magerr</c>, detections only,
/// and the label table <c>ZTF_BTS_02_02__02_04_2021.csv</c> with its <c>type</c> column).
/// BTS spectroscopic types are mapped onto t2 classes by <see cref="MapType"/>; types with no t2 counterpart
/// (SLSN-II, novae, LBV, ILRT, LRN, Ca-rich, "other", ...) are skipped and counted.
/// </summary>
public static class BtsLabelledSet
{
    public const string LabelFile = "ZTF_BTS_02_02__02_04_2021.csv";

    /// <summary>
    /// BTS type → t2 class. Ia family (Ia, Ia-91T, Ia-pec, Ia-CSM) → SNIa; Ia-91bg → SNIa-91bg; Iax → SNIax;
    /// II, IIP, II-pec, IIn, IIb → SNII (hydrogen-rich: PLAsTiCC's SNII covers IIP/IIL/IIn); Ib, Ic, Ic-BL, Ib/c,
    /// Ib-pec, Ibn, Icn → SNIbc; SLSN-I → SLSN-I; TDE → TDE. Anything else → null (not in the t2 taxonomy).
    /// </summary>
    public static string? MapType(string btsType)
    {
        var t = btsType.Trim();
        return t switch
        {
            "SN Ia" or "SN Ia-91T" or "SN Ia-pec" or "SN Ia-CSM" => "SNIa",
            "SN Ia-91bg" => "SNIa-91bg",
            "SN Iax" => "SNIax",
            "SN II" or "SN IIP" or "SN II-pec" or "SN IIn" or "SN IIb" or "SN IIL" => "SNII",
            "SN Ib" or "SN Ic" or "SN Ic-BL" or "SN Ib/c" or "SN Ib-pec" or "SN Ibn" or "SN Icn" => "SNIbc",
            "SLSN-I" => "SLSN-I",
            "TDE" => "TDE",
            _ => null,
        };
    }

    /// <summary>Reads the labels: ZTFID → BTS type.</summary>
    public static Dictionary<string, string> ReadLabels(string labelTable)
    {
        using var reader = new StreamReader(labelTable);
        var header = SplitCsv(reader.ReadLine() ?? throw new InvalidDataException($"{labelTable}: empty file; expected the BTS table with ZTFID and type columns"));
        int id = header.IndexOf("ZTFID"), type = header.IndexOf("type");
        if (id < 0 || type < 0)
            throw new InvalidDataException($"{labelTable}: header lacks column {(id < 0 ? "ZTFID" : "type")}; expected the BTS explorer export ({LabelFile})");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var f = SplitCsv(line);
            if (f.Count > Math.Max(id, type)) map[f[id]] = f[type];
        }
        return map;
    }

    /// <summary>
    /// Reads one light-curve CSV into <paramref name="target"/> (cleared first). Magnitudes become nJy fluxes
    /// (<see cref="Photometry.MagToFlux"/>), errors propagate linearly. Returns null or the reason the file is unusable.
    /// </summary>
    public static string? ReadLightCurve(string path, LightCurve target)
    {
        target.Clear();
        using var reader = new StreamReader(path);
        var header = SplitCsv(reader.ReadLine() ?? "");
        int mjd = header.IndexOf("ant_mjd"), band = header.IndexOf("ant_passband"), mag = header.IndexOf("ant_mag"), err = header.IndexOf("ant_magerr");
        if (mjd < 0 || band < 0 || mag < 0 || err < 0)
            return $"{path}: expected columns ant_mjd, ant_passband, ant_mag, ant_magerr";
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var f = SplitCsv(line);
            if (f.Count <= Math.Max(Math.Max(mjd, band), Math.Max(mag, err))) continue;
            var b = f[band] switch { "g" => Band.ZtfG, "R" or "r" => Band.ZtfR, "i" or "I" => Band.ZtfI, _ => Band.Unknown };
            if (!double.TryParse(f[mjd], NumberStyles.Float, CultureInfo.InvariantCulture, out var t)
                || !double.TryParse(f[mag], NumberStyles.Float, CultureInfo.InvariantCulture, out var m)
                || !double.TryParse(f[err], NumberStyles.Float, CultureInfo.InvariantCulture, out var e))
                continue;
            double flux = Photometry.MagToFlux(m);
            target.Add(t, b, (float)flux, (float)Photometry.MagErrToFluxErr(flux, e), PointKind.Detection);
        }
        target.SortByTime();
        return null;
    }

    /// <summary>
    /// Enumerates the labelled objects with a t2 class, in file-name order. <paramref name="skipped"/> counts the
    /// BTS types left out (no t2 class, or no label row).
    /// </summary>
    public static IEnumerable<LabelledLightCurve> Read(string folder, Dictionary<string, int> skipped)
    {
        var labelPath = Path.Combine(folder, LabelFile);
        if (!File.Exists(labelPath))
            throw new FileNotFoundException($"{labelPath} not found: --bts must name the ztf-bts-antares folder holding {LabelFile} and light-curves/", labelPath);
        var labels = ReadLabels(labelPath);
        var files = Directory.GetFiles(Path.Combine(folder, "light-curves"), "*.csv");
        Array.Sort(files, StringComparer.Ordinal);
        foreach (var file in files)
        {
            var id = Path.GetFileNameWithoutExtension(file);
            if (!labels.TryGetValue(id, out var type)) { Count(skipped, "(no label)"); continue; }
            var cls = MapType(type);
            if (cls is null) { Count(skipped, type); continue; }
            var lc = new LightCurve();
            if (ReadLightCurve(file, lc) is not null) { Count(skipped, "(unreadable)"); continue; }
            yield return new LabelledLightCurve(id, type, T2Classes.IndexOf(cls), lc);
        }
    }

    /// <summary>Every light-curve file of the folder (light-curves/*.csv) in file-name order; the label table is not read.</summary>
    public static IEnumerable<string> LightCurveFiles(string folder)
    {
        var files = Directory.GetFiles(Path.Combine(folder, "light-curves"), "*.csv");
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    private static void Count(Dictionary<string, int> d, string key) => d[key] = d.GetValueOrDefault(key) + 1;

    /// <summary>Splits a CSV line with double-quote quoting (the BTS table quotes some fields).</summary>
    /// <summary>CSV field splitter shared by the table commands.</summary>
    public static List<string> SplitCsvPublic(string line) => SplitCsv(line);

    internal static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
