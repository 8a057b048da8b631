using Confluent.Kafka;

namespace Alerts.Sink.Kafka;

/// <summary>One message a relay step wants to publish.</summary>
public readonly record struct OutboundMessage(string Topic, string? Key, byte[] Value, Headers? Headers = null);

public sealed record ExactlyOnceOptions
{
    /// <summary>Consumer properties (bootstrap.servers, group.id, security...). Auto-commit is forced off and isolation to read_committed.</summary>
    public required IReadOnlyDictionary<string, string> Consumer { get; init; }
    /// <summary>Producer properties; <c>transactional.id</c> is required and must be stable per instance (e.g. "alerts-&lt;host&gt;-0").</summary>
    public required IReadOnlyDictionary<string, string> Producer { get; init; }
    public required IReadOnlyList<string> InputTopics { get; init; }
    public int MaxBatch { get; init; } = 1000;
    public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Called after the batch's messages were produced and before the commit (metrics, fault injection in tests). Throwing aborts the transaction.</summary>
    public Action<long>? BeforeCommit { get; init; }
}

public sealed record ExactlyOnceStats(long Batches, long Committed, long Aborted, long MessagesIn, long MessagesOut);

/// <summary>
/// Kafka -> Kafka with exactly-once semantics (KIP-98/KIP-447): each batch's output messages and the consumer offsets
/// that produced them are committed in one producer transaction (SendOffsetsToTransaction with the consumer's group
/// metadata), so a read_committed reader of the output sees each input's outputs exactly once even across crashes,
/// aborts and rebalances. On a failed batch the transaction is aborted and the consumer rewinds to the batch start.
/// <para>Rebalance: the consumer is only polled while no transaction is open, so revocations happen between
/// transactions. Records of partitions revoked while a batch was being gathered are dropped from the batch (the new
/// owner re-reads them from the last transactional commit), and the group metadata sent with the offsets lets the broker
/// fence a zombie instance (KIP-447): its transaction fails and is aborted.</para>
/// </summary>
public sealed class ExactlyOnceRelay : IDisposable
{
    private readonly ExactlyOnceOptions _o;
    private readonly IConsumer<byte[]?, byte[]> _consumer;
    private readonly IProducer<string?, byte[]> _producer;
    private long _batches, _committed, _aborted, _in, _out;
    private bool _rebalanced;

    public ExactlyOnceRelay(ExactlyOnceOptions options)
    {
        _o = options;
        if (!options.Producer.ContainsKey("transactional.id"))
            throw new ArgumentException("Exactly-once mode needs 'transactional.id' in the producer properties (Kafka:ExactlyOnce:Producer:transactional.id), stable per instance.");
        var cc = new Dictionary<string, string>(options.Consumer.ToDictionary())
        {
            ["enable.auto.commit"] = "false",
            ["isolation.level"] = "read_committed",
        };
        cc.TryAdd("auto.offset.reset", "earliest");
        var pc = new Dictionary<string, string>(options.Producer.ToDictionary()) { ["enable.idempotence"] = "true" };
        pc.TryAdd("linger.ms", "5");
        _consumer = new ConsumerBuilder<byte[]?, byte[]>(cc)
            .SetPartitionsRevokedHandler((_, _) => _rebalanced = true)
            .SetPartitionsLostHandler((_, _) => _rebalanced = true)
            .Build();
        _producer = new ProducerBuilder<string?, byte[]>(pc).Build();
    }

    public ExactlyOnceStats Stats => new(_batches, _committed, _aborted, _in, _out);

    /// <summary>
    /// Runs until cancelled: consume a batch, transform it, produce the outputs and the offsets in one transaction.
    /// <paramref name="transform"/> must be deterministic per input (a retried batch produces the same outputs).
    /// </summary>
    public async Task RunAsync(Func<IReadOnlyList<ConsumeResult<byte[]?, byte[]>>, IList<OutboundMessage>, ValueTask> transform, CancellationToken ct)
    {
        _producer.InitTransactions(_o.OperationTimeout);
        _consumer.Subscribe(_o.InputTopics);
        var batch = new List<ConsumeResult<byte[]?, byte[]>>(_o.MaxBatch);
        var outputs = new List<OutboundMessage>(_o.MaxBatch);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                batch.Clear(); outputs.Clear();
                var until = DateTime.UtcNow + _o.MaxBatchWait;
                while (batch.Count < _o.MaxBatch)
                {
                    var left = until - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) break;
                    ConsumeResult<byte[]?, byte[]>? r;
                    try { r = _consumer.Consume(left); }
                    catch (ConsumeException e) when (!e.Error.IsFatal) { continue; }
                    if (r is null) break;
                    if (r.IsPartitionEOF) continue;
                    batch.Add(r);
                }
                if (_rebalanced)
                {
                    _rebalanced = false;
                    var owned = _consumer.Assignment.ToHashSet();
                    batch.RemoveAll(r => !owned.Contains(r.TopicPartition));
                }
                if (batch.Count == 0) continue;
                _batches++;
                _producer.BeginTransaction();
                try
                {
                    await transform(batch, outputs);
                    string? error = null;
                    foreach (var m in outputs)
                        _producer.Produce(m.Topic, new Message<string?, byte[]> { Key = m.Key, Value = m.Value, Headers = m.Headers },
                            r => { if (r.Error.IsError) error ??= r.Error.ToString(); });
                    _o.BeforeCommit?.Invoke(_batches);
                    var offsets = NextOffsets(batch);
                    _producer.SendOffsetsToTransaction(offsets, _consumer.ConsumerGroupMetadata, _o.OperationTimeout);
                    _producer.CommitTransaction(_o.OperationTimeout); // flushes the produced messages first
                    if (error is not null) throw new KafkaDeliveryException("exactly-once relay: a delivery failed inside a committed transaction: " + error);
                    _committed++; _in += batch.Count; _out += outputs.Count;
                }
                catch (Exception e) when (e is not KafkaDeliveryException && !(e is KafkaException ke && ke.Error.IsFatal))
                {
                    _aborted++;
                    try { _producer.AbortTransaction(_o.OperationTimeout); }
                    catch (KafkaException ae) when (!ae.Error.IsFatal) { }
                    Rewind(batch);
                    if (e is OperationCanceledException) throw;
                }
            }
        }
        finally
        {
            _consumer.Close();
        }
    }

    private static List<TopicPartitionOffset> NextOffsets(List<ConsumeResult<byte[]?, byte[]>> batch)
    {
        var next = new Dictionary<TopicPartition, long>();
        foreach (var r in batch) next[r.TopicPartition] = r.Offset.Value + 1;
        return next.Select(kv => new TopicPartitionOffset(kv.Key, kv.Value)).ToList();
    }

    /// <summary>Seeks every partition of the aborted batch back to its first offset in the batch.</summary>
    private void Rewind(List<ConsumeResult<byte[]?, byte[]>> batch)
    {
        var first = new Dictionary<TopicPartition, long>();
        foreach (var r in batch) if (!first.ContainsKey(r.TopicPartition)) first[r.TopicPartition] = r.Offset.Value;
        var assigned = _consumer.Assignment.ToHashSet();
        foreach (var (tp, off) in first)
            if (assigned.Contains(tp)) _consumer.Seek(new TopicPartitionOffset(tp, off));
    }

    public void Dispose()
    {
        _producer.Dispose();
        _consumer.Dispose();
    }
}
