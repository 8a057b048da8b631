using System.Runtime.CompilerServices;
using Alerts.Core;
using Alerts.Ingest.Decoding;
using Alerts.Ingest.Sources;

namespace Alerts.Ingest;

/// <summary>
/// The decode loop, reusable by <c>alerts decode</c>, <c>alerts replay</c> and the pipeline: reads the sources in
/// order, decodes each raw alert, and yields every outcome (alert or dead letter). Nothing is dropped: every raw
/// alert produces exactly one result.
/// </summary>
public static class IngestRunner
{
    /// <param name="ownLightCurves">True: each alert gets its own light curve (safe to keep). False: alerts share the
    /// decoder's buffer and are valid only until the next item is requested (hot path).</param>
    public static async IAsyncEnumerable<DecodeResult> DecodeAsync(IEnumerable<IAlertSource> sources, AlertDecoder decoder,
        bool ownLightCurves = true, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var buffer = new LightCurve(128);
        await foreach (var raw in AlertSources.Concat(sources, cancellationToken).ConfigureAwait(false))
            yield return ownLightCurves ? decoder.Decode(raw) : decoder.DecodeInto(raw, buffer);
    }
}
