using System.Diagnostics;
using System.Text;
using Alerts.Core;
using Alerts.Sink.Kafka;
using BenchmarkDotNet.Attributes;
using Confluent.Kafka;

namespace Alerts.Sink.Bench;

/// <summary>
/// Label messages/s through KafkaLabelSink (encode + route + idempotent produce + wait for every ack) against
/// Debian kcat -P producing the very same payloads and keys to the same librdkafka mock cluster with the same producer
/// librdkafka settings (KafkaLabelSink.ProducerConfigFor: idempotence, acks=all, linger.ms, batch.num.messages).
/// kcat's time includes its process start; the sink is long-lived, as in the service.
/// </summary>
[MemoryDiagnoser]
public class KafkaLabelBench
{
    private const string Delimiter = "\u001e|ALERTS-MSG-END|\u001e";
    [Params(100_000)] public int Messages; // large enough that kcat's process start (~10 ms) is a small part of its time
    private MockCluster _cluster = null!;
    private List<Classification> _rows = null!;
    private KafkaLabelSink _sink = null!;
    private string _kcatInput = null!;
    private IProducer<string, byte[]> _raw = null!;
    private byte[][] _payloads = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cluster = new MockCluster(3);
        _cluster.CreateTopic("labels-sink", 6);
        _cluster.CreateTopic("labels-kcat", 6);
        _cluster.CreateTopic("labels-check", 6);
        _rows = BenchData.Make(Messages);
        _sink = new KafkaLabelSink(new KafkaLabelSinkOptions
        {
            Producer = new Dictionary<string, string> { ["bootstrap.servers"] = _cluster.BootstrapServers },
            Router = LabelRouter.FromConfiguration([new("labels-sink", "all")]),
            Encoding = LabelEncoding.ConfluentWire, SchemaId = 7,
        });
        var enc = new LabelAvroEncoder(LabelEncoding.ConfluentWire, 7);
        _payloads = _rows.Select(c => enc.Encode(c).ToArray()).ToArray();
        _raw = new ProducerBuilder<string, byte[]>(KafkaLabelSink.ProducerConfigFor(new Dictionary<string, string> { ["bootstrap.servers"] = _cluster.BootstrapServers })).Build();
        _cluster.CreateTopic("labels-raw", 6);
        var delim = Encoding.Latin1.GetBytes(Delimiter);
        _kcatInput = Path.Combine(Path.GetTempPath(), $"alerts-kcat-{Environment.ProcessId}.bin");
        using (var f = File.Create(_kcatInput))
            foreach (var c in _rows)
            {
                var v = enc.Encode(c);
                if (v.IndexOf(delim) >= 0) throw new InvalidOperationException("payload contains the kcat delimiter; pick another");
                f.Write(Encoding.UTF8.GetBytes(c.Identity.ObjectId)); f.WriteByte((byte)'\t');
                f.Write(v); f.Write(delim);
            }
        // Same payload count lands on the broker through kcat: checked once, so the comparison is like for like.
        RunKcat("labels-check");
        long n = CountMessages("labels-check");
        if (n != Messages) throw new InvalidOperationException($"kcat produced {n} messages, expected {Messages}: check the delimiter handling");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _raw.Dispose();
        _cluster.Dispose();
        File.Delete(_kcatInput);
    }

    [Benchmark(Baseline = true, Description = "kcat -P (same payloads, idempotent)")]
    public void KcatProduce() => RunKcat("labels-kcat");

    [Benchmark(Description = "KafkaLabelSink write + flush")]
    public async Task SinkProduce()
    {
        for (int i = 0; i < _rows.Count; i += 1000)
            await _sink.WriteAsync(_rows.GetRange(i, Math.Min(1000, _rows.Count - i)));
        await _sink.FlushAsync();
    }

    /// <summary>The Confluent .NET client alone on pre-encoded payloads (same config, per-message delivery handler):
    /// separates our encode/route cost from the client's per-message cost.</summary>
    [Benchmark(Description = "Confluent.Kafka Produce, pre-encoded")]
    public void RawConfluentProduce()
    {
        long failed = 0;
        Action<DeliveryReport<string, byte[]>> h = r => { if (r.Error.IsError) Interlocked.Increment(ref failed); };
        for (int i = 0; i < _payloads.Length; i++)
            _raw.Produce("labels-raw", new Message<string, byte[]> { Key = _rows[i].Identity.ObjectId, Value = _payloads[i] }, h);
        _raw.Flush(TimeSpan.FromSeconds(60));
        if (failed > 0) throw new InvalidOperationException($"{failed} deliveries failed");
    }

    private void RunKcat(string topic)
    {
        var psi = new ProcessStartInfo("kcat") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-P", "-b", _cluster.BootstrapServers, "-t", topic, "-K", "\t", "-D", Delimiter, "-l", _kcatInput })
            psi.ArgumentList.Add(a);
        // Exactly the sink's librdkafka settings, so both sides batch, ack and retry alike (dotnet.* keys are the .NET client's own).
        foreach (var (k, v) in KafkaLabelSink.ProducerConfigFor(new Dictionary<string, string> { ["bootstrap.servers"] = _cluster.BootstrapServers }))
            if (!k.StartsWith("dotnet.", StringComparison.Ordinal) && k != "bootstrap.servers")
            {
                psi.ArgumentList.Add("-X");
                psi.ArgumentList.Add($"{k}={v}");
            }
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"kcat -P failed ({p.ExitCode}): {err}");
    }

    private long CountMessages(string topic)
    {
        using var c = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _cluster.BootstrapServers, GroupId = "count" }).Build();
        long n = 0;
        for (int p = 0; p < 6; p++) n += c.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value;
        return n;
    }
}
