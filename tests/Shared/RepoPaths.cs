using System.Runtime.CompilerServices;

namespace Alerts.Tests.Shared;

/// <summary>Paths inside this repository (schemas/, models/), found from the test source location or the build output.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        foreach (var start in new[] { AppContext.BaseDirectory, ThisFileDir() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Alerts.sln")) || File.Exists(Path.Combine(dir.FullName, "Alerts.slnx")))
                    return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Alerts.sln) above " + AppContext.BaseDirectory);
    });

    public static string Root => RootDir.Value;

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string ThisFileDir([CallerFilePath] string path = "") => Path.GetDirectoryName(path) ?? ".";
}
