using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Alerts.Core;
using Confluent.Kafka;

namespace Alerts.Ingest.Kafka;

/// <summary>Settings of a Kafka alert source. Every librdkafka property passes through <see cref="Properties"/>.</summary>
public sealed record KafkaSourceOptions
{
    /// <summary>librdkafka consumer properties (bootstrap.servers, group.id, security.protocol, sasl.*, ssl.*, ...).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>Topics to subscribe to. A name starting with '^' is a regex (ZTF: <c>^ztf_[0-9]{8}_programid1$</c>).</summary>
    public IReadOnlyList<string> Topics { get; init; } = [];

    /// <summary>Messages buffered between the consume thread and the pipeline.</summary>
    public int BufferCapacity { get; init; } = 1024;
}

/// <summary>
/// A Kafka consumer-group source. Auto-commit and auto offset store are forced off: offsets are committed only
/// through <see cref="Commit"/>, which the service calls behind its per-partition durable watermark
/// (commit after the sinks hold the data, as in the Confluent.Kafka examples).
///
/// librdkafka's Consume is blocking, so it runs on a dedicated thread that feeds a bounded channel; rebalance
/// callbacks run on that thread, which lets <see cref="PartitionsRevoking"/> block the revoke until the
/// pipeline has drained and committed what belongs to the revoked partitions.
/// </summary>
public sealed class KafkaAlertSource : IAlertSource, IDisposable
{
    private readonly KafkaSourceOptions _options;
    private readonly IConsumer<byte[]?, ArraySegment<byte>> _consumer;
    // Assignment epoch per partition, bumped (under _epochLock) on every assign, revoke and loss. A message carries the
    // epoch of its partition when it was consumed; one that reaches ReadAsync after its partition changed hands is
    // stale (its offset will be re-read by whoever owns the partition now) and is dropped instead of handed out.
    private readonly Dictionary<(string, int), long> _epochs = new();
    private readonly Lock _epochLock = new();
    private long _staleDropped;

    public KafkaAlertSource(KafkaSourceOptions options, Action<LogMessage>? log = null, Action<string>? statistics = null)
    {
        _options = options;
        var config = new ConsumerConfig(new Dictionary<string, string>(options.Properties))
        {
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
        };
        config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
        var builder = new ConsumerBuilder<byte[]?, ArraySegment<byte>>(config)
            .SetValueDeserializer(new PooledPayloadDeserializer(Payloads))
            .SetPartitionsAssignedHandler((_, parts) => { BumpEpochs(parts); PartitionsAssigned?.Invoke(parts); })
            .SetPartitionsRevokedHandler((_, parts) =>
            {
                var tps = parts.Select(p => p.TopicPartition).ToList();
                BumpEpochs(tps);
                PartitionsRevoking?.Invoke(tps);
            })
            .SetPartitionsLostHandler((_, parts) =>
            {
                var tps = parts.Select(p => p.TopicPartition).ToList();
                BumpEpochs(tps);
                PartitionsLost?.Invoke(tps);
            })
            .SetErrorHandler((_, e) => Error?.Invoke(e));
        if (log is not null) builder.SetLogHandler((_, m) => log(m));
        if (statistics is not null) builder.SetStatisticsHandler((_, json) => statistics(json));
        _consumer = builder.Build();
    }

    public string Description => "kafka " + string.Join(",", _options.Topics);

    /// <summary>Where consumed message values live (see <see cref="Release"/>).</summary>
    public PayloadPool Payloads { get; } = new();

    /// <summary>
    /// Hands an alert's bytes back for reuse once nothing reads them any more (decoded and classified, or written as a
    /// dead letter by a sink that copied them). At most once per alert; an alert never released is simply collected.
    /// </summary>
    public void Release(RawAlert alert) => Payloads.Return(alert.Payload);

    // Both rebalance protocols: with eager assignors (range, roundrobin) each event carries the whole assignment; with
    // partition.assignment.strategy=cooperative-sticky it carries only the delta (Confluent.Kafka then calls
    // IncrementalAssign/IncrementalUnassign after the handler), and partitions that stay are never revoked. The epochs
    // above are per partition, so either way only the partitions named in an event change epoch.

    /// <summary>Raised on the consume thread when partitions are assigned (resume from committed offsets).</summary>
    public event Action<IReadOnlyList<TopicPartition>>? PartitionsAssigned;

    /// <summary>Raised on the consume thread before partitions go away: drain and commit them before returning.</summary>
    public event Action<IReadOnlyList<TopicPartition>>? PartitionsRevoking;

    /// <summary>Raised when partitions were lost without a clean revoke (their uncommitted work will be redelivered elsewhere).</summary>
    public event Action<IReadOnlyList<TopicPartition>>? PartitionsLost;

    public event Action<Error>? Error;

    public IConsumer<byte[]?, ArraySegment<byte>> Consumer => _consumer;

    /// <summary>
    /// Called for each message, in consumption order per partition, just before it is handed out, under the same lock
    /// that changes assignments: a message admitted here belongs to the current owner of its partition. Return false
    /// to drop it (e.g. an offset at or before one already admitted). The service registers offsets with its
    /// watermark here, so nothing is tracked for a partition after its revoke began.
    /// </summary>
    public Func<RawAlert, bool>? Admit { get; set; }

