using System.Diagnostics;
using System.Globalization;
using Alerts.Sink.Kafka;

namespace Alerts.Sink.Bench;

/// <summary>
/// <c>Alerts.Sink.Bench labels [messages] [rounds]</c>: the same three producers as <see cref="KafkaLabelBench"/>
/// (kcat -P, KafkaLabelSink, raw Confluent.Kafka), but interleaved round by round in one process and one mock
/// cluster, so load from other work on a shared machine hits all three alike; reports medians and the median of the
/// per-round ratios. BenchmarkDotNet runs each method's iterations back to back, which on a busy 2-core box lets a
/// load shift land on one method only.
/// </summary>
public static class LabelsVsKcat
{
    public static void Run(string[] args)
    {
        int messages = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
        var bench = new KafkaLabelBench { Messages = messages };
        bench.Setup();
        try
        {
            var encoder = new LabelAvroEncoder(LabelEncoding.ConfluentWire, 7);
            var rows = BenchData.Make(messages);
            var names = new[] { "kcat -P (baseline)", "KafkaLabelSink write + flush", "Confluent.Kafka Produce, pre-encoded", "encode only (LabelAvroEncoder + copy)" };
            var times = names.Select(_ => new List<double>()).ToArray();
            var actions = new Action[]
            {
                bench.KcatProduce,
                () => bench.SinkProduce().GetAwaiter().GetResult(),
                bench.RawConfluentProduce,
                () => { long n = 0; foreach (var c in rows) n += encoder.Encode(c).ToArray().Length; if (n == 0) throw new InvalidOperationException(); },
            };
            for (int i = 0; i < actions.Length; i++) actions[i](); // warm-up
            for (int r = 0; r < rounds; r++)
                for (int i = 0; i < actions.Length; i++)
                {
                    GC.Collect();
                    var sw = Stopwatch.StartNew();
                    actions[i]();
                    times[i].Add(sw.Elapsed.TotalMilliseconds);
                }
            Console.WriteLine($"{messages:N0} label messages per op, {rounds} interleaved rounds, mock cluster 3 brokers / 6 partitions, {Environment.ProcessorCount} cores");
            Console.WriteLine($"| method | median ms | messages/s | median ratio to kcat (per round) | min..max ratio |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            for (int i = 0; i < names.Length; i++)
            {
                var ratios = times[i].Zip(times[0], (a, b) => a / b).ToList();
                Console.WriteLine($"| {names[i]} | {Median(times[i]):F1} | {messages / Median(times[i]) * 1000:N0} | {Median(ratios):F2} | {ratios.Min():F2}..{ratios.Max():F2} |");
            }
        }
        finally { bench.Cleanup(); }
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
