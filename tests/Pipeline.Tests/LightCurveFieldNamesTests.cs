using System.Globalization;
using Alerts.Core;
using Alerts.Tables;
using CsCheck;
using Parquet;
using Parquet.Schema;

namespace Alerts.Pipeline.Tests;

/// <summary>Light-curve tables in the surveys' and brokers' own column names read as the same light curves as the table's own names.</summary>
public sealed class LightCurveFieldNamesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lc-names-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string R(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertSame(IReadOnlyList<(string Id, LightCurve Lc)> expected, IReadOnlyList<(string Id, LightCurve Lc)> actual)
    {
        Assert.Equal(expected.Select(e => e.Id), actual.Select(a => a.Id));
        for (int k = 0; k < expected.Count; k++)
        {
            var (e, a) = (expected[k].Lc, actual[k].Lc);
            Assert.Equal(e.Mjd.ToArray(), a.Mjd.ToArray());
            Assert.Equal(e.Band.ToArray(), a.Band.ToArray());
            Assert.Equal(e.Flux.ToArray(), a.Flux.ToArray());
            Assert.Equal(e.FluxErr.ToArray(), a.FluxErr.ToArray());
            Assert.Equal(e.Kind.ToArray(), a.Kind.ToArray());
        }
    }

    private static readonly string[] Ztf = ["ztfg", "ztfr", "ztfi"];
    private static readonly string[] Lsst = ["u", "g", "r", "i", "z", "y"];

    [Fact]
    public void A_table_in_ZTF_names_reads_as_the_same_light_curves_as_in_our_names()
    {
        var row = Gen.Select(Gen.Int[0, 4], Gen.Double[2458000.5, 2461000.5], Gen.Int[1, 3], Gen.Double[14.0, 22.0], Gen.Double[0.01, 0.3]);
        var idName = Gen.Int[0, 1].Select(i => i == 0 ? "objectId" : "oid");
        int n = 0;
        Gen.Select(row.List[1, 40], idName).Sample((rows, id) =>
        {
            var ztf = $"{id},jd,fid,magpsf,sigmapsf\n" + string.Concat(rows.Select(r => $"ZTF21obj{r.Item1},{R(r.Item2)},{r.Item3},{R(r.Item4)},{R(r.Item5)}\n"));
            var ours = "object_id,mjd,band,mag,mag_err\n" + string.Concat(rows.Select(r => $"ZTF21obj{r.Item1},{R(r.Item2 - 2400000.5)},{Ztf[r.Item3 - 1]},{R(r.Item4)},{R(r.Item5)}\n"));
            int k = Interlocked.Increment(ref n);
            var a = LightCurveTableReader.Read(Write($"ztf-{k}.csv", ztf)).ToList();
            var b = LightCurveTableReader.Read(Write($"ours-{k}.csv", ours)).ToList();
            AssertSame(b, a);
        }, iter: 200);
    }

    [Fact]
    public void A_table_in_Rubin_names_reads_as_the_same_light_curves_as_in_our_names()
    {
        var row = Gen.Select(Gen.Long[1, 6], Gen.Double[60000.0, 62000.0], Gen.Int[0, 5], Gen.Double[-500.0, 50_000.0], Gen.Double[1.0, 500.0]);
        int n = 0;
        row.List[1, 40].Sample(rows =>
        {
            var rubin = "diaObjectId,midpointMjdTai,band,psfFlux,psfFluxErr\n" + string.Concat(rows.Select(r => $"{1000 + r.Item1},{R(r.Item2)},{Lsst[r.Item3]},{R(r.Item4)},{R(r.Item5)}\n"));
            var ours = "object_id,mjd,band,flux,flux_err\n" + string.Concat(rows.Select(r => $"{1000 + r.Item1},{R(r.Item2)},lsst{Lsst[r.Item3]},{R(r.Item4)},{R(r.Item5)}\n"));
            int k = Interlocked.Increment(ref n);
            // The ZTF hint (the commands' default) does not turn Rubin's g/r/i into ZTF bands.
            var a = LightCurveTableReader.Read(Write($"rubin-{k}.csv", rubin), Survey.Ztf).ToList();
            var b = LightCurveTableReader.Read(Write($"ours-lsst-{k}.csv", ours)).ToList();
            AssertSame(b, a);
        }, iter: 200);
    }

    [Fact]
    public void ZTF_names_convert_jd_to_mjd_and_fid_to_bands_and_say_which_columns_were_read()
    {
        var said = new List<string>();
        var path = Write("alerce.csv", "oid,fid,jd,magpsf,sigmapsf\nZTF20aaaaaaa,2,2459000.5,18.5,0.1\nZTF20aaaaaaa,1,2459001.0,18.0,0.05\nZTF20aaaaaaa,3,2459002.0,19.0,0.2\n");
        var (id, lc) = Assert.Single(LightCurveTableReader.Read(path, Survey.Ztf, said.Add));
        Assert.Equal("ZTF20aaaaaaa", id);
        Assert.Equal([59000.0, 59000.5, 59001.5], lc.Mjd.ToArray());
        Assert.Equal([Band.ZtfR, Band.ZtfG, Band.ZtfI], lc.Band.ToArray());
        Assert.Equal((float)Photometry.MagToFlux(18.5), lc.Flux[0]);
        Assert.Equal(PointKind.Detection, lc.Kind[0]);
        Assert.Equal($"{path}: read oid→object, jd→mjd (JD − 2400000.5), fid→band (1/2/3 → ztfg/ztfr/ztfi), magpsf→mag, sigmapsf→mag_err", Assert.Single(said));
    }

    [Fact]
    public async Task A_Parquet_table_with_integer_ids_and_filter_ids_is_read()
    {
        var path = Path.Combine(_dir, "ztf.parquet");
        var schema = new ParquetSchema(new DataField<long>("diaObjectId"), new DataField<double>("midpointMjdTai"), new DataField<string>("band"),
            new DataField<float>("psfFlux"), new DataField<float>("psfFluxErr"));
        await using (var s = File.Create(path))
        await using (var w = await ParquetWriter.CreateAsync(schema, s))
        using (var rg = w.CreateRowGroup())
        {
            var f = schema.DataFields;
            await rg.WriteAsync<long>(f[0], new long[] { 170000000001, 170000000001, 170000000002 }.AsMemory());
            await rg.WriteAsync<double>(f[1], new[] { 60500.1, 60500.2, 60501.0 }.AsMemory());
            await rg.WriteAsync(f[2], new[] { "g", "y", "u" });
            await rg.WriteAsync<float>(f[3], new[] { 1000f, 20f, 5000f }.AsMemory());
            await rg.WriteAsync<float>(f[4], new[] { 10f, 10f, 50f }.AsMemory());
        }
        var said = new List<string>();
        var read = LightCurveTableReader.Read(path, Survey.Ztf, said.Add).ToList();
        Assert.Equal(["170000000001", "170000000002"], read.Select(r => r.ObjectId));
        Assert.Equal([Band.LsstG, Band.LsstY], read[0].LightCurve.Band.ToArray());
        Assert.Equal([1000f, 20f], read[0].LightCurve.Flux.ToArray());
        Assert.Equal([PointKind.Detection, PointKind.ForcedPhotometry], read[0].LightCurve.Kind.ToArray()); // 20 nJy is 2σ
        Assert.Equal($"{path}: read diaObjectId→object, midpointMjdTai→mjd, band→band (u..y → lsstu..lssty), psfFlux→flux (nJy), psfFluxErr→flux_err (nJy)", Assert.Single(said));

        var ztf = Path.Combine(_dir, "fid.parquet");
        var zs = new ParquetSchema(new DataField<string>("objectId"), new DataField<double>("jd"), new DataField<int>("fid"), new DataField<double>("magpsf"));
        await using (var s = File.Create(ztf))
        await using (var w = await ParquetWriter.CreateAsync(zs, s))
        using (var rg = w.CreateRowGroup())
        {
            await rg.WriteAsync(zs.DataFields[0], new[] { "ZTF19x", "ZTF19x" });
            await rg.WriteAsync<double>(zs.DataFields[1], new[] { 2459000.5, 2459001.5 }.AsMemory());
            await rg.WriteAsync<int>(zs.DataFields[2], new[] { 1, 2 }.AsMemory());
            await rg.WriteAsync<double>(zs.DataFields[3], new[] { 18.0, 18.2 }.AsMemory());
        }
        var (_, lc) = Assert.Single(LightCurveTableReader.Read(ztf));
        Assert.Equal([59000.0, 59001.0], lc.Mjd.ToArray());
        Assert.Equal([Band.ZtfG, Band.ZtfR], lc.Band.ToArray());
    }

    [Theory]
    [InlineData("objectId,jd,magpsf\nA,2459000.5,18\n", "no band column; accepted names: band, fid, ant_passband, passband, filter")]
    [InlineData("objectId,fid,magpsf\nA,1,18\n", "no time (mjd) column; accepted names: mjd, midpointMjdTai, ant_mjd, jd")]
    [InlineData("objectId,fid,jd\nA,1,2459000.5\n", "no flux or mag column; accepted names: flux, psfFlux (nJy) or mag, magpsf, ant_mag (AB)")]
    [InlineData("objectId,fid,jd,magpsf\nA,4,2459000.5,18\n", ":2: fid '4' is not a ZTF filter id (1 = g, 2 = r, 3 = i).")]
    public void Errors_name_the_file_the_missing_field_and_the_accepted_names(string table, string expected)
    {
        var path = Write("bad.csv", table);
        var ex = Assert.Throws<InvalidDataException>(() => LightCurveTableReader.Read(path).ToList());
        Assert.StartsWith(path, ex.Message);
        Assert.Contains(expected, ex.Message);
    }
}
