using Alerts.Core;
using Alerts.Avro;

namespace Alerts.Ingest.Decoding;

/// <summary>
/// ZTF alerts, schema 2.0 to 4.02 (record <c>ztf.alert</c> / <c>alert</c> in namespace <c>ztf</c>).
/// Detections: flux = ±10^(-0.4 (magpsf - 31.4)) nJy, sign from isdiffpos ('t'/'1' +, 'f'/'0' -),
/// σ = |flux|·sigmapsf·ln10/2.5. Non-detections (prv_candidates with only diffmaglim): flux 0,
/// σ = 10^(-0.4 (diffmaglim - 31.4))/5. fp_hists: nJy = forcediffimflux·10^(-0.4 (magzpsci - 31.4)); rows with a
/// null or -99999 flux are skipped and counted.
/// </summary>
public sealed class ZtfAlertDecoder : SurveyMapper
{
    public const double MissingFlux = -99999.0;

    private readonly ProjectionSpec _spec = new();
    private readonly int _objectId, _candid, _schemavsn, _jd, _fid, _magpsf, _sigmapsf, _isdiffpos, _diffmaglim, _ra, _dec;
    private readonly int _prv, _pJd, _pFid, _pMag, _pSig, _pDiffpos, _pLim;
    private readonly int _fp, _fJd, _fFid, _fFlux, _fFluxUnc, _fZp;

    public static readonly ZtfAlertDecoder Instance = new();

    private ZtfAlertDecoder()
    {
        _objectId = _spec.Column("objectId");
        _candid = _spec.Column("candid");
        _schemavsn = _spec.Column("schemavsn");
        _jd = _spec.Column("candidate.jd");
        _fid = _spec.Column("candidate.fid");
        _magpsf = _spec.Column("candidate.magpsf");
        _sigmapsf = _spec.Column("candidate.sigmapsf");
        _isdiffpos = _spec.Column("candidate.isdiffpos");
        _diffmaglim = _spec.Column("candidate.diffmaglim");
        _ra = _spec.Column("candidate.ra");
        _dec = _spec.Column("candidate.dec");
        var prv = _spec.Table("prv_candidates");
        _prv = prv.Index;
        _pJd = prv.Column("jd"); _pFid = prv.Column("fid"); _pMag = prv.Column("magpsf");
        _pSig = prv.Column("sigmapsf"); _pDiffpos = prv.Column("isdiffpos"); _pLim = prv.Column("diffmaglim");
        var fp = _spec.Table("fp_hists");
        _fp = fp.Index;
        _fJd = fp.Column("jd"); _fFid = fp.Column("fid"); _fFlux = fp.Column("forcediffimflux");
        _fFluxUnc = fp.Column("forcediffimfluxunc"); _fZp = fp.Column("magzpsci");
    }

    public override string Name => "ztf";
    public override ProjectionSpec Spec => _spec;

    public override bool CanMap(RecordSchema schema) =>
        (schema.FullName is "ztf.alert" || schema.Namespace.StartsWith("ztf", StringComparison.Ordinal))
        && schema.Field("candidate") is not null && schema.Field("objectId") is not null;

    /// <summary>Sign of a difference flux from isdiffpos: 't' or '1' positive, 'f' or '0' negative.</summary>
    public static int DiffSign(ReadOnlySpan<byte> isdiffpos) =>
        isdiffpos.Length > 0 && (isdiffpos[0] == (byte)'f' || isdiffpos[0] == (byte)'0') ? -1 : 1;

    public static double DetectionFlux(double magpsf, int sign) => sign * Photometry.MagToFlux(magpsf);

    public static double ForcedFluxToNanojansky(double forcediffimflux, double magzpsci) =>
        forcediffimflux * Math.Pow(10.0, -0.4 * (magzpsci - Photometry.NanojanskyZeroPoint));

    private static readonly string[] KnownVersions = ["2.0", "3.0", "3.1", "3.2", "3.3", "4.01", "4.02"];

    /// <summary>The schemavsn text without allocating for the known versions.</summary>
    private static string? InternVersion(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return null;
        foreach (var k in KnownVersions)
            if (utf8.Length == k.Length && System.Text.Ascii.Equals(utf8, k)) return k;
        return System.Text.Encoding.UTF8.GetString(utf8);
    }

