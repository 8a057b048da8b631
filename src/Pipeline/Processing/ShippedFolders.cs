namespace Alerts.Pipeline.Processing;

/// <summary>
/// Finds folders the project ships (schemas/, models/) above a set of starting directories, so the CLI works
/// from the repository, from the build output and from the container image (/app).
/// </summary>
public static class ShippedFolders
{
    /// <summary>The first <paramref name="relative"/> folder above any of <paramref name="starts"/> that <paramref name="accept"/> takes.</summary>
    public static string? FindAbove(IEnumerable<string> starts, string relative, Func<string, bool>? accept = null)
    {
        foreach (var start in starts)
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, relative);
                if (Directory.Exists(candidate) && (accept is null || accept(candidate))) return candidate;
            }
        return null;
    }
}
