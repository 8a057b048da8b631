using Alerts.Core;
using Alerts.Simulator;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Alerts.Pipeline.Service;

/// <summary>
/// Produces alert bytes into a Kafka topic as a survey's alert stream would: one message per alert, value = the
/// alert's bytes untouched (ZTF Avro container, Rubin Confluent wire), no key (spread over partitions), CreateTime =
/// now. Used by `alerts produce`, `alerts demo`, the e2e benchmark and the fault tests.
/// </summary>
public sealed class AlertProducer : IDisposable
{
    private readonly IProducer<byte[]?, byte[]> _producer;
    private long _delivered, _failed, _bytes;
    private string? _firstError;

    public AlertProducer(IReadOnlyDictionary<string, string> properties)
    {
        var cfg = new Dictionary<string, string>
        {
            ["linger.ms"] = "10",
            ["queue.buffering.max.kbytes"] = "1048576",
            ["message.max.bytes"] = "10485760",
            ["enable.idempotence"] = "true",
            // Keyless alerts go to a random partition each, not in sticky runs: every partition fills evenly.
            ["sticky.partitioning.linger.ms"] = "0",
            ["dotnet.producer.delivery.report.fields"] = "status",
        };
        foreach (var (k, v) in properties) cfg[k] = v;
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig(cfg)).Build();
    }

    public long Delivered => Interlocked.Read(ref _delivered);
    public long Failed => Interlocked.Read(ref _failed);
    public long Bytes => Interlocked.Read(ref _bytes);
    public string? FirstError => _firstError;

    /// <summary>Queues one alert (blocking while librdkafka's queue is full).</summary>
    public void Produce(string topic, byte[] value, int? partition = null, byte[]? key = null)
    {
        var msg = new Message<byte[]?, byte[]> { Key = key, Value = value };
        while (true)
        {
            try
            {
                if (partition is int p) _producer.Produce(new TopicPartition(topic, p), msg, OnDelivery);
                else _producer.Produce(topic, msg, OnDelivery);
                Interlocked.Add(ref _bytes, value.Length);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    private void OnDelivery(DeliveryReport<byte[]?, byte[]> r)
    {
        if (r.Error.IsError) { Interlocked.Increment(ref _failed); _firstError ??= $"{r.Error.Code}: {r.Error.Reason}"; }
        else Interlocked.Increment(ref _delivered);
    }

    /// <summary>Waits for every queued alert to be acknowledged (or to fail).</summary>
    public void Flush(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_producer.Flush(TimeSpan.FromMilliseconds(200)) > 0)
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"alerts still unacknowledged after {timeout.TotalSeconds:0}s: check bootstrap.servers and the topic");
    }

    public void Dispose() => _producer.Dispose();

    /// <summary>
    /// Produces as a survey streams a night: never more than <paramref name="maxBacklog"/> alerts ahead of
    /// <paramref name="consumed"/>. librdkafka's mock cluster keeps only about 5 MB per partition (older message
    /// sets are dropped, as retention would), i.e. ~80 ZTF alerts with stamps, so a backlog larger than that would
    /// lose alerts before anyone reads them. Returns the number produced (all acknowledged).
    /// </summary>
    public long ProduceStreaming(string topic, IEnumerable<byte[]> payloads, Func<long> consumed, int maxBacklog, CancellationToken ct)
    {
        long produced = 0;
        foreach (var bytes in payloads)
        {
            while (produced - consumed() >= maxBacklog)
            {
                ct.ThrowIfCancellationRequested();
                _producer.Poll(TimeSpan.FromMilliseconds(5));
            }
            Produce(topic, bytes);
            produced++;
        }
        Flush(TimeSpan.FromMinutes(1));
        return produced;
    }

    /// <summary>Creates the topic with this many partitions if it does not exist (an existing topic is left as it is).</summary>
    /// <param name="warn">Told why the topic could not be created (the caller decides where that goes).</param>
    public static async Task<bool> EnsureTopicAsync(string bootstrap, string topic, int partitions, IReadOnlyDictionary<string, string>? properties = null, Action<string>? warn = null)
    {
        var cfg = new Dictionary<string, string>(properties ?? new Dictionary<string, string>()) { ["bootstrap.servers"] = bootstrap };
        using var admin = new AdminClientBuilder(new AdminClientConfig(cfg)).Build();
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = -1 }],
                new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(15) });
            return true;
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
        {
            return false;
        }
        catch (KafkaException e)
        {
            // No admin rights, or a cluster without a controller (librdkafka's mock): produce anyway, to an existing
            // or auto-created topic.
            warn?.Invoke($"warning: could not create topic {topic} with {partitions} partitions ({e.Error.Reason}); producing to it as it is. Pass --partitions 0 to skip this step.");
            return false;
        }
    }

    /// <summary>
    /// A live night's stream: the alerts of one observing night (UTC date of <paramref name="nightMjd"/>), each carrying
    /// the object's history from the <paramref name="historyDays"/> before it, as a survey sends them during that night.
    /// Objects are simulated in index order and only their detections of that night are encoded, so the stream is
    /// endless (take what you need) and every alert lands in one (survey, night) archive partition.
    /// </summary>
    public static IEnumerable<SimulatedAlert> SimulateNight(Survey survey, ulong seed, double nightMjd = 61101.0, double historyDays = 60)
    {
        var options = SimulationOptions.SurveyStream(survey, int.MaxValue, seed, historyDays + 1) with { StartMjd = Math.Floor(nightMjd) - historyDays };
        var simulator = new AlertSimulator(options);
        using var writer = new AlertWriter(options);
        double night = Math.Floor(nightMjd);
        for (long index = 0; ; index++)
        {
            var obj = simulator.SimulateObject(index);
            for (int i = 0; i < obj.Observations.Length; i++)
            {
                var o = obj.Observations[i];
                if (!o.Detected || Math.Floor(o.Mjd) != night) continue;
                writer.Write(obj, i);
                yield return new SimulatedAlert(obj.AlertId(i), obj.ObjectId, obj.ClassName, o.Mjd, writer.Buffer.ToArray(), obj);
            }
        }
    }

    /// <summary>Simulated alerts in the survey's wire format (ZTF: Avro container; Rubin: Confluent wire, schema 11.0).</summary>
    public static IEnumerable<SimulatedAlert> Simulate(Survey survey, int objects, ulong seed, double spanDays = 60) =>
        new AlertSimulator(SimulationOptions.SurveyStream(survey, objects, seed, spanDays)).Generate();
}
