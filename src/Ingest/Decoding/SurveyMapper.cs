using Alerts.Core;
using Alerts.Avro;

namespace Alerts.Ingest.Decoding;

/// <summary>Why a record could not be mapped: a short reason code (see <see cref="DeadLetter"/>) and the human detail.</summary>
public readonly record struct MapFailure(string Reason, string Detail);

/// <summary>
/// Turns the projected fields of one survey's alert record into Core's identity + light curve. A mapper is
/// stateless and shared; it declares once the fields it needs (<see cref="Spec"/>), with every name they had
/// across schema versions, and the projection compiled per writer schema reads only those.
/// </summary>
public abstract class SurveyMapper
{
    public abstract string Name { get; }
    public abstract ProjectionSpec Spec { get; }

    /// <summary>Whether this mapper understands a writer schema (by full name and fields).</summary>
    public abstract bool CanMap(RecordSchema schema);

    /// <summary>Fills <paramref name="lc"/> (already cleared) and the identity; returns a failure for bad content.</summary>
    public abstract MapFailure? Map(ProjectedRecord rec, ReadOnlySpan<byte> datum, CompiledProjection projection,
        LightCurve lc, DecodeCounters counters, out AlertIdentity? identity);

    protected static MapFailure NullField(string field, string fix = "the producer must fill it; the alert is kept as a dead letter") =>
        new("null-required-field", $"required field {field} is null or absent: {fix}");

    protected static bool IsBadError(double err) => double.IsNaN(err) || double.IsInfinity(err) || err < 0;
}

/// <summary>Counts of rows a decoder dropped on purpose, so that nothing disappears without a number.</summary>
public sealed class DecodeCounters
{
    /// <summary>ZTF fp_hists rows with a null or -99999 forcediffimflux (or unusable zero point / error).</summary>
    public long ForcedPhotometryRowsSkipped;
    /// <summary>History rows with neither a flux nor a limit, or with a NaN/infinite/negative error.</summary>
    public long HistoryRowsSkipped;

    public void Add(DecodeCounters other)
    {
        ForcedPhotometryRowsSkipped += other.ForcedPhotometryRowsSkipped;
        HistoryRowsSkipped += other.HistoryRowsSkipped;
    }
}
