using Alerts.Avro;
using Alerts.Core;
using Alerts.Simulator.Avro;

namespace Alerts.Simulator.Alerts;

/// <summary>
/// Encodes ZTF 4.02 alerts (Avro binary datum) for one detection of a simulated object: the candidate, 30 days of
/// prv_candidates (detections with full fields, non-detections with only the upper-limit fields, as ZTF sends them),
/// 30 days of fp_hists (forced photometry in DN scaled by magzpsci) and three gzipped-FITS cutouts.
/// Field values that a real alert carries but the simulator does not model (PS1 neighbours, shape parameters)
/// are set to plausible constants or left null.
/// </summary>
public sealed class ZtfAlertEncoder
{
    public const string SchemaVersion = "4.02";
    public const string Publisher = "ZTF (www.ztf.caltech.edu)";
    public const float MagZeroPoint = 26.3f;
    public const double HistoryDays = 30;

    private readonly RecordPlan _cand, _prv, _fp;
    private readonly RecordValues _cv, _pv, _fv;
    private readonly StampPool _stamps;
    private readonly RecordCache _prvCache = new(), _fpCache = new();
    private readonly Action<AvroBinaryWriter, int> _encodePrv, _encodeFp;
    private SimulatedObject? _current;
    public SchemaSet Schemas { get; }

    // candidate / prv_candidate slots
    private readonly int cJd, cFid, cPid, cDiffmaglim, cProgrampi, cProgramid, cCandid, cIsdiffpos, cTblid, cNid, cRcid, cField, cXpos, cYpos,
        cRa, cDec, cMagpsf, cSigmapsf, cChipsf, cMagap, cSigmagap, cDistnr, cMagnr, cSigmagnr, cChinr, cSharpnr, cSky, cMagdiff, cFwhm, cClasstar,
        cMindtoedge, cMagfromlim, cSeeratio, cAimage, cBimage, cElong, cNneg, cNbad, cRb, cSsdistnr, cSsmagnr, cSumrat, cRanr, cDecnr,
        cSgscore1, cDistpsnr1, cNdethist, cNcovhist, cJdstarthist, cJdendhist, cScorr, cTooflag, cNmtchps, cRfid, cJdstartref, cJdendref,
        cNframesref, cRbversion, cMagzpsci, cMagzpsciunc, cMagzpscirms, cNmatches, cClrcoeff, cClrcounc, cExptime, cDrb, cDrbversion, cSrmag1, cSgmag1;
    private readonly int pJd, pFid, pPid, pDiffmaglim, pProgramid, pCandid, pIsdiffpos, pNid, pRcid, pField, pXpos, pYpos, pRa, pDec, pMagpsf,
        pSigmapsf, pRb, pDistnr, pMagnr, pSigmagnr, pRanr, pDecnr, pMagzpsci, pRbversion, pMagap, pSigmagap, pFwhm, pScorr;
    private readonly int fField, fRcid, fFid, fPid, fRfid, fMagzpsci, fMagzpsciunc, fExptime, fDiffmaglim, fProgramid, fJd, fFlux, fFluxunc,
        fProcstatus, fDistnr, fRanr, fDecnr, fMagnr, fSigmagnr, fSeeing, fBckgnd, fSigpix;

