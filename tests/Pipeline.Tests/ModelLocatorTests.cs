using Alerts.Core;
using Alerts.Pipeline.Processing;

namespace Alerts.Pipeline.Tests;

public class ModelLocatorTests
{
    /// <summary>The service runs the compressed models that ship in models/ unless --model says otherwise.</summary>
    [Theory]
    [InlineData(Survey.Ztf, "t2-ztf.deployed.ort")]
    [InlineData(Survey.Lsst, "t2-lsst.deployed.ort")]
    public void DefaultModel_IsTheShippedDeployedOrt(Survey survey, string file)
    {
        var path = ModelLocator.DefaultModel(survey);
        Assert.NotNull(path);
        Assert.Equal(file, Path.GetFileName(path));
    }
}
