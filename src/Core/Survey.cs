namespace Alerts.Core;

/// <summary>The survey that issued an alert. ELAsTiCC is Rubin-shaped simulated data with its own schema family.</summary>
public enum Survey : byte
{
    Ztf = 1,
    Lsst = 2,
    Elasticc = 3,
}

public static class Surveys
{
    public static string Name(this Survey s) => s switch
    {
        Survey.Ztf => "ztf",
        Survey.Lsst => "lsst",
        Survey.Elasticc => "elasticc",
        _ => "unknown",
    };
}
