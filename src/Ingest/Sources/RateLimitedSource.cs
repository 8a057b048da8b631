using System.Diagnostics;
using System.Runtime.CompilerServices;
using Alerts.Core;

namespace Alerts.Ingest.Sources;

/// <summary>Paces another source to at most <c>rate</c> alerts per second (schedule-based, so short stalls are caught up).</summary>
public sealed class RateLimitedSource(IAlertSource inner, double alertsPerSecond) : IAlertSource
{
    public string Description => $"{inner.Description} at {alertsPerSecond:0.##}/s";

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (alertsPerSecond <= 0 || double.IsNaN(alertsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(alertsPerSecond), alertsPerSecond, "--rate must be a positive number of alerts per second");
        var clock = Stopwatch.StartNew();
        long n = 0;
        await foreach (var raw in inner.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var due = TimeSpan.FromSeconds(n / alertsPerSecond);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            n++;
            yield return raw;
        }
    }
}

/// <summary>Picks the source for each path given on the command line.</summary>
public static class AlertSources
{
    public static IAlertSource FromPath(string path, Avro.AvroSchemaRegistry registry)
    {
        if (Directory.Exists(path)) return new FolderAlertSource(path, registry);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist: give a file, a folder or a .tar.gz of alerts", path);
        return AlertFiles.IsTarball(path) ? new TarballAlertSource(path, registry) : new FileAlertSource(path, registry);
    }

    /// <summary>Concatenates sources in order (one reader at a time).</summary>
    public static async IAsyncEnumerable<RawAlert> Concat(IEnumerable<IAlertSource> sources, [EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var s in sources)
            await foreach (var raw in s.ReadAsync(ct).ConfigureAwait(false)) yield return raw;
    }
}
