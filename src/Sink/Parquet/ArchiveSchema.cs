using Alerts.Core;
using Parquet.Schema;

namespace Alerts.Sink.Parquet;

/// <summary>
/// The archive's Parquet columns. <c>survey</c> and <c>night</c> are Hive partition columns: they live in the
/// directory names (<c>survey=ztf/night=20240101</c>), not in the files, as Spark, DuckDB, pandas and pyarrow expect.
/// One nullable float column per t2 class, <c>p_&lt;class&gt;</c>, with '-' replaced by '_' (p_SNIa, p_mu_Lens_Single),
/// then <c>p_SNIa_family</c> (SNIa + SNIax + SNIa-91bg, <see cref="ClassFamilies.SNIaFamily"/>).
/// Timestamps are UTC microseconds. Not-classified alerts are rows with a null label and a <c>reason</c>.
/// </summary>
public static class ArchiveSchema
{
    /// <summary>The file metadata value of <c>alerts.schema</c>. archive-v1 files have every column but p_SNIa_family.</summary>
    public const string Version = "archive-v2";
    public const string VersionKey = "alerts.schema";

    public static readonly DataField<long> AlertId = new("alert_id");
    public static readonly DataField<string> ObjectId = new("object_id", nullable: false);
    public static readonly DataField<double> Mjd = new("mjd");
    public static readonly DataField<double> Ra = new("ra");
    public static readonly DataField<double> Dec = new("dec");
    public static readonly DataField<string> Label = new("label", nullable: true);
    public static readonly DataField<float?> LabelProbability = new("label_probability");
    public static readonly DataField<float?>[] ClassProbabilities = T2Classes.Names.Select(n => new DataField<float?>(ClassColumnName(n))).ToArray();
    /// <summary><c>p_SNIa_family</c>: the sum of the SNIa family's class columns; null when not classified.</summary>
    public static readonly DataField<float?> SNIaFamilyProbability = new(ClassColumnName(ClassFamilies.SNIaFamily.Name));
    public static readonly DataField<string> ModelId = new("model_id", nullable: false);
    public static readonly DataField<int> PointCount = new("n_points");
    public static readonly DataField<string> Bands = new("bands", nullable: false);
    public static readonly DataField<string> Reason = new("reason", nullable: true);
    public static readonly DataField<string> SourceOrigin = new("source_origin", nullable: false);
    public static readonly DataField<int?> SourcePartition = new("source_partition");
    public static readonly DataField<long> SourceOffset = new("source_offset");
    public static readonly DateTimeDataField IngestedAt = Ts("ingested_at", false);
    public static readonly DateTimeDataField ClassifiedAt = Ts("classified_at", false);
    public static readonly DateTimeDataField WrittenAt = Ts("written_at", false);
    public static readonly DateTimeDataField SourceTimestamp = Ts("source_timestamp", true);
    /// <summary>written_at minus the Kafka message timestamp (or ingested_at when there is none), milliseconds.</summary>
    public static readonly DataField<double> LatencyMs = new("latency_ms");

    public static readonly ParquetSchema Schema = new(
    [
        AlertId, ObjectId, Mjd, Ra, Dec, Label, LabelProbability, .. ClassProbabilities, SNIaFamilyProbability, ModelId, PointCount, Bands, Reason,
        SourceOrigin, SourcePartition, SourceOffset, IngestedAt, ClassifiedAt, WrittenAt, SourceTimestamp, LatencyMs,
    ]);

    /// <summary>"SNIa-91bg" -> "p_SNIa_91bg", "SNIa_family" -> "p_SNIa_family": letters, digits and '_' only, so every engine accepts it unquoted.</summary>
    public static string ClassColumnName(string className)
    {
        var chars = className.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        return "p_" + new string(chars);
    }

    /// <summary>Hive partition directory for a survey and night, relative to the archive root.</summary>
    public static string PartitionDirectory(Survey survey, string night) => Path.Combine("survey=" + survey.Name(), "night=" + night);

    private static DateTimeDataField Ts(string name, bool nullable) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: nullable);
}
