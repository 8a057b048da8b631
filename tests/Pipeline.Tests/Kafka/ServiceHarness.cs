using System.Collections.Concurrent;
using Alerts.Core;
using Alerts.Pipeline.Commands;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Processing;
using Alerts.Pipeline.Service;
using Alerts.Sink.Delivery;
using Alerts.Sink.Kafka;
using Alerts.Sink.Parquet;
using Alerts.Tests.Shared;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Parquet;
using Prometheus;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>Simulated ZTF alerts (real bytes, stamps included), generated once for all the Kafka service tests.</summary>
public static class TestAlerts
{
    private static readonly Lazy<IReadOnlyList<(long AlertId, byte[] Bytes)>> Ztf = new(() =>
        AlertProducer.Simulate(Survey.Ztf, 110, seed: 8).Select(a => (a.AlertId, a.Bytes)).ToList());

    /// <summary>About 1,400 alerts of 110 objects.</summary>
    public static IReadOnlyList<(long AlertId, byte[] Bytes)> ZtfNight => Ztf.Value;
}

/// <summary>
/// One mock cluster (3 brokers) with the alert topic (6 partitions), the label topic and the dead-letter topic, and
/// helpers to run in-process service instances against it and read back what they wrote.
/// </summary>
public sealed class ServiceHarness : IDisposable
{
    public const string AlertTopic = "ztf_20261129_programid1", LabelTopic = "alerts.labels", DeadLetterTopic = "alerts.deadletter";

    /// <summary>A bound for producers that wait on the service's commits (ProduceStreaming): a service that stops
    /// committing fails the test with OperationCanceledException instead of hanging the test run.</summary>
    public static CancellationToken ProduceDeadline() => new CancellationTokenSource(TimeSpan.FromMinutes(3)).Token;

