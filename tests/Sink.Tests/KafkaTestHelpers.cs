using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace Alerts.Sink.Tests;

public static class KafkaTestHelpers
{
    public static Dictionary<string, string> ProducerProps(string bootstrap) => new() { ["bootstrap.servers"] = bootstrap };

    /// <summary>Reads a topic from the beginning to the end with a Confluent consumer (all partitions, assigned manually).</summary>
    public static List<ConsumeResult<string?, byte[]>> ReadAll(string bootstrap, string topic, int partitions, bool readCommitted = false, int expectedAtLeast = 0)
    {
        var cfg = new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "reader-" + Guid.NewGuid().ToString("N"), EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest, EnablePartitionEof = true,
            IsolationLevel = readCommitted ? IsolationLevel.ReadCommitted : IsolationLevel.ReadUncommitted,
        };
        using var c = new ConsumerBuilder<string?, byte[]>(cfg).Build();
        c.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var list = new List<ConsumeResult<string?, byte[]>>();
        var eof = new HashSet<int>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (eof.Count < partitions || list.Count < expectedAtLeast))
        {
            var r = c.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF) { eof.Add(r.Partition.Value); continue; }
            eof.Remove(r.Partition.Value);
            list.Add(r);
        }
        c.Close();
        return list;
    }

    /// <summary>Reads a topic with the Debian kcat binary; returns (key, value) pairs, values byte-exact.</summary>
    public static List<(string Key, byte[] Value)> KcatReadAll(string bootstrap, string topic, string? extraArgs = null)
    {
        var psi = new ProcessStartInfo("kcat", $"-C -b {bootstrap} -t {topic} -e -q {extraArgs} -f \"%k\\n%S\\n%s\"")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        using var ms = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(ms);
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(); throw new TimeoutException("kcat -C did not finish in 60 s: " + err.Result); }
        copy.Wait();
        if (p.ExitCode != 0) throw new InvalidOperationException($"kcat exited {p.ExitCode}: {err.Result}");
        var bytes = ms.ToArray();
        var result = new List<(string, byte[])>();
        int i = 0;
        while (i < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', i);
            var key = Encoding.UTF8.GetString(bytes, i, nl - i);
            int nl2 = Array.IndexOf(bytes, (byte)'\n', nl + 1);
            int size = int.Parse(Encoding.ASCII.GetString(bytes, nl + 1, nl2 - nl - 1));
            result.Add((key, bytes.AsSpan(nl2 + 1, size).ToArray()));
            i = nl2 + 1 + size;
        }
        return result;
    }
}
