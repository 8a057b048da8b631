using Alerts.Sink.Kafka;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>
/// The label and dead-letter topics must exist before `alerts run` starts: on clusters with
/// auto.create.topics.enable=false every produce to a missing topic fails. The service checks at start by listing the
/// cluster's topics (which never auto-creates one) and exits 2 naming the topic, its key and the fix.
/// </summary>
public sealed class TopicCheckTests(ITestOutputHelper output) : IDisposable
{
    private readonly MockCluster _cluster = new(1);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "alerts-topics-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _cluster.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    [Fact]
    public async Task Missing_label_and_dead_letter_topics_stop_the_start_with_exit_2_naming_them_and_are_not_auto_created()
    {
        _cluster.CreateTopic(ServiceHarness.AlertTopic, 2); // only the input topic exists
        var (code, log) = await AlertsProcess.RunAsync(TimeSpan.FromSeconds(60), ServiceHarness.RunArgs(_cluster.BootstrapServers, Path.Combine(_root, "archive"), "topics"));
        output.WriteLine(log);
        Assert.True(code == 2, $"exit {code}:\n{log}");
        Assert.Contains($"Kafka topics '{ServiceHarness.LabelTopic}' (Alerts:Labels:Topic), '{ServiceHarness.DeadLetterTopic}' (Alerts:DeadLetter:Topic) do not exist on {_cluster.BootstrapServers}", log);
        Assert.Contains($"kafka-topics.sh --bootstrap-server <brokers> --create --topic {ServiceHarness.LabelTopic}", log);
        Assert.Contains("Alerts:Kafka:CheckTopics=false", log);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.BootstrapServers }).Build();
        var topics = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).ToList();
        Assert.Equal([ServiceHarness.AlertTopic], topics);
    }
}
