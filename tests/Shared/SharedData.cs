using System.Runtime.CompilerServices;

namespace Alerts.Tests.Shared;

/// <summary>
/// Locates <c>../shared/data</c> (real public alerts, schemas and labelled light curves that we may read but
/// not redistribute). It is present in CI and on developer machines of this workplace, and absent elsewhere:
/// tests that need it carry <see cref="SharedDataFactAttribute"/> and are skipped with the stated reason.
/// Override with the ALERTS_SHARED_DATA environment variable.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> Root = new(Find);

    public static string? Directory => Root.Value;

    public static bool IsPresent => Root.Value is not null;

    public const string SkipReason =
        "../shared/data is absent (set ALERTS_SHARED_DATA to the folder holding SOURCES.md); these tests read real public alerts that the project may not redistribute.";

    /// <summary>Full path under the shared data folder, e.g. Path("ztf", "alerts").</summary>
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root.Value ?? throw new InvalidOperationException(SkipReason), .. parts]);

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("ALERTS_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && File.Exists(System.IO.Path.Combine(env, "SOURCES.md"))) return env;
        foreach (var start in new[] { AppContext.BaseDirectory, System.IO.Directory.GetCurrentDirectory(), ThisFileDir() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
                if (File.Exists(System.IO.Path.Combine(candidate, "SOURCES.md"))) return candidate;
            }
        }
        return null;
    }

    private static string ThisFileDir([CallerFilePath] string path = "") => System.IO.Path.GetDirectoryName(path) ?? ".";
}

/// <summary>A fact that is skipped, with <see cref="SharedData.SkipReason"/>, when ../shared/data is absent, and with
/// <see cref="Referees.MissingReason"/> when one of the referees it also needs is not installed.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(params Referee[] needs)
    {
        if (!SharedData.IsPresent) Skip = SharedData.SkipReason;
        else if (Referees.MissingReason(needs) is { } reason) Skip = reason;
    }
}

/// <summary>A theory that is skipped, with <see cref="SharedData.SkipReason"/>, when ../shared/data is absent, and with
/// <see cref="Referees.MissingReason"/> when one of the referees it also needs is not installed.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute(params Referee[] needs)
    {
        if (!SharedData.IsPresent) Skip = SharedData.SkipReason;
        else if (Referees.MissingReason(needs) is { } reason) Skip = reason;
    }
}
