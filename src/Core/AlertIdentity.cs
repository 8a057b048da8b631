namespace Alerts.Core;

/// <summary>
/// Who an alert is. <see cref="AlertId"/> is ZTF's candid, Rubin's diaSourceId (v8+) or alertId (v3-v7),
/// ELAsTiCC's alertId. <see cref="ObjectId"/> is ZTF's objectId ("ZTF18abcdefg") or Rubin's diaObjectId as text.
/// <see cref="Mjd"/> is the time of the triggering detection (MJD; TAI for Rubin, UTC-derived JD for ZTF).
/// </summary>
public sealed record AlertIdentity(
    Survey Survey,
    long AlertId,
    string ObjectId,
    double Ra,
    double Dec,
    double Mjd,
    string SchemaVersion)
{
    /// <summary>The observing night as YYYYMMDD, taken from the alert time in UTC (used for archive partitioning).</summary>
    public string Night => NightOf(Mjd);

    public static string NightOf(double mjd)
    {
        if (double.IsNaN(mjd) || double.IsInfinity(mjd)) return "00000000";
        var day = new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc).AddDays(Math.Floor(mjd));
        return day.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
    }
}