    public MockCluster Cluster { get; } = new(3);
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "alerts-svc-" + Guid.NewGuid().ToString("N"));
    public string ArchiveRoot => Path.Combine(Root, "archive");
    public ConcurrentDictionary<TopicPartitionKey, long> Committed { get; } = new();
    public long CommittedTotal => Committed.Values.Sum();

    public ServiceHarness()
    {
        Cluster.CreateTopic(AlertTopic, 6);
        Cluster.CreateTopic(LabelTopic, 6);
        Cluster.CreateTopic(DeadLetterTopic, 1);
    }

    public ServiceSettings Settings(string writerId, string group = "alerts", IDictionary<string, string?>? extra = null)
    {
        var d = new Dictionary<string, string?>
        {
            ["Alerts:Kafka:Topics:0"] = "^ztf_[0-9]{8}_programid1$",
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = Cluster.BootstrapServers,
            ["Alerts:Kafka:Consumer:group.id"] = group,
            ["Alerts:Kafka:Consumer:statistics.interval.ms"] = "1000",
            ["Alerts:Kafka:Consumer:session.timeout.ms"] = "6000",
            ["Alerts:Kafka:Consumer:heartbeat.interval.ms"] = "500",
            ["Alerts:Archive:Root"] = ArchiveRoot,
            ["Alerts:Archive:WriterId"] = writerId,
            ["Alerts:Labels:Topic"] = LabelTopic,
            ["Alerts:DeadLetter:Topic"] = DeadLetterTopic,
            ["Alerts:Pipeline:FlushIntervalMs"] = "200",
            ["Alerts:Archive:FileMaxAgeSeconds"] = "1", // files kept open across flushes, closed within seconds
            ["Alerts:Pipeline:BatchSize"] = "32",
            ["Alerts:Pipeline:DecodeWorkers"] = "2",
            ["Alerts:Pipeline:ClassifyWorkers"] = "2",
            ["Alerts:Pipeline:ChannelCapacity"] = "64",
            ["Alerts:Model:Path"] = RepoPaths.Of("models", "t2-ztf.onnx"),
            ["Alerts:Schemas"] = RepoPaths.Of("schemas", "lsst"),
            ["Alerts:Shutdown:TimeoutSeconds"] = "30",
            ["Alerts:Rebalance:DrainTimeoutSeconds"] = "10",
        };
        if (extra is not null) foreach (var (k, v) in extra) d[k] = v;
        return ServiceSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(d).Build());
    }

    /// <summary>An in-process service instance with its own models (as `alerts run` loads them: a pool of
    /// ClassifyWorkers instances) and metrics registry. <paramref name="configure"/> runs before the service starts
    /// (subscribe to its events there).</summary>
    public Instance Start(ServiceSettings settings, Action<KafkaAlertService>? configure = null, Microsoft.Extensions.Logging.ILogger? log = null)
    {
        var classifier = KafkaAlertService.LoadClassifier(settings);
        var registry = Metrics.NewCustomRegistry();
        var service = new KafkaAlertService(settings, classifier, new PipelineMetrics(registry), log);
        service.Committed += offsets => { foreach (var o in offsets) Committed.AddOrUpdate(o.Partition, o.Offset, (_, old) => Math.Max(old, o.Offset)); };
        configure?.Invoke(service);
        var stop = new CancellationTokenSource();
        return new Instance(service, classifier, stop, service.RunAsync(stop.Token), registry);
    }

    public sealed class Instance(KafkaAlertService service, IAlertClassifier classifier, CancellationTokenSource stop, Task<ServiceExit> run, CollectorRegistry registry) : IDisposable
    {
        public KafkaAlertService Service { get; } = service;

        /// <summary>The instance's Prometheus exposition text, as /metrics serves it.</summary>
        public string MetricsText()
        {
            using var ms = new MemoryStream();
            registry.CollectAndExportAsTextAsync(ms).GetAwaiter().GetResult();
            return System.Text.Encoding.UTF8.GetString(ms.ToArray());
        }

        public Task<ServiceExit> Run { get; } = run;

        public async Task<ServiceExit> StopAsync()
        {
            stop.Cancel();
            return await Run.WaitAsync(TimeSpan.FromSeconds(60));
        }

        public void Dispose()
        {
            stop.Cancel();
            bool ended;
            try { ended = Run.Wait(TimeSpan.FromSeconds(60)); } catch (AggregateException) { ended = true; }
            try { ended &= Service.Quiesced.Wait(TimeSpan.FromSeconds(60)); } catch (AggregateException) { } // after a timed-out stop
            // ONNX Runtime sessions freed under a classify loop that is still running would crash the test host
            // (and hide the failing test's own message); a service that did not stop is left to the process exit.
            if (ended) (classifier as IDisposable)?.Dispose();
            stop.Dispose();
        }
    }

    /// <summary>`alerts run` arguments (--Alerts:Key=value) for a child process against this cluster, metrics off unless overridden.</summary>
    public string[] RunArgs(string writerId, IDictionary<string, string>? extra = null) => RunArgs(Cluster.BootstrapServers, ArchiveRoot, writerId, extra);

    public static string[] RunArgs(string bootstrapServers, string archiveRoot, string writerId, IDictionary<string, string>? extra = null)
    {
        var d = new Dictionary<string, string>
        {
            ["Alerts:Kafka:Topics:0"] = "^ztf_[0-9]{8}_programid1$",
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = bootstrapServers,
            ["Alerts:Kafka:Consumer:group.id"] = "alerts",
            ["Alerts:Kafka:Consumer:session.timeout.ms"] = "6000",
            ["Alerts:Kafka:Consumer:heartbeat.interval.ms"] = "500",
            ["Alerts:Archive:Root"] = archiveRoot,
            ["Alerts:Archive:WriterId"] = writerId,
            ["Alerts:Labels:Topic"] = LabelTopic,
            ["Alerts:DeadLetter:Topic"] = DeadLetterTopic,
            ["Alerts:Pipeline:FlushIntervalMs"] = "300",
            ["Alerts:Archive:FileMaxAgeSeconds"] = "1",
            ["Alerts:Pipeline:BatchSize"] = "32",
            ["Alerts:Pipeline:DecodeWorkers"] = "2",
            ["Alerts:Pipeline:ChannelCapacity"] = "64",
            ["Alerts:Model:Path"] = RepoPaths.Of("models", "t2-ztf.onnx"),
            ["Alerts:Metrics:Port"] = "0",
            ["Alerts:Logging:Format"] = "text",
        };
        if (extra is not null) foreach (var (k, v) in extra) d[k] = v;
        return ["run", .. d.Select(kv => $"--{kv.Key}={kv.Value}")];
    }

    /// <summary>Offsets the group committed on the alert topic's 6 partitions, summed, as a restart would resume from them.</summary>
    public long GroupCommitted()
    {
        // One probe consumer for the harness's life (not one per poll): it never joins the group, it only asks the coordinator.
        lock (_probeLock)
        {
            _probe ??= new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.BootstrapServers, GroupId = "alerts" }).Build();
            var committed = _probe.Committed(Enumerable.Range(0, 6).Select(p => new TopicPartition(AlertTopic, p)), TimeSpan.FromSeconds(10));
            return committed.Sum(o => o.Offset.Value < 0 ? 0 : o.Offset.Value);
        }
    }

    private readonly Lock _probeLock = new();
    private IConsumer<byte[], byte[]>? _probe;

    /// <summary>Waits until every produced offset is committed by the group (or fails with the state).</summary>
    public async Task WaitAllCommittedAsync(long produced, TimeSpan timeout, Func<string> state)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (CommittedTotal < produced)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"only {CommittedTotal} of {produced} offsets committed after {timeout.TotalSeconds:0}s; {state()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Alert ids of every committed Parquet file, per writer id (the file name carries it).</summary>
    public Task<Dictionary<string, List<long>>> ParquetIdsByWriterAsync() => ReadArchiveIdsByWriterAsync(ArchiveRoot);

    /// <summary>Alert ids of every committed Parquet file under <paramref name="root"/>, per writer id
    /// (<c>part-&lt;writer&gt;-&lt;seq&gt;.parquet</c>).</summary>
    public static async Task<Dictionary<string, List<long>>> ReadArchiveIdsByWriterAsync(string root)
    {
        var byWriter = new Dictionary<string, List<long>>();
        foreach (var file in Directory.EnumerateFiles(root, "*.parquet", SearchOption.AllDirectories))
        {
            var writer = Path.GetFileName(file).Split('-')[1];
            if (!byWriter.TryGetValue(writer, out var ids)) byWriter[writer] = ids = [];
            await using var stream = File.OpenRead(file);
            await using var reader = await ParquetReader.CreateAsync(stream);
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var column = new long[group.RowCount];
                await group.ReadAsync(ArchiveSchema.AlertId, column.AsMemory(), null);
                ids.AddRange(column);
            }
        }
        return byWriter;
    }

    /// <summary>Every message of a topic, read with a plain consumer from the beginning to the end of every partition.</summary>
    public List<ConsumeResult<string?, byte[]>> ReadTopic(string topic, int partitions) =>
        Alerts.Sink.Tests.KafkaTestHelpers.ReadAll(Cluster.BootstrapServers, topic, partitions, readCommitted: true); // librdkafka's default isolation

    public HashSet<long> LabelAlertIds() => ReadTopic(LabelTopic, 6).Select(r => LabelAvroDecoder.Decode(r.Message.Value).AlertId).ToHashSet();

    public void Dispose()
    {
        lock (_probeLock) _probe?.Dispose();
        Cluster.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
