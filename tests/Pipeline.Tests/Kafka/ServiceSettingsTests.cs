using System.Net;
using System.Net.Sockets;
using Alerts.Pipeline.Service;
using Microsoft.Extensions.Configuration;
using Prometheus;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>The `alerts run` configuration: keys, pass-through, validation messages, secret masking; and the probes.</summary>
public sealed class ServiceSettingsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] extra)
    {
        var d = new Dictionary<string, string?>
        {
            ["Alerts:Kafka:Topics:0"] = "^ztf_[0-9]{8}_programid1$",
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = "broker:9093",
            ["Alerts:Kafka:Consumer:group.id"] = "alerts",
            ["Alerts:Kafka:Consumer:security.protocol"] = "SASL_SSL",
            ["Alerts:Kafka:Consumer:sasl.mechanism"] = "SCRAM-SHA-512",
            ["Alerts:Kafka:Consumer:sasl.username"] = "broker-user",
            ["Alerts:Kafka:Consumer:sasl.password"] = "hunter2",
            ["Alerts:Kafka:Producer:ssl.key.password"] = "keypass",
            ["Alerts:Archive:Root"] = "/tmp/archive",
            ["Alerts:Labels:Topic"] = "alerts.labels",
            ["Alerts:Labels:Routes:0:Topic"] = "alerts.snia",
            ["Alerts:Labels:Routes:0:Rule"] = "SNIa >= 0.8",
        };
        foreach (var (k, v) in extra) d[k] = v;
        return new ConfigurationBuilder().AddInMemoryCollection(d).Build();
    }

    [Fact]
    public void Ingest_limits_default_to_IngestLimits_Default_and_each_key_sets_one()
    {
        var d = ServiceSettings.FromConfiguration(Config()).Limits;
        Assert.Equal(Alerts.Ingest.IngestLimits.Default, d);
        Assert.Equal(16 << 20, d.MaxAlertBytes);
        var s = ServiceSettings.FromConfiguration(Config(("Alerts:Ingest:MaxAlertBytes", "2048"), ("Alerts:Ingest:MaxHistoryRows", "50"),
            ("Alerts:Ingest:MaxValueBytes", "4096"), ("Alerts:Ingest:MaxItems", "77"), ("Alerts:Ingest:MaxSchemaJsonBytes", "9999"),
            ("Alerts:Ingest:MaxSchemaDepth", "20"), ("Alerts:Ingest:MaxInflatedBytes", "123456"))).Limits;
        Assert.Equal((2048, 50, 4096, 77L, 9999, 20, 123456),
            (s.MaxAlertBytes, s.MaxHistoryRows, s.Avro.MaxValueBytes, s.Avro.MaxItems, s.Avro.MaxSchemaJsonBytes, s.Avro.MaxSchemaDepth, s.Avro.MaxInflatedBytes));
        var bad = Assert.Throws<ServiceConfigurationException>(() => ServiceSettings.FromConfiguration(Config(("Alerts:Ingest:MaxAlertByte", "1"))));
        Assert.Contains("MaxAlertBytes", bad.Message);
    }

    [Fact]
    public void Librdkafka_properties_pass_through_and_producers_inherit_the_consumers_connection_and_security()
    {
        var s = ServiceSettings.FromConfiguration(Config(("Alerts:Kafka:Consumer:fetch.wait.max.ms", "50")));
        Assert.Equal("50", s.Consumer["fetch.wait.max.ms"]);
        Assert.Equal("SCRAM-SHA-512", s.Consumer["sasl.mechanism"]);
        Assert.Equal("broker:9093", s.Producer["bootstrap.servers"]);
        Assert.Equal("hunter2", s.Producer["sasl.password"]);
        Assert.Equal("keypass", s.Producer["ssl.key.password"]);
        Assert.False(s.Producer.ContainsKey("group.id"));
        Assert.Equal(["^ztf_[0-9]{8}_programid1$"], s.Topics);
        Assert.Equal([new KeyValuePair<string, string>("alerts.snia", "SNIa >= 0.8")], s.LabelRoutes);
    }

    [Fact]
    public void Secrets_are_masked_in_the_logged_configuration_and_nothing_else_is()
    {
        var view = ServiceSettings.MaskedView(Config(("Alerts:Kafka:Consumer:ssl.key.pem", "-----BEGIN PRIVATE KEY-----"),
            ("Alerts:Kafka:Consumer:sasl.oauthbearer.config", "clientSecret=abc"))).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("***", view["Alerts:Kafka:Consumer:sasl.password"]);
        Assert.Equal("***", view["Alerts:Kafka:Producer:ssl.key.password"]);
        Assert.Equal("***", view["Alerts:Kafka:Consumer:ssl.key.pem"]);
        Assert.Equal("***", view["Alerts:Kafka:Consumer:sasl.oauthbearer.config"]);
        Assert.Equal("broker-user", view["Alerts:Kafka:Consumer:sasl.username"]);
        Assert.Equal("broker:9093", view["Alerts:Kafka:Consumer:bootstrap.servers"]);
        Assert.DoesNotContain(view.Values, v => v.Contains("hunter2") || v.Contains("keypass") || v.Contains("PRIVATE"));
    }

    [Theory]
    [InlineData("Alerts:Kafka:Topics:0", "^ztf_\\d{8}_programid1$", "[0-9]")]
    [InlineData("Alerts:Kafka:Consumer:enable.auto.commit", "true", "durable watermark")]
    [InlineData("Alerts:Pipeline:BatchSize", "lots", "Alerts:Pipeline:BatchSize")]
    [InlineData("Alerts:Logging:Format", "xml", "Alerts:Logging:Format")]
    [InlineData("Alerts:Pipeline:ClassifyWorkers", "0", "Alerts:Pipeline:ClassifyWorkers")]
    [InlineData("Alerts:Pipeline:SinkQueueBatches", "-1", "Alerts:Pipeline:SinkQueueBatches")]
    [InlineData("Alerts:Archive:WriterId", "pod-1", "Alerts:Archive:WriterId")]
    public void A_bad_key_is_rejected_with_a_message_naming_it_and_the_fix(string key, string value, string expected)
    {
        var ex = Assert.Throws<ServiceConfigurationException>(() => ServiceSettings.FromConfiguration(Config((key, value))));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Classify_loops_and_the_sink_queue_default_to_one_loop_per_core_and_eight_batches_and_can_be_set()
    {
        var defaults = ServiceSettings.FromConfiguration(Config());
        Assert.Equal(Environment.ProcessorCount, defaults.ClassifyWorkers);
        Assert.Equal(8, defaults.SinkQueueBatches);
        var set = ServiceSettings.FromConfiguration(Config(("Alerts:Pipeline:ClassifyWorkers", "3"), ("Alerts:Pipeline:SinkQueueBatches", "0")));
        Assert.Equal(3, set.ClassifyWorkers);
        Assert.Equal(0, set.SinkQueueBatches);
    }

    [Fact]
    public void The_cooperative_sticky_assignment_strategy_passes_through_to_the_consumer_only()
    {
        var s = ServiceSettings.FromConfiguration(Config(("Alerts:Kafka:Consumer:partition.assignment.strategy", "cooperative-sticky")));
        Assert.Equal("cooperative-sticky", s.Consumer["partition.assignment.strategy"]);
        Assert.False(s.Producer.ContainsKey("partition.assignment.strategy"));
        Assert.True(KafkaAlertService.IsCooperative(s.Consumer));
        Assert.False(KafkaAlertService.IsCooperative(ServiceSettings.FromConfiguration(Config()).Consumer)); // librdkafka's default: range,roundrobin (eager)
        Assert.False(KafkaAlertService.IsCooperative(ServiceSettings.FromConfiguration(Config(("Alerts:Kafka:Consumer:partition.assignment.strategy", "roundrobin"))).Consumer));
    }

    [Theory]
    [InlineData("cooperative-sticky,range", "mixes cooperative-sticky with eager")]
    [InlineData("sticky", "use cooperative-sticky")]
    public void An_assignment_strategy_librdkafka_would_refuse_is_rejected_naming_the_key(string value, string expected)
    {
        var ex = Assert.Throws<ServiceConfigurationException>(() => ServiceSettings.FromConfiguration(Config(("Alerts:Kafka:Consumer:partition.assignment.strategy", value))));
        Assert.Contains("Alerts:Kafka:Consumer:partition.assignment.strategy", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Missing_group_id_is_rejected()
    {
        var c = Config();
        c["Alerts:Kafka:Consumer:group.id"] = null;
        Assert.Contains("group.id", Assert.Throws<ServiceConfigurationException>(() => ServiceSettings.FromConfiguration(c)).Message);
    }

    [Fact]
    public void Consumer_lag_is_read_per_partition_from_librdkafka_statistics()
    {
        const string json = """{"topics":{"ztf_20261129_programid1":{"partitions":{"0":{"consumer_lag":12},"1":{"consumer_lag":-1},"-1":{"consumer_lag":5}}}}}""";
        Assert.Equal([("ztf_20261129_programid1", 0, 12L)], ConsumerStatistics.Lags(json));
    }

    [Fact]
    public async Task Probes_and_metrics_answer_on_the_configured_port()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var registry = Metrics.NewCustomRegistry();
        _ = new Observability.PipelineMetrics(registry);
        bool ready = false;
        await using var endpoint = new HealthEndpoint(port, registry, () => (true, "alive"), () => (ready, "partitions 0"));
        endpoint.Start();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
        ready = true;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("alerts_consumer_lag", metrics);
        Assert.Contains("alerts_ready", metrics);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/nope")).StatusCode);
    }
}