    public ZtfAlertEncoder(StampPool stamps, SchemaSet? schemas = null)
    {
        Schemas = schemas ?? SchemaSet.Ztf402();
        _stamps = stamps;
        _cand = Schemas.Plan("ztf.alert.candidate"); _prv = Schemas.Plan("ztf.alert.prv_candidate"); _fp = Schemas.Plan("ztf.alert.fp_hist");
        _cv = _cand.NewValues(); _pv = _prv.NewValues(); _fv = _fp.NewValues();
        _encodePrv = (w, k) => WritePrv(w, _current!, k);
        _encodeFp = (w, k) => WriteFp(w, _current!, k);
        int C(string n) => _cand.Slot(n); int P(string n) => _prv.Slot(n); int F(string n) => _fp.Slot(n);
        cJd = C("jd"); cFid = C("fid"); cPid = C("pid"); cDiffmaglim = C("diffmaglim"); cProgrampi = C("programpi"); cProgramid = C("programid");
        cCandid = C("candid"); cIsdiffpos = C("isdiffpos"); cTblid = C("tblid"); cNid = C("nid"); cRcid = C("rcid"); cField = C("field");
        cXpos = C("xpos"); cYpos = C("ypos"); cRa = C("ra"); cDec = C("dec"); cMagpsf = C("magpsf"); cSigmapsf = C("sigmapsf"); cChipsf = C("chipsf");
        cMagap = C("magap"); cSigmagap = C("sigmagap"); cDistnr = C("distnr"); cMagnr = C("magnr"); cSigmagnr = C("sigmagnr"); cChinr = C("chinr");
        cSharpnr = C("sharpnr"); cSky = C("sky"); cMagdiff = C("magdiff"); cFwhm = C("fwhm"); cClasstar = C("classtar"); cMindtoedge = C("mindtoedge");
        cMagfromlim = C("magfromlim"); cSeeratio = C("seeratio"); cAimage = C("aimage"); cBimage = C("bimage"); cElong = C("elong"); cNneg = C("nneg");
        cNbad = C("nbad"); cRb = C("rb"); cSsdistnr = C("ssdistnr"); cSsmagnr = C("ssmagnr"); cSumrat = C("sumrat"); cRanr = C("ranr"); cDecnr = C("decnr");
        cSgscore1 = C("sgscore1"); cDistpsnr1 = C("distpsnr1"); cNdethist = C("ndethist"); cNcovhist = C("ncovhist"); cJdstarthist = C("jdstarthist");
        cJdendhist = C("jdendhist"); cScorr = C("scorr"); cTooflag = C("tooflag"); cNmtchps = C("nmtchps"); cRfid = C("rfid"); cJdstartref = C("jdstartref");
        cJdendref = C("jdendref"); cNframesref = C("nframesref"); cRbversion = C("rbversion"); cMagzpsci = C("magzpsci"); cMagzpsciunc = C("magzpsciunc");
        cMagzpscirms = C("magzpscirms"); cNmatches = C("nmatches"); cClrcoeff = C("clrcoeff"); cClrcounc = C("clrcounc"); cExptime = C("exptime");
        cDrb = C("drb"); cDrbversion = C("drbversion"); cSrmag1 = C("srmag1"); cSgmag1 = C("sgmag1");
        pJd = P("jd"); pFid = P("fid"); pPid = P("pid"); pDiffmaglim = P("diffmaglim"); pProgramid = P("programid"); pCandid = P("candid");
        pIsdiffpos = P("isdiffpos"); pNid = P("nid"); pRcid = P("rcid"); pField = P("field"); pXpos = P("xpos"); pYpos = P("ypos"); pRa = P("ra");
        pDec = P("dec"); pMagpsf = P("magpsf"); pSigmapsf = P("sigmapsf"); pRb = P("rb"); pDistnr = P("distnr"); pMagnr = P("magnr");
        pSigmagnr = P("sigmagnr"); pRanr = P("ranr"); pDecnr = P("decnr"); pMagzpsci = P("magzpsci"); pRbversion = P("rbversion");
        pMagap = P("magap"); pSigmagap = P("sigmagap"); pFwhm = P("fwhm"); pScorr = P("scorr");
        fField = F("field"); fRcid = F("rcid"); fFid = F("fid"); fPid = F("pid"); fRfid = F("rfid"); fMagzpsci = F("magzpsci");
        fMagzpsciunc = F("magzpsciunc"); fExptime = F("exptime"); fDiffmaglim = F("diffmaglim"); fProgramid = F("programid"); fJd = F("jd");
        fFlux = F("forcediffimflux"); fFluxunc = F("forcediffimfluxunc"); fProcstatus = F("procstatus"); fDistnr = F("distnr"); fRanr = F("ranr");
        fDecnr = F("decnr"); fMagnr = F("magnr"); fSigmagnr = F("sigmagnr"); fSeeing = F("sciinpseeing"); fBckgnd = F("scibckgnd"); fSigpix = F("scisigpix");
    }

