using System.Text;
using Alerts.Sink.Kafka;
using Confluent.Kafka;

namespace Alerts.Sink.Tests;

/// <summary>
/// What librdkafka's mock cluster can and cannot prove about exactly-once (see src/Sink/README.md, "Exactly-once
/// mode"; ExactlyOnceRelayTests prove what it supports: commit, abort of records still in the producer, re-processing
/// after an abort without loss). These characterization tests pin down the mock's gaps as observed facts, so the
/// day a librdkafka upgrade closes one, a test fails and says which proof can now move onto the mock.
/// </summary>
public sealed class ExactlyOnceMockLimitsTests
{
    private static ProducerConfig Transactional(string bootstrap, string id) =>
        new() { BootstrapServers = bootstrap, TransactionalId = id, EnableIdempotence = true, LingerMs = 5 };

    /// <summary>Characterization: on the mock, a second producer with the same transactional.id does not fence the
    /// first (its InitProducerId does not bump the epoch against the open transaction), so the zombie's commit succeeds.
    /// A real broker fails it with PRODUCER_FENCED / INVALID_PRODUCER_EPOCH (KIP-98), which is what stops a stalled
    /// instance from committing after its successor took over; that part of the relay cannot be shown here.</summary>
    [Fact]
    public void Mock_limit_a_second_producer_with_the_same_transactional_id_does_not_fence_the_first()
    {
        using var cluster = new MockCluster(3);
        cluster.CreateTopic("out", 3);
        using var zombie = new ProducerBuilder<string, string>(Transactional(cluster.BootstrapServers, "alerts-eos-0")).Build();
        zombie.InitTransactions(TimeSpan.FromSeconds(30));
        zombie.BeginTransaction();
        zombie.Produce("out", new Message<string, string> { Key = "k", Value = "from the zombie" });
        zombie.Flush(TimeSpan.FromSeconds(10));

        using var successor = new ProducerBuilder<string, string>(Transactional(cluster.BootstrapServers, "alerts-eos-0")).Build();
        successor.InitTransactions(TimeSpan.FromSeconds(30)); // a real broker: bumps the epoch and fences the zombie

        zombie.CommitTransaction(TimeSpan.FromSeconds(30));  // a real broker: throws (fenced)

        successor.BeginTransaction();
        successor.Produce("out", new Message<string, string> { Key = "k", Value = "from the successor" });
        successor.CommitTransaction(TimeSpan.FromSeconds(30));
        Assert.Equal(["from the successor", "from the zombie"],
            KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "out", 3, readCommitted: true).Select(r => Encoding.UTF8.GetString(r.Message.Value)).Order());
    }

    /// <summary>Characterization: on the mock, read_committed readers see records of a transaction that is still open
    /// (its Fetch reports LSO = high watermark and no aborted transactions). A real broker holds them back until the commit.</summary>
    [Fact]
    public void Mock_limit_read_committed_sees_records_of_an_open_transaction()
    {
        using var cluster = new MockCluster(1);
        cluster.CreateTopic("out", 1);
        using var p = new ProducerBuilder<string, string>(Transactional(cluster.BootstrapServers, "alerts-eos-open")).Build();
        p.InitTransactions(TimeSpan.FromSeconds(30));
        p.BeginTransaction();
        for (int i = 0; i < 10; i++) p.Produce("out", new Message<string, string> { Key = "k", Value = i.ToString() });
        p.Flush(TimeSpan.FromSeconds(10));

        var seen = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "out", 1, readCommitted: true);
        Assert.Equal(10, seen.Count); // a real broker: 0 until CommitTransaction
        p.AbortTransaction(TimeSpan.FromSeconds(30));
    }

    /// <summary>Characterization: offsets sent with SendOffsetsToTransaction and committed are not returned by
    /// OffsetFetch (Committed()) on the mock, so a restarted relay cannot resume from them there.</summary>
    [Fact]
    public void Mock_limit_transactional_offsets_are_not_returned_by_committed()
    {
        using var cluster = new MockCluster(1);
        cluster.CreateTopic("in", 1);
        cluster.CreateTopic("out", 1);
        Produce(cluster.BootstrapServers, "in", 5);
        var group = "eos-offsets";
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = group, EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest, IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Subscribe("in");
        var records = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (records.Count < 5 && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) records.Add(r);
        Assert.Equal(5, records.Count);

        using var p = new ProducerBuilder<string, string>(Transactional(cluster.BootstrapServers, "alerts-eos-offsets")).Build();
        p.InitTransactions(TimeSpan.FromSeconds(30));
        p.BeginTransaction();
        p.Produce("out", new Message<string, string> { Key = "k", Value = "v" });
        var tp = new TopicPartition("in", 0);
        p.SendOffsetsToTransaction([new TopicPartitionOffset(tp, 5)], consumer.ConsumerGroupMetadata, TimeSpan.FromSeconds(30));
        p.CommitTransaction(TimeSpan.FromSeconds(30));

        var committed = consumer.Committed([tp], TimeSpan.FromSeconds(10)).Single();
        Assert.Equal(Offset.Unset, committed.Offset); // a real broker: 5
        consumer.Close();
    }

    private static void Produce(string bootstrap, string topic, int n)
    {
        using var p = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, EnableIdempotence = true }).Build();
        for (int i = 0; i < n; i++) p.Produce(topic, new Message<string, string> { Key = "obj" + (i % 97), Value = i.ToString() });
        p.Flush(TimeSpan.FromSeconds(30));
    }
}
