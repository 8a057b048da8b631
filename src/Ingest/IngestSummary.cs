using System.Diagnostics;
using Alerts.Core;

namespace Alerts.Ingest;

/// <summary>Running totals of a decode run (alerts, dead letters by reason, points by kind, survey/version mix, rate).</summary>
public sealed class IngestSummary
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public long Decoded { get; private set; }
    public long DeadLettered { get; private set; }
    public long Bytes { get; private set; }
    public SortedDictionary<string, long> DeadLettersByReason { get; } = new(StringComparer.Ordinal);
    public long[] PointsByKind { get; } = new long[3];
    public SortedDictionary<string, long> BySurveyVersion { get; } = new(StringComparer.Ordinal);
    public TimeSpan Elapsed => _clock.Elapsed;
    public double AlertsPerSecond => (Decoded + DeadLettered) / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);

    public void Add(in DecodeResult result)
    {
        if (result.Alert is { } a)
        {
            Decoded++;
            Bytes += a.Source.Payload.Length;
            foreach (var k in a.LightCurve.Kind) PointsByKind[(int)k]++;
            var key = $"{a.Identity.Survey.Name()} {a.Identity.SchemaVersion}";
            BySurveyVersion[key] = BySurveyVersion.GetValueOrDefault(key) + 1;
        }
        else if (result.DeadLetter is { } d)
        {
            DeadLettered++;
            Bytes += d.Source.Payload.Length;
            DeadLettersByReason[d.Reason] = DeadLettersByReason.GetValueOrDefault(d.Reason) + 1;
        }
    }

    public void Stop() => _clock.Stop();
}
