using Alerts.Avro;
using Alerts.Core;
using Alerts.Simulator.Avro;

namespace Alerts.Simulator.Alerts;

/// <summary>
/// Encodes Rubin alerts (lsst.v9_0 or lsst.v11_0) for one detection: the triggering diaSource, up to 12 months of
/// prvDiaSources (earlier detections) and prvDiaForcedSources (forced photometry at every earlier visit), the
/// diaObject summary (per-band mean fluxes so far) and three uncompressed FITS cutouts. Fluxes are nJy, times MJD TAI.
/// </summary>
public sealed class LsstAlertEncoder
{
    public const double HistoryDays = 365;
    private readonly RecordPlan _src, _forced, _obj;
    private readonly RecordValues _sv, _fv, _ov;
    private readonly StampPool _stamps;
    private readonly RecordCache _srcCache = new(), _forcedCache = new();
    private readonly Action<AvroBinaryWriter, int> _encodeSrc, _encodeForced;
    private SimulatedObject? _current;
    public SchemaSet Schemas { get; }
    public string Version { get; }
    /// <summary>Confluent schema-registry id: major·100 + minor (900, 1100).</summary>
    public int SchemaId { get; }

    private readonly int sId, sVisit, sDetector, sObjId, sMjd, sRa, sDec, sRaErr, sDecErr, sX, sY, sSnr, sFlux, sFluxErr, sSciFlux, sSciFluxErr,
        sTplFlux, sTplFluxErr, sBand, sReliability, sExtendedness, sIsNegative, sProcessed, sPsfNdata, sTrailNdata, sDipoleNdata, sBbox, sApFlux, sApFluxErr;
    private readonly int fId, fObjId, fRa, fDec, fVisit, fDetector, fFlux, fFluxErr, fMjd, fSciFlux, fSciFluxErr, fBand, fProcessed;
    private readonly int oId, oValidity, oRa, oDec, oFirst, oLast, oN;
    private readonly int[] oMean = new int[6], oMeanErr = new int[6], oSigma = new int[6], oNdata = new int[6], oMin = new int[6], oMax = new int[6];
    private static readonly string[] Letters = ["u", "g", "r", "i", "z", "y"];

    public LsstAlertEncoder(string version, StampPool stamps)
    {
        Version = version;
        Schemas = SchemaSet.Lsst(version);
        SchemaId = version == "9.0" ? 900 : 1100;
        string ns = version == "9.0" ? "lsst.v9_0" : "lsst.v11_0";
        _stamps = stamps;
        _src = Schemas.Plan(ns + ".diaSource"); _forced = Schemas.Plan(ns + ".diaForcedSource"); _obj = Schemas.Plan(ns + ".diaObject");
        _sv = _src.NewValues(); _fv = _forced.NewValues(); _ov = _obj.NewValues();
        _encodeSrc = (w, k) => WriteSource(w, _current!, k);
        _encodeForced = (w, k) => WriteForced(w, _current!, k);
        int S(string n) => _src.Slot(n); int F(string n) => _forced.Slot(n); int O(string n) => _obj.Slot(n);
        sId = S("diaSourceId"); sVisit = S("visit"); sDetector = S("detector"); sObjId = S("diaObjectId"); sMjd = S("midpointMjdTai");
        sRa = S("ra"); sDec = S("dec"); sRaErr = S("raErr"); sDecErr = S("decErr"); sX = S("x"); sY = S("y"); sSnr = S("snr");
        sFlux = S("psfFlux"); sFluxErr = S("psfFluxErr"); sSciFlux = S("scienceFlux"); sSciFluxErr = S("scienceFluxErr");
        sTplFlux = S("templateFlux"); sTplFluxErr = S("templateFluxErr"); sBand = S("band"); sReliability = S("reliability");
        sExtendedness = S("extendedness"); sIsNegative = S("isNegative"); sProcessed = S("timeProcessedMjdTai"); sPsfNdata = S("psfNdata");
        sTrailNdata = S("trailNdata"); sDipoleNdata = S("dipoleNdata"); sBbox = S("bboxSize"); sApFlux = S("apFlux"); sApFluxErr = S("apFluxErr");
        fId = F("diaForcedSourceId"); fObjId = F("diaObjectId"); fRa = F("ra"); fDec = F("dec"); fVisit = F("visit"); fDetector = F("detector");
        fFlux = F("psfFlux"); fFluxErr = F("psfFluxErr"); fMjd = F("midpointMjdTai"); fSciFlux = F("scienceFlux"); fSciFluxErr = F("scienceFluxErr");
        fBand = F("band"); fProcessed = F("timeProcessedMjdTai");
        oId = O("diaObjectId"); oValidity = O("validityStartMjdTai"); oRa = O("ra"); oDec = O("dec"); oFirst = O("firstDiaSourceMjdTai");
        oLast = O("lastDiaSourceMjdTai"); oN = O("nDiaSources");
        for (int b = 0; b < 6; b++)
        {
            var l = Letters[b];
            oMean[b] = O(l + "_psfFluxMean"); oMeanErr[b] = O(l + "_psfFluxMeanErr"); oSigma[b] = O(l + "_psfFluxSigma");
            oNdata[b] = O(l + "_psfFluxNdata"); oMin[b] = O(l + "_psfFluxMin"); oMax[b] = O(l + "_psfFluxMax");
        }
    }

