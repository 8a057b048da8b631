using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Alerts.Core;
using Confluent.Kafka;

namespace Alerts.Sink.Kafka;

/// <summary>
/// Dead letters to a Kafka topic. The message value is the ORIGINAL bytes, untouched, so a fixed decoder can replay
/// the topic; everything else travels in headers (UTF-8 text):
/// <list type="bullet">
/// <item><c>alerts.dl.stage</c> (decode, classify...), <c>alerts.dl.reason</c> (machine code), <c>alerts.dl.detail</c> (human message)</item>
/// <item><c>alerts.dl.origin</c> (input topic or file), <c>alerts.dl.partition</c> (-1 for files), <c>alerts.dl.offset</c></item>
/// <item><c>alerts.dl.at</c> (ISO-8601 UTC), and <c>alerts.dl.source_timestamp</c> when known</item>
/// </list>
/// Key: "origin[partition]@offset" (or the file position), so a replay can tell repeats apart.
/// Same delivery contract as <see cref="KafkaLabelSink"/>: idempotent producer, FlushAsync waits for every ack.
/// </summary>
public sealed class KafkaDeadLetterSink : IDeadLetterSink
{
    public const string StageHeader = "alerts.dl.stage", ReasonHeader = "alerts.dl.reason", DetailHeader = "alerts.dl.detail",
        OriginHeader = "alerts.dl.origin", PartitionHeader = "alerts.dl.partition", OffsetHeader = "alerts.dl.offset",
        AtHeader = "alerts.dl.at", SourceTimestampHeader = "alerts.dl.source_timestamp";

    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly TimeSpan _flushTimeout;
    private readonly ConcurrentQueue<string> _errors = new();
    private long _inFlight;

    /// <param name="log">Where librdkafka's log lines go (the service's logger); null drops them.</param>
    /// <param name="errors">librdkafka's error events; null drops them.</param>
    public KafkaDeadLetterSink(IReadOnlyDictionary<string, string> producer, string topic, TimeSpan? flushTimeout = null, Action<LogMessage>? log = null, Action<Error>? errors = null)
    {
        _topic = string.IsNullOrWhiteSpace(topic) ? throw new ArgumentException("Dead-letter topic name is empty (Kafka:DeadLetters:Topic).") : topic;
        _flushTimeout = flushTimeout ?? TimeSpan.FromSeconds(60);
        _producer = new ProducerBuilder<string, byte[]>(KafkaLabelSink.ProducerConfigFor(producer)).SetLogHandler((_, m) => log?.Invoke(m)).SetErrorHandler((_, e) => errors?.Invoke(e)).Build();
    }

    public long Written { get; private set; }

    public ValueTask WriteAsync(DeadLetter d, CancellationToken cancellationToken = default)
    {
        var p = d.Source.Position;
        var headers = new Headers
        {
            { StageHeader, Utf8(d.Stage) },
            { ReasonHeader, Utf8(d.Reason) },
            { DetailHeader, Utf8(d.Detail) },
            { OriginHeader, Utf8(p.Origin ?? "") },
            { PartitionHeader, Utf8(p.Partition.ToString(CultureInfo.InvariantCulture)) },
            { OffsetHeader, Utf8(p.Offset.ToString(CultureInfo.InvariantCulture)) },
            { AtHeader, Utf8(d.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)) },
        };
        if (d.Source.SourceTimestamp is { } ts) headers.Add(SourceTimestampHeader, Utf8(ts.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)));
        var msg = new Message<string, byte[]> { Key = p.ToString(), Value = d.Source.Payload.ToArray(), Headers = headers };
        Interlocked.Increment(ref _inFlight);
        try { _producer.Produce(_topic, msg, OnDelivery); }
        catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
        {
            _producer.Poll(TimeSpan.FromMilliseconds(100));
            Interlocked.Decrement(ref _inFlight);
            return WriteAsync(d, cancellationToken);
        }
        catch { Interlocked.Decrement(ref _inFlight); throw; }
        Written++;
        return ValueTask.CompletedTask;
    }

    private void OnDelivery(DeliveryReport<string, byte[]> r)
    {
        if (r.Error.IsError && _errors.Count < 100) _errors.Enqueue($"{r.Error.Code} {r.Error.Reason}");
        Interlocked.Decrement(ref _inFlight);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + _flushTimeout;
        while (Interlocked.Read(ref _inFlight) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Dead-letter sink: {_inFlight} records unacknowledged on topic {_topic} after {_flushTimeout.TotalSeconds:0}s.");
            _producer.Flush(TimeSpan.FromMilliseconds(100));
        }
        if (!_errors.IsEmpty) throw new KafkaDeliveryException($"Dead-letter sink: records were not delivered to {_topic} (first: {_errors.First()}); do not commit past them.");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        try { await FlushAsync(); } finally { _producer.Dispose(); }
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
