using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using Alerts.Core;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Service;
using Alerts.Sink.Delivery;
using Alerts.Sink.Kafka;
using Microsoft.Extensions.Configuration;
using Prometheus;
using Serilog.Extensions.Logging;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// `alerts demo`: the Kafka path end to end on a fresh machine. librdkafka's mock cluster in-process (3 brokers),
/// a ZTF-style nightly topic with 6 partitions, simulated alerts produced into it, then the same service code as
/// `alerts run` consumes them (regex subscription) until every offset is committed, and a summary.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var objects = new Option<int>("--objects") { Description = "Simulated ZTF objects to produce (each gives several alerts)", DefaultValueFactory = _ => 300 };
        var seed = new Option<ulong>("--seed") { Description = "Simulation seed", DefaultValueFactory = _ => 42UL };
        var outDir = new Option<string?>("--out") { Description = "Folder for the Parquet archive (default out/demo-<time>)" };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Serve /metrics, /healthz, /readyz on this port while the demo runs (0: off)", DefaultValueFactory = _ => 0 };
        var verbose = new Option<bool>("--verbose") { Description = "Show the service's logs (text)" };
        var linger = new Option<int>("--linger") { Description = "With --metrics-port: keep serving the final metrics this many seconds after the summary (for a scraper to catch them)", DefaultValueFactory = _ => 0 };
        var timeout = new Option<int>("--timeout") { Description = "Give up (exit 1) if not every alert is committed after this many seconds", DefaultValueFactory = _ => 180 };
        var cmd = new Command("demo", "Start a mock Kafka cluster, produce simulated alerts, run the service against it until all are committed, print a summary.");
        foreach (var o in new Option[] { objects, seed, outDir, metricsPort, linger, verbose, timeout }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            var dir = Path.GetFullPath(parse.GetValue(outDir) ?? Path.Combine("out", "demo-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss")));
            const string topic = "ztf_20261129_programid1";
            using var cluster = new MockCluster(brokers: 3);
            cluster.CreateTopic(topic, 6);
            MockClusterRun.CreateOutputTopics(cluster, "alerts.labels.snia");

            // 2. The service, exactly as `alerts run` builds it, until every offset is committed.
            var settings = MockClusterRun.Settings(cluster, "alerts-demo", Path.Combine(dir, "archive"), "demo", new Dictionary<string, string?>
            {
                ["Kafka:Consumer:statistics.interval.ms"] = "1000",
                ["Labels:Routes:0:Topic"] = "alerts.labels.snia",
                ["Labels:Routes:0:Rule"] = "SNIa >= 0.5",
                ["Pipeline:FlushIntervalMs"] = "500",
                ["Archive:FileMaxAgeSeconds"] = "2", // a short run: files of 2 s rather than the service's 60 s, so offsets (and lag) show while it runs
                ["Logging:Format"] = "text",
                ["Logging:Level"] = parse.GetValue(verbose) ? "Information" : "Warning",
            });
            var registry = PipelineMetrics.NewRegistryWithProcessMetrics();
            var metrics = new PipelineMetrics(registry);
            var classifier = KafkaAlertService.LoadClassifier(settings);
            using var disposeModels = classifier as IDisposable;
            using var serilog = (Serilog.Core.Logger)RunCommand.CreateLogger(settings);
            var log = new SerilogLoggerFactory(serilog).CreateLogger("alerts.demo");
            var service = new KafkaAlertService(settings, classifier, metrics, log);
            var committed = new ConcurrentDictionary<TopicPartitionKey, long>();
            long produced = 0;
            using var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = cluster.BootstrapServers });
            // The night streams in while the service runs (the mock cluster keeps only ~5 MB per partition, so a
            // pre-loaded night would be trimmed before it is read).
            var alerts = AlertProducer.Simulate(Survey.Ztf, parse.GetValue(objects), parse.GetValue(seed)).Select(a => { Interlocked.Increment(ref produced); return a.Bytes; });
            Task<long> producing = Task.FromResult(0L);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            service.Committed += offsets =>
            {
                foreach (var o in offsets) committed[o.Partition] = o.Offset;
                if (producing.IsCompleted && committed.Values.Sum() >= Volatile.Read(ref produced)) stop.Cancel();
            };
            await using var endpoint = parse.GetValue(metricsPort) is > 0 and var port
                ? new HealthEndpoint(port, registry, () => (service.Healthy, service.Fault ?? "ok"), () => (service.Ready, $"assigned {service.AssignedPartitions}"))
                : null;
            endpoint?.Start();

            stop.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(timeout)));
            var clock = Stopwatch.StartNew();
            producing = Task.Run(() => producer.ProduceStreaming(topic, alerts, () => service.Stats.ReadCount, maxBacklog: 240, stop.Token), CancellationToken.None);
            _ = producing.ContinueWith(_ => { if (committed.Values.Sum() >= Volatile.Read(ref produced)) stop.Cancel(); }, TaskScheduler.Default);
            ServiceExit exit = ServiceExit.Clean;
            await Consoles.Err.Status().StartAsync("running the service ...", async ctx =>
            {
                var run = service.RunAsync(stop.Token);
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(250, CancellationToken.None));
                    var st = service.Stats;
                    ctx.Status($"partitions {service.AssignedPartitions}, produced {Volatile.Read(ref produced):N0}, read {st.ReadCount:N0}, classified {st.ClassifiedCount:N0}, committed {committed.Values.Sum():N0}");
                }
                exit = await run;
            });
            var runTime = clock.Elapsed;
            if (producing.IsFaulted) Consoles.Err.MarkupLine($"[red]producing failed: {Markup.Escape(producing.Exception!.InnerException!.Message)}[/]");

            var stats = service.Stats;
            var table = new Table().Title("alerts demo (librdkafka mock cluster, 3 brokers)").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("topic", Markup.Escape($"{topic} (6 partitions), subscribed as {settings.Topics[0]}"));
            table.AddRow("alerts produced", $"{produced:N0} ({producer.Bytes / Math.Max(1, produced):N0} bytes each), streamed while the service ran");
            table.AddRow("model", Markup.Escape(classifier.ModelId));
            MockClusterRun.AddOutcomeRows(table, service, committed.Values.Sum(), committed.Count);
            table.AddRow("archive", Markup.Escape(settings.ArchiveRoot));
            table.AddRow("label topics", "alerts.labels + alerts.labels.snia");
            table.AddRow("service time", $"{runTime.TotalSeconds:N2} s (includes joining the group and the final drain)");
            table.AddRow("throughput", $"{stats.ReadCount / Math.Max(runTime.TotalSeconds, 1e-9):N0} alerts/s");
            table.AddRow("exit", exit.ToString());
            AnsiConsole.Write(table);
            var classes = new Table().Title("class mix (top label)").AddColumn("class").AddColumn(new TableColumn("alerts").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
            long total = Math.Max(1, stats.Labels.Values.Sum());
            foreach (var (label, n) in stats.Labels.OrderByDescending(kv => kv.Value)) classes.AddRow(Markup.Escape(label), $"{n:N0}", $"{100.0 * n / total:N1} %");
            AnsiConsole.Write(classes);
            if (endpoint is not null && parse.GetValue(linger) > 0)
            {
                Console.Error.WriteLine($"serving metrics on port {parse.GetValue(metricsPort)} for {parse.GetValue(linger)} s more");
                await Task.Delay(TimeSpan.FromSeconds(parse.GetValue(linger)), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            bool complete = committed.Values.Sum() == produced && stats.ReadCount >= produced;
            if (!complete) Consoles.Err.MarkupLine($"[red]incomplete: committed {committed.Values.Sum():N0} of {produced:N0}[/]");
            return exit == ServiceExit.Clean && complete ? 0 : 1;
        });
        return cmd;
    }
}
