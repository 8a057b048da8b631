using Alerts.Core;
using Alerts.Pipeline.Processing;
using Prometheus;

namespace Alerts.Pipeline.Observability;

/// <summary>
/// The Prometheus metrics the service exports on /metrics. The names here are a contract: the Grafana dashboard
/// and the alerting rules in deploy/ query them, and a test checks that every name they use is exported.
/// </summary>
public sealed class PipelineMetrics
{
    public const string Prefix = "alerts_";

    /// <summary>
    /// End-to-end latency buckets, in seconds: 1 ms to 50 ms for the in-process 'received' latency, then doubling from
    /// 0.1 s to 209,715.2 s (2.4 days) so that 'source' latency of a streaming backlog (minutes) and 'observation'
    /// latency of replayed alerts (hours to days after the exposure) land in finite buckets instead of +Inf.
    /// 28 buckets: 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, then 0.1 × 2^k for k = 0 … 21.
    /// </summary>
    public static readonly double[] LatencyBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, .. Histogram.ExponentialBuckets(0.1, 2, 22)];
    private static readonly double[] StageBuckets = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    public PipelineMetrics(CollectorRegistry? registry = null)
    {
        var f = Metrics.WithCustomRegistry(registry ?? Metrics.DefaultRegistry);
        Consumed = f.CreateCounter(Prefix + "consumed_total", "Raw alerts read from a source.", "source");
        Decoded = f.CreateCounter(Prefix + "decoded_total", "Alerts decoded into a light curve.", "survey");
        DeadLettered = f.CreateCounter(Prefix + "dead_lettered_total", "Inputs sent to the dead-letter sink.", "stage", "reason");
        Classified = f.CreateCounter(Prefix + "classified_total", "Alerts classified, by survey and top label.", "survey", "label");
        NotClassified = f.CreateCounter(Prefix + "not_classified_total", "Alerts decoded but not classifiable, by reason.", "reason");
        BatchSize = f.CreateHistogram(Prefix + "batch_size", "Inference micro-batch size.",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        StageDuration = f.CreateHistogram(Prefix + "stage_duration_seconds", "Time spent in a stage: per alert for decode, preprocess and inference; per micro-batch for classify_batch.",
            new HistogramConfiguration { LabelNames = ["stage"], Buckets = StageBuckets });
        EndToEndLatency = f.CreateHistogram(Prefix + "end_to_end_latency_seconds",
            "Latency from a reference time to the sinks' write: 'received' (bytes read), 'source' (Kafka message timestamp), 'observation' (exposure time of the alert).",
            new HistogramConfiguration { LabelNames = ["reference"], Buckets = LatencyBuckets });
        ConsumerLag = f.CreateGauge(Prefix + "consumer_lag", "Messages between the committed offset and the partition's high watermark.", "topic", "partition");
        CommittedOffset = f.CreateGauge(Prefix + "committed_offset", "Last offset committed behind the durable watermark.", "topic", "partition");
        ModelInfo = f.CreateGauge(Prefix + "model_info", "The model in use (value 1).", "model_id", "model");
        Up = f.CreateGauge(Prefix + "ready", "1 when the service is consuming and its sinks are open.");
        AssignedPartitions = f.CreateGauge(Prefix + "assigned_partitions", "Partitions this instance owns in the consumer group.");
        Commits = f.CreateCounter(Prefix + "offset_commits_total", "Offset commits behind the durable watermark, by result (ok, failed).", "result");
        LabelsProduced = f.CreateCounter(Prefix + "labels_produced_total", "Label messages the brokers acknowledged, by topic.", "topic");
        ArchiveRows = f.CreateCounter(Prefix + "archive_rows_total", "Rows in Parquet archive files renamed into place (durable).");
        ArchiveFiles = f.CreateCounter(Prefix + "archive_files_total", "Parquet archive files renamed into place (durable).");
    }

    /// <summary>
    /// A registry of its own (a command that must not share the process-wide one) that still exports prometheus-net's
    /// process and .NET runtime metrics (process_cpu_seconds_total, dotnet_collection_count_total, ...), as
    /// <see cref="Metrics.DefaultRegistry"/> does.
    /// </summary>
    public static CollectorRegistry NewRegistryWithProcessMetrics()
    {
        var registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        return registry;
    }

    public Counter Consumed { get; }
    public Counter Decoded { get; }
    public Counter DeadLettered { get; }
    public Counter Classified { get; }
    public Counter NotClassified { get; }
    public Histogram BatchSize { get; }
    public Histogram StageDuration { get; }
    public Histogram EndToEndLatency { get; }
    public Gauge ConsumerLag { get; }
    public Gauge CommittedOffset { get; }
    public Gauge ModelInfo { get; }
    public Gauge Up { get; }
    public Gauge AssignedPartitions { get; }
    public Counter Commits { get; }
    public Counter LabelsProduced { get; }
    public Counter ArchiveRows { get; }
    public Counter ArchiveFiles { get; }

    /// <summary>Counts the archive's durable files and rows.</summary>
    public void Observe(Alerts.Sink.Parquet.ParquetArchiveSink archive) =>
        archive.FileCommitted += (_, rows) =>
        {
            ArchiveFiles.Inc();
            ArchiveRows.Inc(rows);
        };

    /// <summary>Counts acknowledged labels per topic.</summary>
    public void Observe(Alerts.Sink.Kafka.KafkaLabelSink labels) =>
        labels.LabelDelivered += topic => LabelsProduced.WithLabels(topic).Inc();

    /// <summary>Connects the metrics to a pipeline's events.</summary>
    public void Observe(AlertPipeline pipeline, string sourceName)
    {
        pipeline.Received += raw => Consumed.WithLabels(raw.Position.IsKafka ? raw.Position.Origin : sourceName).Inc();
        pipeline.AlertDecoded += (alert, t) =>
        {
            Decoded.WithLabels(alert.Identity.Survey.Name()).Inc();
            StageDuration.WithLabels("decode").Observe(t.TotalSeconds);
        };
        pipeline.DeadLettered += d => DeadLettered.WithLabels(d.Stage, d.Reason).Inc();
        pipeline.BatchClassified += (size, t) =>
        {
            BatchSize.Observe(size);
            StageDuration.WithLabels("classify_batch").Observe(t.TotalSeconds);
        };
        pipeline.BatchWritten += batch =>
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var c in batch)
            {
                if (c.IsClassified) Classified.WithLabels(c.Identity.Survey.Name(), c.Label!).Inc();
                else NotClassified.WithLabels(c.Reason!).Inc();
                StageDuration.WithLabels("preprocess").Observe(c.Timings.PreprocessUs / 1e6);
                StageDuration.WithLabels("inference").Observe(c.Timings.InferenceUs / 1e6);
                EndToEndLatency.WithLabels("received").Observe((now - c.IngestedAt).TotalSeconds);
                // 'source' is the Kafka message timestamp only: a replayed file's modification time can be days old
                // and would trip the 60 s budget rule (AlertsLatencyOverBudget) for no live reason.
                if (c.SourceTimestamp is { } ts && c.Source.IsKafka) EndToEndLatency.WithLabels("source").Observe(Math.Max(0, (now - ts).TotalSeconds));
                var observed = MjdToUtc(c.Identity.Mjd);
                if (observed is { } obs) EndToEndLatency.WithLabels("observation").Observe(Math.Max(0, (now - obs).TotalSeconds));
            }
        };
    }

    private static DateTimeOffset? MjdToUtc(double mjd)
    {
        if (double.IsNaN(mjd) || mjd < 40000 || mjd > 100000) return null;
        return new DateTimeOffset(1858, 11, 17, 0, 0, 0, TimeSpan.Zero).AddDays(mjd);
    }
}