    /// <summary>Messages dropped because their partition was revoked or reassigned between consume and hand-out.</summary>
    public long StaleDropped => Interlocked.Read(ref _staleDropped);

    private void BumpEpochs(IEnumerable<TopicPartition> parts)
    {
        lock (_epochLock)
            foreach (var tp in parts)
            {
                var key = (tp.Topic, tp.Partition.Value);
                _epochs[key] = _epochs.GetValueOrDefault(key) + 1;
            }
    }

    private long EpochOf(string topic, int partition)
    {
        lock (_epochLock) return _epochs.GetValueOrDefault((topic, partition));
    }

    /// <summary>
    /// Commits offsets (the next offset to read, per partition). Serialised with <see cref="Close"/> and
    /// <see cref="Dispose"/>; after Dispose it throws ObjectDisposedException instead of touching a freed handle.
    /// </summary>
    public void Commit(IEnumerable<TopicPartitionOffset> offsets)
    {
        var list = offsets.ToList();
        if (list.Count == 0) return;
        lock (_handleLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _consumer.Commit(list);
        }
    }

    // The native consumer must not be destroyed while another thread is inside one of its calls: librdkafka frees the
    // handle in rd_kafka_destroy, and a Consume, Commit or Close still running on it then writes into freed memory
    // (the "malloc(): unaligned tcache chunk detected" aborts seen in the Kafka service tests). So Commit, Close and
    // Dispose take one lock (Close's revoke callback commits on the same thread: the lock is re-entrant), and Dispose
    // first waits for the consume thread to leave; one that does not is left running and the handle is leaked rather
    // than freed under it.
    private readonly object _handleLock = new();
    private bool _disposed;
    private Thread? _consumeThread;

    /// <summary>How long <see cref="Dispose"/> waits for the consume thread to stop (it polls its token every 100 ms).</summary>
    public static TimeSpan ConsumeThreadStopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<(RawAlert Alert, long Epoch)>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var thread = new Thread(() => ConsumeLoop(channel.Writer, cancellationToken))
        {
            IsBackground = true,
            Name = "kafka-consume",
        };
        _consumeThread = thread;
        thread.Start();
        await foreach (var (alert, epoch) in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            bool admitted;
            lock (_epochLock)
            {
                var p = alert.Position;
                admitted = _epochs.GetValueOrDefault((p.Origin, p.Partition)) == epoch && (Admit?.Invoke(alert) ?? true);
                if (!admitted && _epochs.GetValueOrDefault((p.Origin, p.Partition)) != epoch) Interlocked.Increment(ref _staleDropped);
            }
            if (admitted) yield return alert;
            else Release(alert); // never handed out
        }
    }

    private void ConsumeLoop(ChannelWriter<(RawAlert, long)> writer, CancellationToken ct)
    {
        Exception? failure = null;
        try
        {
            if (_options.Topics.Count == 0)
                throw new InvalidOperationException("Kafka source: no topics configured. Set Kafka:Topics (a name, or a regex starting with '^').");
            _consumer.Subscribe(_options.Topics);
            while (!ct.IsCancellationRequested)
            {
                ConsumeResult<byte[]?, ArraySegment<byte>>? result;
                try
                {
                    result = _consumer.Consume(ct);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    Error?.Invoke(ex.Error);
                    continue;
                }
                if (result is null || result.IsPartitionEOF) continue;
                var raw = new RawAlert(
                    result.Message.Value.AsMemory(),
                    SourcePosition.Kafka(result.Topic, result.Partition.Value, result.Offset.Value),
                    DateTimeOffset.UtcNow,
                    result.Message.Timestamp.Type == TimestampType.NotAvailable ? null : new DateTimeOffset(result.Message.Timestamp.UtcDateTime));
                var item = (raw, EpochOf(result.Topic, result.Partition.Value));
                // Blocking write: back-pressure from the pipeline stops consumption (librdkafka keeps the session alive).
                while (!writer.TryWrite(item))
                {
                    if (!writer.WaitToWriteAsync(ct).AsTask().GetAwaiter().GetResult()) return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            writer.TryComplete(failure);
        }
    }

    /// <summary>Leaves the group cleanly (triggers the revoke callback, so drained offsets get committed).</summary>
    public void Close()
    {
        lock (_handleLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _consumer.Close();
        }
    }

    /// <summary>
    /// Frees the native consumer once the consume thread has stopped (cancel the token given to <see cref="ReadAsync"/>
    /// first). A consume thread still running after <see cref="ConsumeThreadStopTimeout"/> keeps the handle alive: a
    /// leak, never a use after free.
    /// </summary>
    public void Dispose()
    {
        if (_consumeThread is { } t && t != Thread.CurrentThread && !t.Join(ConsumeThreadStopTimeout)) return;
        lock (_handleLock)
        {
            if (_disposed) return;
            _disposed = true;
            _consumer.Dispose();
        }
    }
}

/// <summary>Copies each message value out of librdkafka's buffer into an array from a <see cref="PayloadPool"/>.</summary>
internal sealed class PooledPayloadDeserializer(PayloadPool pool) : IDeserializer<ArraySegment<byte>>
{
    public ArraySegment<byte> Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull) return ArraySegment<byte>.Empty;
        var bytes = pool.Rent(data.Length);
        data.CopyTo(bytes.AsSpan());
        return bytes;
    }
}
