using System.Formats.Tar;
using System.IO.Compression;
using Alerts.Core;
using Alerts.Tests.Shared;
using Avro.Generic;

namespace Alerts.Simulator.Tests;

/// <summary>Every written alert decodes with the real published schemas and carries the simulated true values.</summary>
public class AlertFormatTests
{
    private static readonly SimulationOptions Ztf = new() { Survey = Survey.Ztf, Objects = 28, Seed = 7, Balanced = true };

    [SharedDataFact]
    public void Ztf_container_alerts_decode_with_the_real_4_02_schema_and_hold_the_true_values()
    {
        var reader = TestSupport.RealSchema(Survey.Ztf, "4.02");
        var alerts = TestSupport.Alerts(Ztf);
        Assert.True(alerts.Count > 50, $"only {alerts.Count} alerts");
        foreach (var a in alerts)
        {
            var r = TestSupport.ReadOcf(a.Bytes, reader);
            var obj = a.Object;
            int i = Array.FindIndex(obj.Observations, o => obj.AlertId(Array.IndexOf(obj.Observations, o)) == a.AlertId);
            i = (int)(a.AlertId - obj.AlertId(0));
            var o = obj.Observations[i];
            Assert.Equal("4.02", r["schemavsn"]);
            Assert.Equal(obj.ObjectId, r["objectId"]);
            Assert.Equal(a.AlertId, (long)r["candid"]);
            var c = (GenericRecord)r["candidate"];
            Assert.Equal(o.Mjd + 2400000.5, (double)c["jd"]);
            Assert.Equal(o.Mag, (float)c["magpsf"]);
            Assert.Equal(o.MagErr, (float)c["sigmapsf"]);
            Assert.Equal(o.Visit.LimitingMag, (float)c["diffmaglim"]);
            Assert.Equal(o.Band switch { Band.ZtfG => 1, Band.ZtfR => 2, _ => 3 }, (int)c["fid"]);
            Assert.Equal(o.Flux >= 0 ? "t" : "f", c["isdiffpos"]);
            Assert.Equal(obj.Ra, (double)c["ra"]);
            // History: every observation in the 30 days before, in order; non-detections carry only the limit.
            var expected = obj.Observations.Take(i).Where(p => p.Mjd >= o.Mjd - 30).ToList();
            var prv = r["prv_candidates"] as object[] ?? [];
            Assert.Equal(expected.Count, prv.Length);
            for (int k = 0; k < prv.Length; k++)
            {
                var p = (GenericRecord)prv[k];
                Assert.Equal(expected[k].Mjd + 2400000.5, (double)p["jd"]);
                if (expected[k].Detected) Assert.Equal(expected[k].Mag, (float)p["magpsf"]!);
                else { Assert.Null(p["magpsf"]); Assert.Null(p["candid"]); Assert.Equal(expected[k].Visit.LimitingMag, (float)p["diffmaglim"]!); }
            }
            var fp = r["fp_hists"] as object[] ?? [];
            Assert.Equal(expected.Count, fp.Length);
            for (int k = 0; k < fp.Length; k++)
            {
                var f = (GenericRecord)fp[k];
                double nJy = (float)f["forcediffimflux"]! * Math.Pow(10, -0.4 * ((float)f["magzpsci"]! - 31.4));
                Assert.Equal(expected[k].Flux, nJy, Math.Abs(expected[k].Flux) * 1e-5 + 1e-3);
            }
            foreach (var cut in new[] { "cutoutScience", "cutoutTemplate", "cutoutDifference" })
            {
                var stamp = (byte[])((GenericRecord)r[cut])["stampData"];
                Assert.InRange(stamp.Length, 12_000, 22_000);
                using var gz = new GZipStream(new MemoryStream(stamp), CompressionMode.Decompress);
                var fits = new MemoryStream(); gz.CopyTo(fits);
                Assert.Equal(2880 * 7, fits.Length);
                Assert.StartsWith("SIMPLE  =                    T", System.Text.Encoding.ASCII.GetString(fits.ToArray(), 0, 80));
            }
        }
    }

