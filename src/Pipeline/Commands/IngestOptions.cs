using System.CommandLine;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Sources;

namespace Alerts.Pipeline.Commands;

/// <summary>Options shared by the commands that read alerts (decode, replay).</summary>
internal static class IngestOptions
{
    public static Option<DirectoryInfo?> Schemas() => new("--schemas")
    {
        Description = "Folder of Rubin schemas for Confluent wire messages, lsst/alert_packet layout <dir>/<major>.<minor>/lsst.v<major>_<minor>.alert.avsc (default: the repository's schemas/lsst)",
    };

    public static Option<DirectoryInfo?> DeadLetter() => new("--dead-letter")
    {
        Description = "Folder for dead letters: <dir>/<reason>/<name>.bin (original bytes) + .json (position, reason, detail)",
    };

    /// <summary>The --schemas folder, else schemas/lsst found above the executable or the working directory (null if none).</summary>
    public static string? ResolveSchemas(DirectoryInfo? given)
    {
        if (given is not null) return given.FullName;
        return Processing.ShippedFolders.FindAbove([Directory.GetCurrentDirectory(), AppContext.BaseDirectory], Path.Combine("schemas", "lsst"));
    }

    /// <summary>Sources for the given paths; a path that does not exist is reported on stderr and skipped (returns false).</summary>
    public static bool TryCreateSources(IEnumerable<string> paths, AvroSchemaRegistry registry, double? rate, out List<IAlertSource> sources)
    {
        sources = [];
        bool ok = true;
        foreach (var p in paths)
        {
            if (!File.Exists(p) && !Directory.Exists(p))
            {
                Console.Error.WriteLine($"error: {p} does not exist: give alert files (.avro container, .wire Confluent message), folders or .tar.gz tarballs");
                ok = false;
                continue;
            }
            var s = AlertSources.FromPath(p, registry);
            sources.Add(rate is > 0 ? new RateLimitedSource(s, rate.Value) : s);
        }
        return ok;
    }
}
