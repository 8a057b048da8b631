using Alerts.Avro;

namespace Alerts.Ingest;

/// <summary>
/// Bounds on hostile or broken input. Anything over a bound becomes a dead letter with reason <c>too-large</c>
/// (the detail names the bound and its value), never an exception out of the stage or an unbounded allocation.
/// The defaults sit far above real ZTF and Rubin alerts (tens to hundreds of KB, at most a few thousand history rows).
/// </summary>
public sealed record IngestLimits
{
    public static IngestLimits Default { get; } = new();

    /// <summary>Largest raw alert (a Kafka message or one file / tarball member).</summary>
    public int MaxAlertBytes { get; init; } = 16 << 20;

    /// <summary>Most rows of all light-curve history tables of one alert (ZTF prv_candidates + fp_hists, Rubin prvDiaSources + prvDiaForcedSources + ...).</summary>
    public int MaxHistoryRows { get; init; } = 20_000;

    /// <summary>Bounds of the Avro layer: value lengths, array/map items, schema JSON size and depth, inflated blocks.</summary>
    public AvroLimits Avro { get; init; } = AvroLimits.Default;

    /// <summary>Largest tarball member (its header's size); a larger member is dead-lettered with its first 64 KiB.</summary>
    public long MaxTarEntryBytes { get; init; } = 64L << 20;

    /// <summary>Most bytes one tarball may decompress to (a gzip bomb stops the archive there, as one dead letter).</summary>
    public long MaxTarTotalBytes { get; init; } = 64L << 30;
}