    public static string Letter(Band b) => b switch
    {
        Band.LsstU => "u", Band.LsstG => "g", Band.LsstR => "r", Band.LsstI => "i", Band.LsstZ => "z", Band.LsstY => "y", _ => "r",
    };

    private static long Visit(in Observation o) => o.Visit.ExposureId;
    private static int Detector(SimulatedObject obj) => (int)(obj.Index % 189);

    public void WriteDatum(AvroBinaryWriter w, SimulatedObject obj, int i)
    {
        var obs = obj.Observations;
        ref readonly var o = ref obs[i];
        long id = obj.AlertId(i);
        _current = obj; _srcCache.Bind(obj); _forcedCache.Bind(obj);
        w.WriteLong(id);
        w.WriteUnionIndex(1); w.WriteString("wfd");          // observation_reason
        w.WriteUnionIndex(1); w.WriteString("lowdust");      // target_name
        _srcCache.CopyTo(w, i, _encodeSrc);

        int first = i;
        while (first > 0 && obs[first - 1].Mjd >= o.Mjd - HistoryDays) first--;
        int nDet = 0;
        for (int k = first; k < i; k++) if (obs[k].Detected) nDet++;
        if (nDet == 0) w.WriteUnionIndex(0);
        else
        {
            w.WriteUnionIndex(1); w.WriteLong(nDet);
            for (int k = first; k < i; k++) if (obs[k].Detected) _srcCache.CopyTo(w, k, _encodeSrc);
            w.WriteLong(0);
        }
        int nForced = i - first;
        if (nForced == 0) w.WriteUnionIndex(0);
        else
        {
            w.WriteUnionIndex(1); w.WriteLong(nForced);
            for (int k = first; k < i; k++) _forcedCache.CopyTo(w, k, _encodeForced);
            w.WriteLong(0);
        }
        w.WriteUnionIndex(1); WriteObject(w, obj, i);
        w.WriteUnionIndex(0); // ssSource
        w.WriteUnionIndex(0); // MPCORB / mpc_orbits
        w.WriteUnionIndex(1); w.WriteBytes(_stamps.Difference(id));
        w.WriteUnionIndex(1); w.WriteBytes(_stamps.Science(id));
        w.WriteUnionIndex(1); w.WriteBytes(_stamps.Template(id));
    }