    public static int Fid(Band b) => b switch { Band.ZtfG => 1, Band.ZtfR => 2, Band.ZtfI => 3, _ => 0 };
    public static double Jd(double mjd) => mjd + 2400000.5;
    public static int Nid(double mjd) => (int)Math.Floor(mjd - 58000) + 300;
    public static long Pid(in Observation o) => (long)Nid(o.Mjd) * 1_000_000_000L + (long)(Math.Round((o.Mjd - Math.Floor(o.Mjd)) * 86400)) * 100 + Fid(o.Band) * 10;
    public static long Rfid(in Observation o) => 100_000_000L + o.Visit.Field * 1000L + o.Visit.Rcid * 10 + Fid(o.Band);

    /// <summary>Forced-photometry flux in DN for a given zero point: flux_nJy = DN · 10^(−0.4 (magzpsci − 31.4)).</summary>
    public static float ToDn(double nJy) => (float)(nJy * Math.Pow(10, -0.4 * (Photometry.NanojanskyZeroPoint - MagZeroPoint)));

    /// <summary>Writes the Avro datum of the alert for detection <paramref name="i"/> of <paramref name="obj"/>.</summary>
    public void WriteDatum(AvroBinaryWriter w, SimulatedObject obj, int i)
    {
        var obs = obj.Observations;
        ref readonly var o = ref obs[i];
        long candid = obj.AlertId(i);
        _current = obj; _prvCache.Bind(obj); _fpCache.Bind(obj);
        w.WriteString(SchemaVersion);
        w.WriteString(Publisher);
        w.WriteString(obj.ObjectId);
        w.WriteLong(candid);

        // History window: [t − 30 d, t).
        int first = i;
        while (first > 0 && obs[first - 1].Mjd >= o.Mjd - HistoryDays) first--;
        int ndethist = 0, ncovhist = 0; double jdStart = double.NaN;
        for (int k = 0; k <= i; k++)
        {
            ncovhist++;
            if (obs[k].Detected) { ndethist++; if (double.IsNaN(jdStart)) jdStart = Jd(obs[k].Mjd); }
        }
        double refMag = ReferenceMag(obj, o.Band);

        var c = _cv; c.Clear();
        c.Set(cJd, Jd(o.Mjd)); c.Set(cFid, Fid(o.Band)); c.SetLong(cPid, Pid(o)); c.Set(cDiffmaglim, o.Visit.LimitingMag);
        c.SetString(cProgrampi, "Kulkarni"); c.Set(cProgramid, 1); c.SetLong(cCandid, candid); c.SetString(cIsdiffpos, o.Flux >= 0 ? "t" : "f");
        c.SetLong(cTblid, i % 40); c.Set(cNid, Nid(o.Mjd)); c.Set(cRcid, o.Visit.Rcid); c.Set(cField, o.Visit.Field);
        c.Set(cXpos, 1500 + (obj.Index * 37 % 1000)); c.Set(cYpos, 1500 + (obj.Index * 53 % 1000));
        c.Set(cRa, obj.Ra); c.Set(cDec, obj.Dec); c.Set(cMagpsf, o.Mag); c.Set(cSigmapsf, o.MagErr); c.Set(cChipsf, 1.1);
        c.Set(cMagap, o.Mag + 0.02); c.Set(cSigmagap, o.MagErr * 1.2); c.Set(cFwhm, 2.1); c.Set(cClasstar, IsStellar(obj) ? 0.98 : 0.5);
        c.Set(cMindtoedge, 400); c.Set(cMagfromlim, o.Visit.LimitingMag - o.Mag); c.Set(cSeeratio, 1.0); c.Set(cAimage, 0.9); c.Set(cBimage, 0.8);
        c.Set(cElong, 1.1); c.Set(cNneg, 5); c.Set(cNbad, 0); c.Set(cRb, 0.85); c.Set(cSumrat, 1.0); c.Set(cSky, 0.1); c.Set(cMagdiff, 0.02);
        c.Set(cSsdistnr, -999); c.Set(cSsmagnr, -999);
        if (!double.IsNaN(refMag))
        {
            c.Set(cDistnr, 0.15); c.Set(cMagnr, refMag); c.Set(cSigmagnr, 0.02); c.Set(cChinr, 0.8); c.Set(cSharpnr, 0.0);
        }
        else { c.Set(cDistnr, 0.6); c.Set(cMagnr, 20.9); c.Set(cSigmagnr, 0.1); c.Set(cChinr, 2.0); c.Set(cSharpnr, 0.3); }
        c.Set(cRanr, obj.Ra); c.Set(cDecnr, obj.Dec);
        c.Set(cSgscore1, IsStellar(obj) ? 0.98 : 0.03); c.Set(cDistpsnr1, IsStellar(obj) ? 0.1 : 0.8);
        c.Set(cSrmag1, double.IsNaN(refMag) ? 20.5 : refMag); c.Set(cSgmag1, double.IsNaN(refMag) ? 21.0 : refMag + 0.5);
        c.Set(cNdethist, ndethist); c.Set(cNcovhist, ncovhist); c.Set(cJdstarthist, jdStart); c.Set(cJdendhist, Jd(o.Mjd));
        c.Set(cScorr, Math.Abs(o.Flux) / o.FluxErr); c.Set(cTooflag, 0); c.Set(cNmtchps, 3); c.SetLong(cRfid, Rfid(o));
        c.Set(cJdstartref, 2458150.5); c.Set(cJdendref, 2458300.5); c.Set(cNframesref, 15); c.SetString(cRbversion, "t17_f5_c3");
        c.Set(cMagzpsci, MagZeroPoint); c.Set(cMagzpsciunc, 1e-5); c.Set(cMagzpscirms, 0.03); c.Set(cNmatches, 800);
        c.Set(cClrcoeff, -0.05); c.Set(cClrcounc, 1e-5); c.Set(cExptime, 30); c.Set(cDrb, 0.99); c.SetString(cDrbversion, "d6_m7");
        _cand.Write(w, c);

        // prv_candidates
        int nPrv = i - first;
        if (nPrv == 0) w.WriteUnionIndex(0);
        else
        {
            w.WriteUnionIndex(1);
            w.WriteLong(nPrv);
            for (int k = first; k < i; k++) _prvCache.CopyTo(w, k, _encodePrv);
            w.WriteLong(0);
        }
        // fp_hists: forced photometry at every epoch of the window (including epochs without a detection)
        if (nPrv == 0) w.WriteUnionIndex(0);
        else
        {
            w.WriteUnionIndex(1);
            w.WriteLong(nPrv);
            for (int k = first; k < i; k++) _fpCache.CopyTo(w, k, _encodeFp);
            w.WriteLong(0);
        }
        // cutouts: [null, cutout] each, cutout = {fileName, stampData}
        long pid = Pid(o);
        WriteCutout(w, candid, pid, "scimref", _stamps.Science(candid));
        WriteCutout(w, candid, pid, "ref", _stamps.Template(candid));
        WriteCutout(w, candid, pid, "scimrefdiffimg", _stamps.Difference(candid));
    }

