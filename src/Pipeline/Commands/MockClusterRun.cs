using Alerts.Pipeline.Processing;
using Alerts.Pipeline.Service;
using Alerts.Sink.Kafka;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// What `alerts demo` and `alerts bench e2e` share when they run the real service against librdkafka's mock cluster:
/// the service settings (built through <see cref="ServiceSettings.FromConfiguration"/>, exactly as `alerts run` reads
/// them) and the rows of their summary tables.
/// </summary>
public static class MockClusterRun
{
    /// <summary>The nightly ZTF topics the service subscribes to (a POSIX regex, as librdkafka needs).</summary>
    public const string ZtfTopics = "^ztf_[0-9]{8}_programid1$";

    /// <summary>
    /// Settings for the service on <paramref name="cluster"/>: ZTF nightly topics, labels to alerts.labels, dead letters
    /// to alerts.deadletter, the archive under <paramref name="archiveRoot"/>; <paramref name="overrides"/> (keys under
    /// Alerts:, e.g. "Pipeline:FlushIntervalMs") win over these.
    /// </summary>
    public static ServiceSettings Settings(MockCluster cluster, string group, string archiveRoot, string writerId, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Alerts:Kafka:Topics:0"] = ZtfTopics,
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = cluster.BootstrapServers,
            ["Alerts:Kafka:Consumer:group.id"] = group,
            ["Alerts:Kafka:Consumer:topic.metadata.refresh.interval.ms"] = "1000",
            ["Alerts:Archive:Root"] = archiveRoot,
            ["Alerts:Archive:WriterId"] = writerId,
            ["Alerts:Labels:Topic"] = "alerts.labels",
            ["Alerts:DeadLetter:Topic"] = "alerts.deadletter",
        };
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>()) values["Alerts:" + k] = v;
        return ServiceSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }

    /// <summary>Creates the label and dead-letter topics the settings above write to.</summary>
    public static void CreateOutputTopics(MockCluster cluster, params string[] extraLabelTopics)
    {
        cluster.CreateTopic("alerts.labels", 6);
        foreach (var t in extraLabelTopics) cluster.CreateTopic(t, 1);
        cluster.CreateTopic("alerts.deadletter", 1);
    }

    /// <summary>The service's outcome rows: what it consumed, classified, archived, delivered and committed, and latency.</summary>
    public static void AddOutcomeRows(Table table, KafkaAlertService service, long committed, int committedPartitions)
    {
        var stats = service.Stats;
        table.AddRow("alerts consumed", $"{stats.ReadCount:N0}");
        table.AddRow("classified", $"{stats.ClassifiedCount:N0}");
        foreach (var (reason, n) in stats.NotClassifiedReasons.OrderByDescending(kv => kv.Value))
            table.AddRow($"  not classified: {Markup.Escape(reason)}", $"{n:N0}");
        table.AddRow("dead letters", $"{stats.DeadLetterCount:N0}");
        if (service.StaleDropped + service.DuplicatesDropped > 0)
            table.AddRow("re-fetched after a rebalance, dropped", $"{service.StaleDropped:N0} stale, {service.DuplicatesDropped:N0} already handed out");
        table.AddRow("Parquet rows / files", $"{service.ParquetRows:N0} / {service.ParquetFiles:N0}");
        table.AddRow("labels delivered", $"{service.LabelsDelivered:N0}");
        table.AddRow("offsets committed", $"{committed:N0} over {committedPartitions} partitions");
        table.AddRow("latency p50 / p99, Kafka timestamp → sinks", $"{service.SourceLatencyPercentileMs(50):N0} / {service.SourceLatencyPercentileMs(99):N0} ms");
        table.AddRow("latency p50 / p99, read → sinks", $"{stats.LatencyPercentileMs(50):N0} / {stats.LatencyPercentileMs(99):N0} ms");
    }

    /// <summary>
    /// Per-stage table: calls, alerts, wall per alert, thread CPU per alert and CPU/wall. Stages that wait (flushes,
    /// hand-off waits, commits) show a low CPU share; stages that compute (decode, classify) show ~1.
    /// </summary>
    public static Table StageTable(string title, IReadOnlyDictionary<string, StageTotals> stages)
    {
        var t = new Table().Title(Markup.Escape(title)).AddColumn("stage").AddColumn(new TableColumn("calls").RightAligned())
            .AddColumn(new TableColumn("alerts").RightAligned()).AddColumn(new TableColumn("wall total").RightAligned())
            .AddColumn(new TableColumn("wall / alert").RightAligned()).AddColumn(new TableColumn("CPU / alert").RightAligned())
            .AddColumn(new TableColumn("CPU / wall").RightAligned());
        foreach (var (name, s) in stages.OrderBy(kv => StageOrder(kv.Key)).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            double perAlertWall = s.Items == 0 ? double.NaN : s.Wall.TotalMicroseconds / s.Items;
            double perAlertCpu = s.Items == 0 || s.CpuCalls == 0 ? double.NaN : s.Cpu.TotalMicroseconds / (s.Items * (double)s.CpuCalls / s.Calls);
            t.AddRow(Markup.Escape(name), $"{s.Calls:N0}", $"{s.Items:N0}", $"{s.Wall.TotalSeconds:N2} s",
                double.IsNaN(perAlertWall) ? "–" : $"{perAlertWall:N0} µs", double.IsNaN(perAlertCpu) ? "–" : $"{perAlertCpu:N0} µs",
                double.IsNaN(s.CpuFraction) ? "–" : $"{s.CpuFraction:P0}");
        }
        return t;
    }

    private static int StageOrder(string stage) => stage switch
    {
        "decode" => 0,
        "classify" => 1,
        "classify.wait-for-sinks" => 2,
        "sinks.wait-for-flush" => 3,
        _ when stage.StartsWith("write.", StringComparison.Ordinal) => 4,
        _ when stage.StartsWith("flush.", StringComparison.Ordinal) => 5,
        "commit" => 6,
        _ => 7,
    };
}
