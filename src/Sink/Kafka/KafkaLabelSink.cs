using System.Collections.Concurrent;
using Alerts.Core;
using Confluent.Kafka;

namespace Alerts.Sink.Kafka;

public sealed record KafkaLabelSinkOptions
{
    /// <summary>librdkafka properties passed through as they are (bootstrap.servers, security.protocol, sasl.*, ssl.*...).</summary>
    public required IReadOnlyDictionary<string, string> Producer { get; init; }
    public required LabelRouter Router { get; init; }
    public LabelEncoding Encoding { get; init; } = LabelEncoding.SingleRecordContainer;
    /// <summary>Registry id of alerts.label.Label, for <see cref="LabelEncoding.ConfluentWire"/>.</summary>
    public int SchemaId { get; init; }
    /// <summary>How long <see cref="KafkaLabelSink.FlushAsync"/> waits for acknowledgements before failing.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Where librdkafka's log lines go (the service's logger); null drops them. Never librdkafka's own stderr printer.</summary>
    public Action<LogMessage>? Log { get; init; }
    /// <summary>librdkafka's error events (with a handler librdkafka does not also log them as ERROR lines); null drops them.</summary>
    public Action<Error>? Errors { get; init; }
}

/// <summary>Deliveries failed: the sink is faulted; do not commit offsets, restart from the last committed ones.</summary>
public sealed class KafkaDeliveryException(string message) : Exception(message);

/// <summary>
/// Publishes one Avro label message per classification to every topic whose route matches. Key = object id, so all
/// labels of an object stay ordered in one partition. The producer is idempotent (enable.idempotence=true, acks=all):
/// librdkafka's retries never duplicate or reorder. Delivery reports are counted; <see cref="FlushAsync"/> returns
/// once every message produced so far is acknowledged, and throws <see cref="KafkaDeliveryException"/> if any
/// delivery failed (the failure is sticky: offsets past a lost label must never be committed).
/// </summary>
public sealed class KafkaLabelSink : IClassificationSink
{
    private readonly KafkaLabelSinkOptions _o;
    private readonly IProducer<byte[], byte[]> _producer;
    private readonly LabelAvroEncoder _encoder;
    private readonly List<string> _topics = new(4);
    private readonly Action<DeliveryReport<byte[], byte[]>> _onDelivery;
    // Confluent.Kafka hands every payload to librdkafka with RD_KAFKA_MSG_F_COPY: the bytes are copied inside Produce,
    // so one array per length (keys and values) and one Message serve every label, allocation-free.
    private readonly Dictionary<int, byte[]> _keyArrays = new(), _valueArrays = new();
    private readonly Message<byte[], byte[]> _message = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private long _inFlight, _delivered, _failed, _produced;

    public KafkaLabelSink(KafkaLabelSinkOptions options)
    {
        _o = options;
        _encoder = new LabelAvroEncoder(options.Encoding, options.SchemaId);
        _producer = new ProducerBuilder<byte[], byte[]>(ProducerConfigFor(options.Producer))
            .SetLogHandler((_, m) => options.Log?.Invoke(m))
            .SetErrorHandler((_, e) => options.Errors?.Invoke(e))
            .Build();
        _onDelivery = OnDelivery;
    }

    /// <summary>Our defaults under the user's properties: idempotent, acks=all, small linger, status-only delivery reports.</summary>
    public static ProducerConfig ProducerConfigFor(IReadOnlyDictionary<string, string> user)
    {
        var cfg = new Dictionary<string, string>
        {
            ["enable.idempotence"] = "true",
            ["acks"] = "all",
            ["linger.ms"] = "5",
            ["batch.num.messages"] = "10000",
            ["dotnet.producer.delivery.report.fields"] = "status",
        };
        foreach (var (k, v) in user) cfg[k] = v;
        if (!cfg.ContainsKey("bootstrap.servers"))
            throw new ArgumentException("Kafka label sink: 'bootstrap.servers' is missing from the producer properties (Kafka:Labels:Producer:bootstrap.servers).");
        if (cfg.TryGetValue("enable.idempotence", out var idem) && idem != "true")
            throw new ArgumentException("Kafka label sink: enable.idempotence must stay true (retries would otherwise duplicate or reorder labels).");
        return new ProducerConfig(cfg);
    }

