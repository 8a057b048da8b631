using Alerts.Core;
using Alerts.Ingest.Kafka;
using Alerts.Pipeline.Service;
using Alerts.Sink.Kafka;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>The Kafka source against librdkafka's mock cluster: every produced offset comes out, in order per partition.</summary>
public sealed class KafkaAlertSourceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_group_consumer_reads_every_offset_of_every_partition_from_the_start()
    {
        using var cluster = new MockCluster(3);
        cluster.CreateTopic("t", 6);
        int n = 0;
        using (var p = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = cluster.BootstrapServers }))
        {
            for (int i = 0; i < 5000; i++) { p.Produce("t", new byte[1000]); n++; }
            p.Flush(TimeSpan.FromSeconds(30));
            Assert.Equal(n, p.Delivered);
        }
        using var source = new KafkaAlertSource(new KafkaSourceOptions
        {
            Topics = ["t"],
            Properties = new Dictionary<string, string> { ["bootstrap.servers"] = cluster.BootstrapServers, ["group.id"] = "g", ["max.partition.fetch.bytes"] = "52428800" },
        });
        var seen = new Dictionary<int, List<long>>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int count = 0;
        await foreach (var raw in source.ReadAsync(cts.Token))
        {
            if (!seen.TryGetValue(raw.Position.Partition, out var l)) seen[raw.Position.Partition] = l = [];
            l.Add(raw.Position.Offset);
            if (++count == n) break;
        }
        foreach (var (p, l) in seen.OrderBy(kv => kv.Key)) output.WriteLine($"partition {p}: {l.Count} offsets, first {l[0]}, last {l[^1]}");
        Assert.Equal(n, count);
        foreach (var (_, l) in seen) Assert.Equal(Enumerable.Range(0, l.Count).Select(i => (long)i), l);
    }
}