    private static bool IsStellar(SimulatedObject obj) => !Physics.ClassCatalog.IsExtragalactic(obj.ClassName) || obj.ClassName == "AGN";

    /// <summary>Magnitude of the reference-image counterpart (variables: the star; transients: none).</summary>
    private static double ReferenceMag(SimulatedObject obj, Band b)
    {
        double f = obj.Source.ReferenceFlux(b);
        return f > 0 ? Photometry.FluxToMag(f) : double.NaN;
    }

    private void WritePrv(AvroBinaryWriter w, SimulatedObject obj, int k)
    {
        ref readonly var o = ref obj.Observations[k];
        double refMag = ReferenceMag(obj, o.Band);
        var p = _pv; p.Clear();
        p.Set(pJd, Jd(o.Mjd)); p.Set(pFid, Fid(o.Band)); p.SetLong(pPid, Pid(o)); p.Set(pDiffmaglim, o.Visit.LimitingMag); p.Set(pProgramid, 1);
        p.Set(pNid, Nid(o.Mjd)); p.Set(pRcid, o.Visit.Rcid); p.Set(pField, o.Visit.Field); p.SetString(pRbversion, "t17_f5_c3");
        p.Set(pMagzpsci, MagZeroPoint);
        if (o.Detected)
        {
            p.SetLong(pCandid, obj.AlertId(k)); p.SetString(pIsdiffpos, o.Flux >= 0 ? "t" : "f");
            p.Set(pXpos, 1500 + (obj.Index * 37 % 1000)); p.Set(pYpos, 1500 + (obj.Index * 53 % 1000));
            p.Set(pRa, obj.Ra); p.Set(pDec, obj.Dec); p.Set(pMagpsf, o.Mag); p.Set(pSigmapsf, o.MagErr); p.Set(pRb, 0.85);
            p.Set(pMagap, o.Mag + 0.02); p.Set(pSigmagap, o.MagErr * 1.2); p.Set(pFwhm, 2.1); p.Set(pScorr, Math.Abs(o.Flux) / o.FluxErr);
            p.Set(pRanr, obj.Ra); p.Set(pDecnr, obj.Dec);
            if (!double.IsNaN(refMag)) { p.Set(pDistnr, 0.15); p.Set(pMagnr, refMag); p.Set(pSigmagnr, 0.02); }
        }
        _prv.Write(w, p);
    }