    public override MapFailure? Map(ProjectedRecord rec, ReadOnlySpan<byte> datum, CompiledProjection projection,
        LightCurve lc, DecodeCounters counters, out AlertIdentity? identity)
    {
        identity = null;
        var root = rec.Root;
        if (root[_objectId].Kind != ValueKind.Bytes) return NullField("objectId");
        if (root[_candid].IsMissing) return NullField("candid");
        if (root[_jd].IsMissing) return NullField("candidate.jd");
        if (root[_fid].IsMissing) return NullField("candidate.fid");
        if (root[_magpsf].IsMissing) return NullField("candidate.magpsf");
        if (root[_sigmapsf].IsMissing) return NullField("candidate.sigmapsf");

        double sig = root[_sigmapsf].AsDouble, mag = root[_magpsf].AsDouble;
        if (IsBadError(sig) || double.IsNaN(mag))
            return new MapFailure("bad-flux", $"candidate.sigmapsf={sig} / candidate.magpsf={mag} is NaN or negative: the triggering detection has no usable flux; fix the producer");

        // History first, then the current point: points come out sorted by time after SortByTime.
        var prv = rec.Tables[_prv];
        for (int i = 0; i < prv.Rows; i++)
        {
            double jd = prv[i, _pJd].AsDouble;
            var band = Bands.FromZtfFid((int)prv[i, _pFid].AsLong);
            if (!prv[i, _pMag].IsMissing && !prv[i, _pSig].IsMissing)
            {
                double m = prv[i, _pMag].AsDouble, s = prv[i, _pSig].AsDouble;
                if (IsBadError(s) || double.IsNaN(m) || double.IsNaN(jd)) { counters.HistoryRowsSkipped++; continue; }
                double f = DetectionFlux(m, DiffSign(prv[i, _pDiffpos].Utf8(datum)));
                lc.Add(Photometry.JdToMjd(jd), band, (float)f, (float)Photometry.MagErrToFluxErr(f, s), PointKind.Detection);
            }
            else if (!prv[i, _pLim].IsMissing)
            {
                double lim = prv[i, _pLim].AsDouble;
                if (double.IsNaN(lim) || double.IsNaN(jd)) { counters.HistoryRowsSkipped++; continue; }
                lc.Add(Photometry.JdToMjd(jd), band, 0f, (float)Photometry.LimitingMagToSigma(lim), PointKind.NonDetection);
            }
            else counters.HistoryRowsSkipped++;
        }

        double cjd = root[_jd].AsDouble;
        double flux = DetectionFlux(mag, DiffSign(root[_isdiffpos].Utf8(datum)));
        var cband = Bands.FromZtfFid((int)root[_fid].AsLong);
        lc.Add(Photometry.JdToMjd(cjd), cband, (float)flux, (float)Photometry.MagErrToFluxErr(flux, sig), PointKind.Detection);

        var fp = rec.Tables[_fp];
        for (int i = 0; i < fp.Rows; i++)
        {
            ref readonly var fv = ref fp[i, _fFlux];
            ref readonly var uv = ref fp[i, _fFluxUnc];
            ref readonly var zv = ref fp[i, _fZp];
            double f = fv.AsDouble, u = uv.AsDouble, zp = zv.AsDouble;
            if (fv.IsMissing || uv.IsMissing || zv.IsMissing || f == MissingFlux || u == MissingFlux || IsBadError(u) || double.IsNaN(f) || double.IsNaN(zp))
            {
                counters.ForcedPhotometryRowsSkipped++;
                continue;
            }
            lc.Add(Photometry.JdToMjd(fp[i, _fJd].AsDouble), Bands.FromZtfFid((int)fp[i, _fFid].AsLong),
                (float)ForcedFluxToNanojansky(f, zp), (float)ForcedFluxToNanojansky(u, zp), PointKind.ForcedPhotometry);
        }
        lc.SortByTime();

        // The record's schemavsn wins over the header's "version" (fink-alert-simulator files say 3.1 in the
        // header and 3.2 in the record).
        var version = InternVersion(root[_schemavsn].Utf8(datum))
            ?? (projection.WriterSchema.Properties.TryGetValue("version", out var v) ? v : "unknown");
        identity = new AlertIdentity(Survey.Ztf, root[_candid].AsLong, root[_objectId].AsString(datum)!,
            root[_ra].AsDouble, root[_dec].AsDouble, Photometry.JdToMjd(cjd), version);
        return null;
    }
}
