using System.Text.RegularExpressions;
using Alerts.Core;
using Alerts.Avro;

namespace Alerts.Ingest.Decoding;

/// <summary>
/// Rubin alerts (lsst.vX_Y.alert, 3.0 to 11.0), Fink's Spark-written Rubin files (topLevelRecord, v9 content) and,
/// through <see cref="ElasticcAlertDecoder"/>, ELAsTiCC 0.9/0.9.1. Fluxes are already nJy. Field names
/// changed in v5 (midPointTai→midpointMjdTai, filterName→band, psFlux→psfFlux, decl→dec): the projection asks
/// for both. The alert id is the top-level diaSourceId (v8+) or alertId (v3–v7, ELAsTiCC).
/// prvDiaNondetectionLimits rows become non-detections with flux 0 and σ = diaNoise.
/// </summary>
public class RubinAlertDecoder : SurveyMapper
{
    private const string Time = "midpointMjdTai|midPointTai", BandName = "band|filterName", Flux = "psfFlux|psFlux", FluxErr = "psfFluxErr|psFluxErr";

    private readonly ProjectionSpec _spec = new();
    private readonly int _alertId, _diaSourceIdTop, _sourceId, _objectId, _ra, _dec, _t, _band, _flux, _err, _lsstVersion;
    private readonly int _prv, _pT, _pBand, _pFlux, _pErr;
    private readonly int _forced, _fT, _fBand, _fFlux, _fErr;
    private readonly int _lim, _lT, _lBand, _lNoise;

    public static readonly RubinAlertDecoder Instance = new();

    protected RubinAlertDecoder()
    {
        _alertId = _spec.Column("alertId");
        _diaSourceIdTop = _spec.Column("diaSourceId");
        _lsstVersion = _spec.Column("lsst_schema_version");
        _sourceId = _spec.Column("diaSource.diaSourceId");
        _objectId = _spec.Column("diaSource.diaObjectId");
        _ra = _spec.Column("diaSource.ra");
        _dec = _spec.Column("diaSource.dec|decl");
        _t = _spec.Column("diaSource." + Time);
        _band = _spec.Column("diaSource." + BandName);
        _flux = _spec.Column("diaSource." + Flux);
        _err = _spec.Column("diaSource." + FluxErr);
        var prv = _spec.Table("prvDiaSources");
        _prv = prv.Index; _pT = prv.Column(Time); _pBand = prv.Column(BandName); _pFlux = prv.Column(Flux); _pErr = prv.Column(FluxErr);
        var forced = _spec.Table("prvDiaForcedSources");
        _forced = forced.Index; _fT = forced.Column(Time); _fBand = forced.Column(BandName); _fFlux = forced.Column(Flux); _fErr = forced.Column(FluxErr);
        var lim = _spec.Table("prvDiaNondetectionLimits");
        _lim = lim.Index; _lT = lim.Column(Time); _lBand = lim.Column(BandName); _lNoise = lim.Column("diaNoise");
    }

    public override string Name => "lsst";
    public override ProjectionSpec Spec => _spec;
    protected virtual Survey Survey => Survey.Lsst;

    public override bool CanMap(RecordSchema schema) =>
        (schema.Namespace.StartsWith("lsst", StringComparison.Ordinal) || schema.FullName == "topLevelRecord")
        && schema.Field("diaSource") is not null;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> SchemaNameVersions = new(StringComparer.Ordinal);
    private static readonly Regex VersionInName = new(@"v(\d+)_(\d+)(?:_(\d+))?", RegexOptions.Compiled);

    /// <summary>"lsst.v9_0" → "9.0", "elasticc.v0_9_1" → "0.9.1".</summary>
    public static string? VersionFromName(string name)
    {
        var m = VersionInName.Match(name);
        if (!m.Success) return null;
        return m.Groups[3].Success ? $"{m.Groups[1].Value}.{m.Groups[2].Value}.{m.Groups[3].Value}" : $"{m.Groups[1].Value}.{m.Groups[2].Value}";
    }

    [ThreadStatic] private static byte[]? _lastVersionField;
    [ThreadStatic] private static string? _lastVersion;

    /// <summary>Fink's lsst_schema_version ("lsst.v9_0") as "9.0"; the last value is kept so a stream of one version allocates nothing.</summary>
    private static string VersionFromField(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return "unknown";
        if (_lastVersionField is not null && utf8.SequenceEqual(_lastVersionField)) return _lastVersion!;
        var text = System.Text.Encoding.UTF8.GetString(utf8);
        _lastVersion = VersionFromName(text) ?? text;
        _lastVersionField = utf8.ToArray();
        return _lastVersion;
    }