    [SharedDataTheory]
    [InlineData("9.0", 900)]
    [InlineData("11.0", 1100)]
    public void Rubin_wire_alerts_decode_with_the_real_schema_consuming_every_byte(string version, int schemaId)
    {
        var writer = TestSupport.RealSchema(Survey.Lsst, version);
        var alerts = TestSupport.Alerts(new SimulationOptions { Survey = Survey.Lsst, Objects = 28, Seed = 3, Balanced = true, Format = AlertFormat.Wire, SchemaVersion = version }, 400);
        Assert.True(alerts.Count > 50);
        foreach (var a in alerts)
        {
            var r = TestSupport.ReadWire(a.Bytes, writer, schemaId);
            int i = (int)(a.AlertId - a.Object.AlertId(0));
            var o = a.Object.Observations[i];
            Assert.Equal(a.AlertId, (long)r["diaSourceId"]);
            var s = (GenericRecord)r["diaSource"];
            Assert.Equal(o.Mjd, (double)s["midpointMjdTai"]);
            Assert.Equal((float)o.Flux, (float)s["psfFlux"]!);
            Assert.Equal((float)o.FluxErr, (float)s["psfFluxErr"]!);
            Assert.Equal(o.Band.Name()[^1..], s["band"]);
            Assert.Equal(a.Object.DiaObjectId, (long)s["diaObjectId"]!);
            var prevDet = a.Object.Observations.Take(i).Where(p => p.Mjd >= o.Mjd - 365 && p.Detected).ToList();
            Assert.Equal(prevDet.Count, (r["prvDiaSources"] as object[] ?? []).Length);
            var forced = a.Object.Observations.Take(i).Where(p => p.Mjd >= o.Mjd - 365).ToList();
            var fr = r["prvDiaForcedSources"] as object[] ?? [];
            Assert.Equal(forced.Count, fr.Length);
            for (int k = 0; k < fr.Length; k++) Assert.Equal((float)forced[k].Flux, (float)((GenericRecord)fr[k])["psfFlux"]!);
            Assert.Equal(20160, ((byte[])r["cutoutScience"]).Length);
        }
    }

    [SharedDataTheory]
    [InlineData("9.0")]
    [InlineData("11.0")]
    public void Rubin_container_alerts_decode_with_the_real_schema(string version)
    {
        var reader = TestSupport.RealSchema(Survey.Lsst, version);
        foreach (var a in TestSupport.Alerts(new SimulationOptions { Survey = Survey.Lsst, Objects = 14, Seed = 5, Balanced = true, SchemaVersion = version }, 200))
        {
            var r = TestSupport.ReadOcf(a.Bytes, reader);
            Assert.Equal(a.AlertId, (long)r["diaSourceId"]);
        }
    }

    [SharedDataFact(Referee.PythonAvro)]
    public void Python_avro_reads_our_ztf_container_files_and_our_values()
    {
        var dir = Directory.CreateTempSubdirectory("sim-py").FullName;
        try
        {
            var alerts = TestSupport.Alerts(Ztf, 30);
            foreach (var a in alerts) File.WriteAllBytes(Path.Combine(dir, a.AlertId + ".avro"), a.Bytes);
            var script = "import sys,os,avro.datafile,avro.io\n" +
                         "for f in sorted(os.listdir(sys.argv[1])):\n" +
                         "  r=avro.datafile.DataFileReader(open(os.path.join(sys.argv[1],f),'rb'),avro.io.DatumReader())\n" +
                         "  for a in r: print(a['candid'], repr(a['candidate']['magpsf']), len(a['prv_candidates'] or []))\n";
            var stdout = DebianPython.Run(script, dir);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(alerts.Count, lines.Length);
            foreach (var a in alerts)
            {
                int i = (int)(a.AlertId - a.Object.AlertId(0));
                var line = lines.Single(l => l.StartsWith(a.AlertId + " "));
                var mag = double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(a.Object.Observations[i].Mag, (float)mag);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [SharedDataFact]
    public async Task Ztf_nightly_tarballs_hold_one_decodable_member_per_alert()
    {
        var dir = Directory.CreateTempSubdirectory("sim-tar").FullName;
        try
        {
            var o = Ztf with { Objects = 14, Format = AlertFormat.Tarball };
            var summary = await new AlertSimulator(o).WriteAsync(dir);
            var reader = TestSupport.RealSchema(Survey.Ztf, "4.02");
            long members = 0;
            foreach (var tgz in Directory.GetFiles(dir, "ztf_public_*.tar.gz"))
            {
                var night = Path.GetFileName(tgz)["ztf_public_".Length..^".tar.gz".Length];
                using var gz = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress);
                using var tar = new TarReader(gz);
                TarEntry? e;
                while ((e = tar.GetNextEntry()) is not null)
                {
                    var ms = new MemoryStream(); e.DataStream!.CopyTo(ms);
                    var r = TestSupport.ReadOcf(ms.ToArray(), reader);
                    Assert.Equal(e.Name, r["candid"] + ".avro");
                    Assert.Equal(night, AlertIdentity.NightOf((double)((GenericRecord)r["candidate"])["jd"] - 2400000.5));
                    members++;
                }
            }
            Assert.Equal(summary.Alerts, members);
        }
        finally { Directory.Delete(dir, true); }
    }
}
