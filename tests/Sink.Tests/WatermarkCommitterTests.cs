using Alerts.Sink.Delivery;
using Alerts.Sink.Kafka;
using Confluent.Kafka;

namespace Alerts.Sink.Tests;

public sealed class WatermarkCommitterTests
{
    [Fact]
    public void A_restarted_consumer_resumes_at_the_first_alert_not_durable_in_every_sink()
    {
        using var cluster = new MockCluster(1);
        cluster.CreateTopic("in", 2);
        using (var p = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (int i = 0; i < 40; i++) p.Produce(new TopicPartition("in", i % 2), new Message<Null, string> { Value = i.ToString() });
            p.Flush(TimeSpan.FromSeconds(10));
        }
        var cfg = new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "g", EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest };
        var tracker = new PartitionWatermarkTracker(sinkCount: 2);
        using (var c = new ConsumerBuilder<Null, string>(cfg).Build())
        {
            c.Assign([new TopicPartitionOffset("in", 0, Offset.Beginning), new TopicPartitionOffset("in", 1, Offset.Beginning)]);
            var got = new List<ConsumeResult<Null, string>>();
            while (got.Count < 40) { var r = c.Consume(TimeSpan.FromSeconds(10)); Assert.NotNull(r); got.Add(r); tracker.Track(r.TopicPartition.Key(), r.Offset.Value); }
            // Sink 0 (Parquet) has everything; sink 1 (Kafka) is missing offset 7 on partition 0 and 12 on partition 1.
            foreach (var r in got)
            {
                tracker.Complete(r.TopicPartition.Key(), r.Offset.Value, 0);
                if (!(r.Partition.Value == 0 && r.Offset.Value == 7) && !(r.Partition.Value == 1 && r.Offset.Value == 12))
                    tracker.Complete(r.TopicPartition.Key(), r.Offset.Value, 1);
            }
            var committed = WatermarkCommitter.CommitDurable(c, tracker);
            Assert.Equal([7L, 12L], committed.OrderBy(x => x.Partition.Partition).Select(x => x.Offset));
            c.Close();
        }
        using (var c2 = new ConsumerBuilder<Null, string>(cfg).Build())
        {
            var offs = c2.Committed([new TopicPartition("in", 0), new TopicPartition("in", 1)], TimeSpan.FromSeconds(10));
            Assert.Equal([7L, 12L], offs.OrderBy(o => o.Partition.Value).Select(o => o.Offset.Value));
            c2.Assign(offs);
            var first = c2.Consume(TimeSpan.FromSeconds(10));
            Assert.Contains(first.Offset.Value, new long[] { 7, 12 }); // the incomplete alerts are re-delivered, nothing before them
        }
    }
}