    private void WriteSource(AvroBinaryWriter w, SimulatedObject obj, int k)
    {
        ref readonly var o = ref obj.Observations[k];
        var s = _sv; s.Clear();
        double refFlux = obj.Source.ReferenceFlux(o.Band);
        s.SetLong(sId, obj.AlertId(k)); s.SetLong(sVisit, Visit(o)); s.Set(sDetector, Detector(obj)); s.SetLong(sObjId, obj.DiaObjectId);
        s.Set(sMjd, o.Mjd); s.Set(sRa, obj.Ra); s.Set(sDec, obj.Dec); s.Set(sRaErr, 2e-5); s.Set(sDecErr, 2e-5);
        s.Set(sX, 200 + obj.Index * 7 % 3800); s.Set(sY, 200 + obj.Index * 11 % 3800);
        s.Set(sSnr, Math.Abs(o.Flux) / o.FluxErr); s.Set(sFlux, o.Flux); s.Set(sFluxErr, o.FluxErr);
        s.Set(sApFlux, o.Flux * 0.98); s.Set(sApFluxErr, o.FluxErr * 1.1);
        s.Set(sSciFlux, o.Flux + refFlux); s.Set(sSciFluxErr, o.FluxErr * 1.05); s.Set(sTplFlux, refFlux); s.Set(sTplFluxErr, o.FluxErr * 0.3);
        s.SetString(sBand, Letter(o.Band)); s.Set(sReliability, 0.93); s.Set(sExtendedness, IsPointLike(obj) ? 0.0 : 0.4);
        s.Set(sIsNegative, o.Flux < 0 ? 1 : 0); s.Set(sProcessed, o.Mjd + 0.0015); s.Set(sPsfNdata, 441); s.Set(sTrailNdata, 0);
        s.Set(sDipoleNdata, 0); s.Set(sBbox, 21);
        _src.Write(w, s);
    }

    private static bool IsPointLike(SimulatedObject obj) => !Physics.ClassCatalog.IsExtragalactic(obj.ClassName);

    private void WriteForced(AvroBinaryWriter w, SimulatedObject obj, int k)
    {
        ref readonly var o = ref obj.Observations[k];
        var f = _fv; f.Clear();
        double refFlux = obj.Source.ReferenceFlux(o.Band);
        f.SetLong(fId, obj.AlertId(k) + 500_000); f.SetLong(fObjId, obj.DiaObjectId); f.Set(fRa, obj.Ra); f.Set(fDec, obj.Dec);
        f.SetLong(fVisit, Visit(o)); f.Set(fDetector, Detector(obj)); f.Set(fFlux, o.Flux); f.Set(fFluxErr, o.FluxErr); f.Set(fMjd, o.Mjd);
        f.Set(fSciFlux, o.Flux + refFlux); f.Set(fSciFluxErr, o.FluxErr * 1.05); f.SetString(fBand, Letter(o.Band)); f.Set(fProcessed, o.Mjd + 0.0015);
        _forced.Write(w, f);
    }

    private void WriteObject(AvroBinaryWriter w, SimulatedObject obj, int i)
    {
        var obs = obj.Observations;
        var v = _ov; v.Clear();
        v.SetLong(oId, obj.DiaObjectId); v.Set(oRa, obj.Ra); v.Set(oDec, obj.Dec);
        Span<double> sum = stackalloc double[6], sum2 = stackalloc double[6], wsum = stackalloc double[6], min = stackalloc double[6], max = stackalloc double[6];
        Span<int> n = stackalloc int[6];
        min.Fill(double.PositiveInfinity); max.Fill(double.NegativeInfinity);
        double firstDet = double.NaN, lastDet = double.NaN; int nDet = 0;
        for (int k = 0; k <= i; k++)
        {
            ref readonly var o = ref obs[k];
            if (!o.Detected) continue;
            int b = (int)o.Band - (int)Band.LsstU;
            double wt = 1 / (o.FluxErr * o.FluxErr);
            sum[b] += o.Flux * wt; wsum[b] += wt; sum2[b] += o.Flux * o.Flux; n[b]++;
            min[b] = Math.Min(min[b], o.Flux); max[b] = Math.Max(max[b], o.Flux);
            if (double.IsNaN(firstDet)) firstDet = o.Mjd;
            lastDet = o.Mjd; nDet++;
        }
        v.Set(oValidity, obs[i].Mjd);
        for (int b = 0; b < 6; b++)
        {
            v.Set(oNdata[b], n[b]);
            if (n[b] == 0) continue;
            double mean = sum[b] / wsum[b];
            v.Set(oMean[b], mean); v.Set(oMeanErr[b], 1 / Math.Sqrt(wsum[b]));
            v.Set(oSigma[b], Math.Sqrt(Math.Max(sum2[b] / n[b] - mean * mean, 0)));
            v.Set(oMin[b], min[b]); v.Set(oMax[b], max[b]);
        }
        v.Set(oFirst, firstDet); v.Set(oLast, lastDet); v.Set(oN, nDet);
        _obj.Write(w, v);
    }
}
