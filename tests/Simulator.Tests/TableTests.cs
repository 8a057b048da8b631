using Alerts.Core;
using Alerts.Tables;

namespace Alerts.Simulator.Tests;

public class TableTests
{
    [Fact]
    public async Task Light_curve_tables_round_trip_through_csv_and_parquet_with_exact_values()
    {
        var dir = Directory.CreateTempSubdirectory("tables").FullName;
        try
        {
            var o = new SimulationOptions { Objects = 28, Seed = 8, Balanced = true, Format = AlertFormat.None };
            var summary = await new AlertSimulator(o).WriteAsync(dir);
            var truth = new AlertSimulator(o).Objects().ToDictionary(x => x.ObjectId);
            foreach (var file in new[] { "lightcurves.csv", "lightcurves.parquet" })
            {
                var read = LightCurveTableReader.Read(Path.Combine(dir, file)).ToList();
                Assert.Equal(28, read.Count);
                Assert.Equal(summary.LightCurveRows, read.Sum(r => (long)r.LightCurve.Count));
                foreach (var (id, lc) in read)
                {
                    var obs = truth[id].Observations;
                    Assert.Equal(obs.Length, lc.Count);
                    for (int i = 0; i < obs.Length; i++)
                    {
                        Assert.Equal(obs[i].Mjd, lc.Mjd[i]);
                        Assert.Equal(obs[i].Band, lc.Band[i]);
                        Assert.Equal((float)obs[i].Flux, lc.Flux[i]);
                        Assert.Equal((float)obs[i].FluxErr, lc.FluxErr[i]);
                        Assert.Equal(obs[i].Detected ? PointKind.Detection : PointKind.ForcedPhotometry, lc.Kind[i]);
                    }
                }
            }
            var labels = LabelTableWriter.ReadCsv(Path.Combine(dir, "labels.csv"));
            Assert.Equal(28, labels.Count);
            Assert.All(labels, l => Assert.Equal(truth[l["object_id"]].ClassName, l["class"]));
            Assert.True(File.Exists(Path.Combine(dir, "labels.parquet")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Readers_accept_magnitude_only_tables_with_short_band_names()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("magonly").FullName, "lc.csv");
        File.WriteAllText(path, "object_id,mjd,band,mag,mag_err\nA,60000.5,g,18.0,0.05\nA,60001.5,r,18.5,0.1\nB,60002.5,R,19.0,0.1\n");
        var read = LightCurveTableReader.Read(path, Survey.Ztf).ToList();
        Assert.Equal(["A", "B"], read.Select(r => r.ObjectId));
        var a = read[0].LightCurve;
        Assert.Equal(Band.ZtfG, a.Band[0]); Assert.Equal(Band.ZtfR, a.Band[1]);
        Assert.Equal((float)Photometry.MagToFlux(18.0), a.Flux[0]);
        Assert.Equal((float)Photometry.MagErrToFluxErr(Photometry.MagToFlux(18.0), 0.05), a.FluxErr[0]);
        Assert.Equal(PointKind.Detection, a.Kind[0]);
    }

    [Fact]
    public void A_table_without_a_band_column_is_rejected_with_the_file_and_field_named()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("bad").FullName, "lc.csv");
        File.WriteAllText(path, "object_id,mjd,flux,flux_err\nA,60000.5,100,10\n");
        var ex = Assert.Throws<InvalidDataException>(() => LightCurveTableReader.Read(path).ToList());
        Assert.Contains("lc.csv", ex.Message); Assert.Contains("band", ex.Message);
    }
}