    private void WriteFp(AvroBinaryWriter w, SimulatedObject obj, int k)
    {
        ref readonly var o = ref obj.Observations[k];
        double refMag = ReferenceMag(obj, o.Band);
        var f = _fv; f.Clear();
        f.Set(fField, o.Visit.Field); f.Set(fRcid, o.Visit.Rcid); f.Set(fFid, Fid(o.Band)); f.SetLong(fPid, Pid(o)); f.SetLong(fRfid, Rfid(o));
        f.Set(fSeeing, 2.0); f.Set(fBckgnd, 150); f.Set(fSigpix, 8);
        f.Set(fMagzpsci, MagZeroPoint); f.Set(fMagzpsciunc, 1e-5); f.Set(fExptime, 30); f.Set(fDiffmaglim, o.Visit.LimitingMag); f.Set(fProgramid, 1);
        f.Set(fJd, Jd(o.Mjd)); f.Set(fFlux, ToDn(o.Flux)); f.Set(fFluxunc, ToDn(o.FluxErr)); f.SetString(fProcstatus, "0");
        f.Set(fDistnr, double.IsNaN(refMag) ? 0.6 : 0.15); f.Set(fRanr, obj.Ra); f.Set(fDecnr, obj.Dec);
        if (!double.IsNaN(refMag)) { f.Set(fMagnr, refMag); f.Set(fSigmagnr, 0.02); }
        _fp.Write(w, f);
    }

    private static void WriteCutout(AvroBinaryWriter w, long candid, long pid, string kind, ReadOnlySpan<byte> stamp)
    {
        w.WriteUnionIndex(1);
        Span<char> name = stackalloc char[96];
        // e.g. candid2000000000000001234_pid1234567890123_targ_scimref.fits.gz
        int n = 0;
        "candid".AsSpan().CopyTo(name); n += 6;
        candid.TryFormat(name[n..], out int a); n += a;
        "_pid".AsSpan().CopyTo(name[n..]); n += 4;
        pid.TryFormat(name[n..], out a); n += a;
        "_targ_".AsSpan().CopyTo(name[n..]); n += 6;
        kind.AsSpan().CopyTo(name[n..]); n += kind.Length;
        ".fits.gz".AsSpan().CopyTo(name[n..]); n += 8;
        w.WriteAsciiString(name[..n]);
        w.WriteBytes(stamp);
    }
}
