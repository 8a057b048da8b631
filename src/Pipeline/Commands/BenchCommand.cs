using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using Alerts.Core;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Processing;
using Alerts.Pipeline.Service;
using Alerts.Sink.Delivery;
using Alerts.Sink.Kafka;
using Microsoft.Extensions.Configuration;
using Prometheus;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// `alerts bench e2e`: the Kafka service end to end on librdkafka's mock cluster, measured against `kcat -C` reading
/// the same topic (the transport ceiling). Not a test: it reports figures, it does not assert them.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks that need the whole service (micro-benchmarks live in bench/).");
        var alerts = new Option<int>("--alerts") { Description = "ZTF alerts (stamps included) pre-loaded for the sustained run", DefaultValueFactory = _ => 3000 };
        var burst = new Option<int>("--burst") { Description = "Alerts produced in one burst into an idle, caught-up service", DefaultValueFactory = _ => 2000 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the bench topic (the mock cluster keeps ~5 MB per partition: alerts/partitions must stay under ~75)", DefaultValueFactory = _ => 64 };
        var workers = new Option<int>("--workers") { Description = "Decode workers", DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch-size") { Description = "Inference micro-batch", DefaultValueFactory = _ => 64 };
        var flush = new Option<int>("--flush-ms") { Description = "Alerts:Pipeline:FlushIntervalMs (sinks made durable + offsets committed)", DefaultValueFactory = _ => 1000 };
        var e2e = new Command("e2e", "Sustained alerts/s into Parquet + label topic, p50/p99 latency, a burst's p99, and kcat -C on the same topic as the ceiling.");
        foreach (var o in new Option[] { alerts, burst, partitions, workers, batch, flush }) e2e.Options.Add(o);
        e2e.SetAction(async (parse, ct) =>
        {
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
            int n = parse.GetValue(alerts), nBurst = parse.GetValue(burst), parts = parse.GetValue(partitions);
            if (Math.Max(n, nBurst) > parts * 75) { Console.Error.WriteLine($"error: {Math.Max(n, nBurst)} alerts over {parts} partitions exceeds the mock cluster's ~5 MB per partition; raise --partitions to at least {Math.Max(n, nBurst) / 75 + 1}"); return 2; }
            return await RunE2eAsync(n, nBurst, parts, parse.GetValue(workers), parse.GetValue(batch), parse.GetValue(flush), ct);
        });
        bench.Subcommands.Add(e2e);
        return bench;
    }

    private static async Task<int> RunE2eAsync(int n, int nBurst, int parts, int workers, int batchSize, int flushMs, CancellationToken ct)
    {
        const string topic = "ztf_20261129_programid1", burstTopic = "ztf_20261130_programid1";
        using var cluster = new MockCluster(3);
        cluster.CreateTopic(topic, parts);
        cluster.CreateTopic(burstTopic, parts);
        cluster.CreateTopic("alerts.labels", 6);
        cluster.CreateTopic("alerts.deadletter", 1);
        var pool = AlertProducer.Simulate(Survey.Ztf, Math.Max(n, nBurst) / 10 + 20, seed: 11).Select(a => a.Bytes).Take(Math.Max(n, nBurst)).ToList();
        long bytes;
        using (var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = cluster.BootstrapServers }))
        {
            for (int i = 0; i < n; i++) producer.Produce(topic, pool[i], i % parts);
            producer.Flush(TimeSpan.FromMinutes(2));
            bytes = producer.Bytes;
        }
        AnsiConsole.MarkupLine($"pre-loaded {n:N0} ZTF alerts ({bytes / Math.Max(1, n):N0} bytes each) over {parts} partitions");

        // 1. Transport ceiling: kcat reads the same topic end to end.
        var kcat = Stopwatch.StartNew();
        var psi = new ProcessStartInfo("kcat", $"-C -b {cluster.BootstrapServers} -t {topic} -o beginning -e -q -f %o\\n") { RedirectStandardOutput = true, RedirectStandardError = true };
        long kcatCount = 0;
        double kcatSeconds = double.NaN;
        try
        {
            using var p = Process.Start(psi)!;
            while (p.StandardOutput.ReadLine() is not null) kcatCount++;
            p.WaitForExit();
            kcatSeconds = kcat.Elapsed.TotalSeconds;
        }
        catch (System.ComponentModel.Win32Exception) { AnsiConsole.MarkupLine("[yellow]kcat not installed: no transport ceiling (apt-get install kcat)[/]"); }

        // 2. Sustained: the service drains the pre-loaded topic.
        var settings = ServiceSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Alerts:Kafka:Topics:0"] = "^ztf_[0-9]{8}_programid1$",
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = cluster.BootstrapServers,
            ["Alerts:Kafka:Consumer:group.id"] = "bench",
            ["Alerts:Kafka:Consumer:topic.metadata.refresh.interval.ms"] = "1000",
            ["Alerts:Archive:Root"] = Path.Combine(Path.GetTempPath(), "alerts-bench-" + Guid.NewGuid().ToString("N")),
            ["Alerts:Archive:WriterId"] = "bench",
            ["Alerts:Labels:Topic"] = "alerts.labels",
            ["Alerts:DeadLetter:Topic"] = "alerts.deadletter",
            ["Alerts:Pipeline:DecodeWorkers"] = workers.ToString(),
            ["Alerts:Pipeline:BatchSize"] = batchSize.ToString(),
            ["Alerts:Pipeline:FlushIntervalMs"] = flushMs.ToString(),
        }).Build());
        using var classifier = ReplayCommand.LoadModels([], workers);
        var service = new KafkaAlertService(settings, classifier, new PipelineMetrics(Metrics.NewCustomRegistry()));
        var committed = new ConcurrentDictionary<TopicPartitionKey, long>();
        long target = n;
        var reached = new TaskCompletionSource();
        service.Committed += offsets =>
        {
            foreach (var o in offsets) committed[o.Partition] = o.Offset;
            if (committed.Values.Sum() >= Volatile.Read(ref target)) reached.TrySetResult();
        };
        double preprocessUs = 0, inferenceUs = 0; long timed = 0;
        var burstLatencies = new LatencyReservoir(100_000);
        bool inBurst = false;
        service.BatchWritten += batch =>
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var c in batch)
            {
                preprocessUs += c.Timings.PreprocessUs; inferenceUs += c.Timings.InferenceUs; timed++;
                if (Volatile.Read(ref inBurst) && c.SourceTimestamp is { } ts) burstLatencies.Add((now - ts).TotalMilliseconds);
            }
        };
        using var stop = new CancellationTokenSource();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var run = service.RunAsync(stop.Token);
        while (service.AssignedPartitions == 0 && !run.IsCompleted) await Task.Delay(20, ct);
        var sustained = Stopwatch.StartNew();
        var timeline = new List<string>();
        var sampler = Task.Run(async () =>
        {
            while (!reached.Task.IsCompleted && !run.IsCompleted)
            {
                await Task.Delay(1000);
                timeline.Add($"{service.Stats.ReadCount}/{service.Stats.ClassifiedCount + service.Stats.NotClassifiedCount}/{committed.Values.Sum()}");
            }
        });
        await Task.WhenAny(reached.Task, run, Task.Delay(TimeSpan.FromMinutes(10), ct));
        Console.Error.WriteLine("timeline read/classified/committed per second: " + string.Join(" ", timeline));
        double sustainedSeconds = sustained.Elapsed.TotalSeconds;
        var cpuSustained = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        var st = service.Stats;
        double decodeUs = st.MeanDecodeMicros, classifyUs = st.MeanClassifyMicrosPerAlert;
        double p50 = st.LatencyPercentileMs(50), p99 = st.LatencyPercentileMs(99);
        double preUs = timed == 0 ? 0 : preprocessUs / timed, infUs = timed == 0 ? 0 : inferenceUs / timed;

        // 3. Burst: the caught-up service receives nBurst alerts at once on a new nightly topic (picked up by the regex).
        Volatile.Write(ref target, n + nBurst);
        reached = new TaskCompletionSource();
        if (committed.Values.Sum() >= n + nBurst) reached.TrySetResult();
        Volatile.Write(ref inBurst, true);
        var burstClock = Stopwatch.StartNew();
        using (var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = cluster.BootstrapServers }))
        {
            for (int i = 0; i < nBurst; i++) producer.Produce(burstTopic, pool[i], i % parts);
            producer.Flush(TimeSpan.FromMinutes(2));
        }
        await Task.WhenAny(reached.Task, run, Task.Delay(TimeSpan.FromMinutes(10), ct));
        double burstSeconds = burstClock.Elapsed.TotalSeconds;
        stop.Cancel();
        var exit = await run;
        try { Directory.Delete(settings.ArchiveRoot, true); } catch (IOException) { }

        double rate = n / sustainedSeconds, kcatRate = kcatCount / kcatSeconds;
        var t = new Table().Title($"alerts bench e2e — {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, mock cluster 3 brokers").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        t.AddRow("alerts (ZTF, stamps included)", $"{n:N0} × {bytes / Math.Max(1, n):N0} B over {parts} partitions");
        t.AddRow("kcat -C (transport ceiling)", double.IsNaN(kcatSeconds) ? "n/a" : $"{kcatCount:N0} in {kcatSeconds:N2} s = {kcatRate:N0} alerts/s");
        t.AddRow("service, sustained into Parquet + label topic", $"{n:N0} committed in {sustainedSeconds:N2} s = {rate:N0} alerts/s");
        t.AddRow("service / kcat", double.IsNaN(kcatSeconds) ? "n/a" : $"{rate / kcatRate:P2}");
        t.AddRow("goal 10,000 alerts/s", $"{rate / 10_000:P1} of it");
        t.AddRow("CPU during the sustained run", $"{cpuSustained.TotalSeconds:N1} s over {sustainedSeconds:N1} s wall = {cpuSustained.TotalSeconds / sustainedSeconds:N2} cores");
        t.AddRow("latency read → sinks, p50 / p99 (queueing included)", $"{p50:N0} / {p99:N0} ms");
        t.AddRow($"burst of {nBurst:N0}: all committed after", $"{burstSeconds:N2} s");
        t.AddRow($"burst: Kafka timestamp → sinks p50 / p99", $"{burstLatencies.Percentile(50):N0} / {burstLatencies.Percentile(99):N0} ms (goal p99 < 1,000 ms for 10,000)");
        t.AddRow("per alert: decode", $"{decodeUs:N0} µs (one worker; {workers} workers)");
        t.AddRow("per alert: GP preprocess", $"{preUs:N0} µs");
        t.AddRow("per alert: t2 inference", $"{infUs:N0} µs");
        t.AddRow("per alert: classify stage total (batch wall / alerts)", $"{classifyUs:N0} µs");
        t.AddRow("per alert: wall at the sustained rate", $"{1e6 / rate:N0} µs");
        t.AddRow("sink flushes (Parquet close + fsync, label acks)", $"every {flushMs} ms; Parquet files committed {service.ParquetFiles:N0}");
        t.AddRow("exit", exit.ToString());
        AnsiConsole.Write(t);
        return exit == ServiceExit.Clean ? 0 : 1;
    }
}