    private static Band BandOf(in ProjectedValue v, ReadOnlySpan<byte> datum)
    {
        var s = v.Utf8(datum);
        if (s.Length != 1) return Band.Unknown;
        Span<char> c = stackalloc char[1];
        c[0] = (char)s[0];
        return Bands.FromLsstLetter(c);
    }

    public override MapFailure? Map(ProjectedRecord rec, ReadOnlySpan<byte> datum, CompiledProjection projection,
        LightCurve lc, DecodeCounters counters, out AlertIdentity? identity)
    {
        identity = null;
        var root = rec.Root;
        if (root[_t].IsMissing) return NullField("diaSource.midpointMjdTai (midPointTai before v5)");
        if (root[_flux].IsMissing) return NullField("diaSource.psfFlux (psFlux before v5)");
        if (root[_err].IsMissing) return NullField("diaSource.psfFluxErr (psFluxErr before v5)");
        long alertId = !root[_diaSourceIdTop].IsMissing ? root[_diaSourceIdTop].AsLong
            : !root[_alertId].IsMissing ? root[_alertId].AsLong
            : !root[_sourceId].IsMissing ? root[_sourceId].AsLong : long.MinValue;
        if (alertId == long.MinValue) return NullField("diaSourceId (alertId before v8)");

        double err = root[_err].AsDouble, flux = root[_flux].AsDouble;
        if (IsBadError(err) || double.IsNaN(flux))
            return new MapFailure("bad-flux", $"diaSource.psfFlux={flux} psfFluxErr={err}: the triggering diaSource has a NaN flux or a NaN/negative error; fix the producer");

        AddRows(rec.Tables[_prv], _pT, _pBand, _pFlux, _pErr, PointKind.Detection, datum, lc, counters);
        double mjd = root[_t].AsDouble;
        lc.Add(mjd, BandOf(root[_band], datum), (float)flux, (float)err, PointKind.Detection);
        AddRows(rec.Tables[_forced], _fT, _fBand, _fFlux, _fErr, PointKind.ForcedPhotometry, datum, lc, counters);
        var lim = rec.Tables[_lim];
        for (int i = 0; i < lim.Rows; i++)
        {
            double t = lim[i, _lT].AsDouble, noise = lim[i, _lNoise].AsDouble;
            if (double.IsNaN(t) || IsBadError(noise)) { counters.HistoryRowsSkipped++; continue; }
            lc.Add(t, BandOf(lim[i, _lBand], datum), 0f, (float)noise, PointKind.NonDetection);
        }
        lc.SortByTime();

        var schemaName = projection.WriterSchema.FullName;
        var version = SchemaNameVersions.GetOrAdd(schemaName, VersionFromName)
            ?? VersionFromField(root[_lsstVersion].Utf8(datum));
        var objectId = root[_objectId].IsMissing ? "" : root[_objectId].AsLong.ToString(System.Globalization.CultureInfo.InvariantCulture);
        identity = new AlertIdentity(Survey, alertId, objectId, root[_ra].AsDouble, root[_dec].AsDouble, mjd, version);
        return null;
    }

    private static void AddRows(ProjectedTable t, int ct, int cb, int cf, int ce, PointKind kind, ReadOnlySpan<byte> datum, LightCurve lc, DecodeCounters counters)
    {
        for (int i = 0; i < t.Rows; i++)
        {
            double time = t[i, ct].AsDouble, f = t[i, cf].AsDouble, e = t[i, ce].AsDouble;
            if (double.IsNaN(time) || double.IsNaN(f) || IsBadError(e)) { counters.HistoryRowsSkipped++; continue; }
            lc.Add(time, BandOf(t[i, cb], datum), (float)f, (float)e, kind);
        }
    }
}

/// <summary>ELAsTiCC 0.9 / 0.9.1 alerts: Rubin-shaped (v3-style names); fluxes taken as nJy like Rubin's.</summary>
public sealed class ElasticcAlertDecoder : RubinAlertDecoder
{
    public static new readonly ElasticcAlertDecoder Instance = new();

    private ElasticcAlertDecoder() { }

    public override string Name => "elasticc";
    protected override Survey Survey => Survey.Elasticc;

    public override bool CanMap(RecordSchema schema) =>
        schema.Namespace.StartsWith("elasticc", StringComparison.Ordinal) && schema.Field("diaSource") is not null;
}