    public string Name => "kafka-labels:" + string.Join(',', _o.Router.Routes.Select(r => r.Topic));
    public long Produced => Interlocked.Read(ref _produced);
    public long Delivered => Interlocked.Read(ref _delivered);
    public long Failed => Interlocked.Read(ref _failed);
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Raised on librdkafka's delivery thread for each label the brokers acknowledged, with its topic.</summary>
    public event Action<string>? LabelDelivered;

    public ValueTask WriteAsync(IReadOnlyList<Classification> batch, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            var c = batch[i];
            _o.Router.Match(c, _topics);
            if (_topics.Count == 0) continue;
            var value = Exact(_valueArrays, _encoder.Encode(c));
            var key = ExactUtf8(_keyArrays, c.Identity.ObjectId);
            foreach (var topic in _topics) Produce(topic, key, value, cancellationToken);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The bytes in the reused array of exactly their length (valid until the next call for that length).</summary>
    private static byte[] Exact(Dictionary<int, byte[]> arrays, ReadOnlySpan<byte> bytes)
    {
        if (!arrays.TryGetValue(bytes.Length, out var a)) arrays[bytes.Length] = a = new byte[bytes.Length];
        bytes.CopyTo(a);
        return a;
    }

    private static byte[] ExactUtf8(Dictionary<int, byte[]> arrays, string s)
    {
        Span<byte> tmp = stackalloc byte[256];
        if (s.Length <= 85) return Exact(arrays, tmp[..System.Text.Encoding.UTF8.GetBytes(s, tmp)]); // 85 chars * 3 <= 256 bytes
        return System.Text.Encoding.UTF8.GetBytes(s);
    }

    private void Produce(string topic, byte[] key, byte[] value, CancellationToken ct)
    {
        var msg = _message;
        msg.Key = key;
        msg.Value = value;
        while (true)
        {
            Interlocked.Increment(ref _inFlight);
            try
            {
                _producer.Produce(topic, msg, _onDelivery);
                Interlocked.Increment(ref _produced);
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                Interlocked.Decrement(ref _inFlight);
                ct.ThrowIfCancellationRequested();
                _producer.Poll(TimeSpan.FromMilliseconds(50)); // back-pressure: wait for acknowledgements to free the queue
            }
            catch
            {
                Interlocked.Decrement(ref _inFlight);
                throw;
            }
        }
    }

    private void OnDelivery(DeliveryReport<byte[], byte[]> r)
    {
        if (r.Error.IsError)
        {
            Interlocked.Increment(ref _failed);
            if (_errors.Count < 100) _errors.Enqueue($"{r.Topic}: {r.Error.Code} {r.Error.Reason}");
        }
        else
        {
            Interlocked.Increment(ref _delivered);
            LabelDelivered?.Invoke(r.Topic);
        }
        Interlocked.Decrement(ref _inFlight);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + _o.FlushTimeout;
        while (Interlocked.Read(ref _inFlight) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Kafka label sink: {InFlight} labels still unacknowledged after {_o.FlushTimeout.TotalSeconds:0}s; check the brokers ({_o.Producer.GetValueOrDefault("bootstrap.servers")}) or raise FlushTimeout.");
            _producer.Flush(TimeSpan.FromMilliseconds(100));
        }
        if (!_errors.IsEmpty)
            throw new KafkaDeliveryException($"Kafka label sink: {Failed} labels were not delivered (first: {_errors.First()}); offsets must not be committed past them. Restart from the committed offsets.");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        try { await FlushAsync(); }
        finally { _producer.Dispose(); _encoder.Dispose(); }
    }
}
