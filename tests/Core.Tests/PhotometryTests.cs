using Alerts.Core;
using CsCheck;

namespace Alerts.Core.Tests;

public class PhotometryTests
{
    [Fact]
    public void Magnitude_31_4_is_one_nanojansky()
    {
        Assert.Equal(1.0, Photometry.MagToFlux(31.4), 12);
    }

    [Fact]
    public void Magnitude_and_flux_round_trip()
    {
        Gen.Double[10, 30].Sample(m => Assert.Equal(m, Photometry.FluxToMag(Photometry.MagToFlux(m)), 9));
    }

    [Fact]
    public void Fluxcal_rescale_matches_snana_definition()
    {
        // FLUXCAL = 10^(-0.4 (m - 27.5)); for m = 20, FLUXCAL = 10^3 = 1000.
        double nJy = Photometry.MagToFlux(20.0);
        Assert.Equal(1000.0, Photometry.Rescale(nJy, Photometry.NanojanskyZeroPoint, Photometry.FluxcalZeroPoint), 6);
    }

    [Fact]
    public void Night_is_utc_date_of_mjd()
    {
        Assert.Equal("20181129", AlertIdentity.NightOf(58451.25));
        Assert.Equal("18581117", AlertIdentity.NightOf(0.1));
    }

    [Fact]
    public void Light_curve_sorts_by_time_and_keeps_columns_together()
    {
        var lc = new LightCurve(2);
        lc.Add(3, Band.ZtfR, 3f, 0.3f, PointKind.Detection);
        lc.Add(1, Band.ZtfG, 1f, 0.1f, PointKind.NonDetection);
        lc.Add(2, Band.ZtfI, 2f, 0.2f, PointKind.ForcedPhotometry);
        lc.SortByTime();
        Assert.Equal([1.0, 2.0, 3.0], lc.Mjd.ToArray());
        Assert.Equal([Band.ZtfG, Band.ZtfI, Band.ZtfR], lc.Band.ToArray());
        Assert.Equal([0.1f, 0.2f, 0.3f], lc.FluxErr.ToArray());
        Assert.Equal(PointKind.ForcedPhotometry, lc.Kind[1]);
        Assert.Equal("ztfg,ztfr,ztfi", Classification.BandList(lc));
    }
}
