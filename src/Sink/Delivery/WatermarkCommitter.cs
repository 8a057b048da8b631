using Confluent.Kafka;

namespace Alerts.Sink.Delivery;

/// <summary>
/// Glue between a Confluent consumer and <see cref="PartitionWatermarkTracker"/> for the at-least-once path:
/// commit what every sink has made durable, and drain + commit on revoke. Use from the consumer's own thread.
/// </summary>
public static class WatermarkCommitter
{
    public static TopicPartitionKey Key(this TopicPartition tp) => new(tp.Topic, tp.Partition.Value);

    /// <summary>Commits every partition whose watermark moved; returns the committed offsets.
    /// A failed commit is left in the tracker and retried on the next call.</summary>
    public static IReadOnlyList<CommittableOffset> CommitDurable<TKey, TValue>(IConsumer<TKey, TValue> consumer, PartitionWatermarkTracker tracker)
    {
        var offsets = tracker.GetCommittable();
        if (offsets.Count == 0) return offsets;
        consumer.Commit(offsets.Select(o => new TopicPartitionOffset(o.Partition.Topic, o.Partition.Partition, o.Offset)));
        tracker.MarkCommitted(offsets);
        return offsets;
    }

    /// <summary>
    /// For <c>SetPartitionsRevokedHandler</c>: waits (up to <paramref name="drainTimeout"/>) until the revoked partitions'
    /// in-flight alerts are durable in every sink, commits their watermarks, and stops tracking them. The caller must keep
    /// flushing sinks while this waits (e.g. the sink stage runs on its own task). What is still in flight at the timeout
    /// is re-delivered to the next owner.
    /// </summary>
    public static void DrainAndCommitRevoked<TKey, TValue>(IConsumer<TKey, TValue> consumer, PartitionWatermarkTracker tracker,
        IEnumerable<TopicPartitionOffset> revoked, TimeSpan drainTimeout)
    {
        var keys = revoked.Select(r => r.TopicPartition.Key()).ToArray();
        using var cts = new CancellationTokenSource(drainTimeout);
        tracker.WaitDrainedAsync(keys, cts.Token).GetAwaiter().GetResult();
        var commits = new List<TopicPartitionOffset>();
        foreach (var k in keys)
            if (tracker.Revoke(k) is long o) commits.Add(new TopicPartitionOffset(k.Topic, k.Partition, o));
        if (commits.Count > 0)
        {
            try { consumer.Commit(commits); }
            catch (KafkaException) { /* lost the generation: the next owner re-reads from the last commit (at-least-once) */ }
        }
    }
}
