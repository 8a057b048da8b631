using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using Alerts.Core;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Processing;
using Alerts.Pipeline.Service;
using Alerts.Sink.Delivery;
using Alerts.Sink.Kafka;
using Prometheus;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// `alerts bench e2e`: the Kafka service end to end on librdkafka's mock cluster, measured against `kcat -C` reading
/// the same topic (the transport ceiling). Not a test: it reports figures, it does not assert them.
/// </summary>
public static class BenchCommand
{
    /// <summary>One service configuration measured by the bench.</summary>
    public sealed record E2eConfig(string Name, int ClassifyWorkers, int SinkQueueBatches);

    /// <summary>The figures of one configuration's run.</summary>
    public sealed record E2eResult(E2eConfig Config, long KcatCount, double KcatSeconds, double SustainedSeconds, double SustainedCpuSeconds,
        double P50Ms, double P99Ms, double BurstSeconds, double BurstCpuSeconds, double BurstP50Ms, double BurstP99Ms, long BurstCount, double PreprocessUs, double InferenceUs,
        double ClassifyWallUs, long ParquetFiles, int ClassifyLoops, IReadOnlyDictionary<string, StageTotals> SustainedStages, ServiceExit Exit, bool Complete,
        E2eWindow? Steady)
    {
        public double KcatRate => KcatCount / KcatSeconds;
        /// <summary>/proc/loadavg (1, 5, 15 min) when the run started: other processes' share of the machine.</summary>
        public string LoadAtStart { get; init; } = "";
    }

    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks that need the whole service (micro-benchmarks live in bench/).");
        var alerts = new Option<int>("--alerts") { Description = "ZTF alerts (stamps included) pre-loaded for the sustained run", DefaultValueFactory = _ => 3000 };
        var burst = new Option<int>("--burst") { Description = "Alerts produced in one burst into an idle, caught-up service (target: p99 < 1 s for 10,000)", DefaultValueFactory = _ => 10_000 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the sustained topic (the mock cluster keeps ~5 MB per partition: alerts/partitions must stay under ~75)", DefaultValueFactory = _ => 64 };
        var burstPartitions = new Option<int>("--burst-partitions") { Description = "Partitions of the burst topic (same ~75 alerts per partition limit)", DefaultValueFactory = _ => 160 };
        var workers = new Option<int>("--workers") { Description = "Decode workers", DefaultValueFactory = _ => Environment.ProcessorCount };
        var classifyWorkers = new Option<int>("--classify-workers") { Description = "Classify loops (Alerts:Pipeline:ClassifyWorkers), each with its own model instance", DefaultValueFactory = _ => Environment.ProcessorCount };
        var sinkQueue = new Option<int>("--sink-queue") { Description = "Classified batches queued for the sink writer (Alerts:Pipeline:SinkQueueBatches; 0 = classify loops write the sinks themselves)", DefaultValueFactory = _ => 8 };
        var batch = new Option<int>("--batch-size") { Description = "Inference micro-batch", DefaultValueFactory = _ => 64 };
        var flush = new Option<int>("--flush-ms") { Description = "Alerts:Pipeline:FlushIntervalMs (sinks made durable + offsets committed)", DefaultValueFactory = _ => 1000 };
        var nights = new Option<int>("--nights") { Description = "1: one live night's alerts (realistic: a night's stream fills one archive partition); N > 1: alerts of objects simulated over N nights (a mix of old and new objects, ~N/2 archive partitions per flush)", DefaultValueFactory = _ => 1 };
        var repeat = new Option<int>("--repeat") { Description = "Run the configurations this many times, alternating (before, after, before, after, ...), to see the spread on a shared machine", DefaultValueFactory = _ => 1 };
        var compare = new Option<bool>("--compare") { Description = "Also run the single-loop configuration (1 classify loop with a parallel GP, sinks written on the classify loop) first, on the same stream, and print both" };
        var skip = new Option<double>("--steady-skip") { Description = "Steady window: the sustained run's alerts from this fraction to 1 - it (by sink writes), leaving out the ramp after assignment and the drain at the end", DefaultValueFactory = _ => 0.1 };
        var e2e = new Command("e2e", "Sustained alerts/s into Parquet + label topic, p50/p99 latency, a burst's p99, per-stage CPU and wall, and kcat -C on the same topic as the ceiling.");
        foreach (var o in new Option[] { alerts, burst, partitions, burstPartitions, workers, classifyWorkers, sinkQueue, batch, flush, nights, compare, repeat, skip }) e2e.Options.Add(o);
        e2e.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(alerts), nBurst = parse.GetValue(burst), parts = parse.GetValue(partitions), burstParts = parse.GetValue(burstPartitions);
            if (n > parts * 75) { Console.Error.WriteLine($"error: --alerts {n} over --partitions {parts} exceeds the mock cluster's ~5 MB per partition; raise --partitions to at least {n / 75 + 1}"); return 2; }
            if (nBurst > burstParts * 75) { Console.Error.WriteLine($"error: --burst {nBurst} over --burst-partitions {burstParts} exceeds the mock cluster's ~5 MB per partition; raise --burst-partitions to at least {nBurst / 75 + 1}"); return 2; }
            int nNights = Math.Max(1, parse.GetValue(nights));
            var configs = new List<E2eConfig>();
            if (parse.GetValue(compare)) configs.Add(new E2eConfig("before (1 loop, inline sinks)", 1, 0));
            configs.Add(new E2eConfig($"{(configs.Count > 0 ? "after" : "service")} ({parse.GetValue(classifyWorkers)} loops, sink queue {parse.GetValue(sinkQueue)})", parse.GetValue(classifyWorkers), parse.GetValue(sinkQueue)));

            // The stream: distinct alerts for the sustained run and the burst (the archive drops re-delivered alert ids,
            // so a burst of repeats would skip the Parquet work).
            var gen = Stopwatch.StartNew();
            var source = nNights == 1
                ? AlertProducer.SimulateNight(Survey.Ztf, seed: 11)
                : AlertProducer.Simulate(Survey.Ztf, (n + nBurst) / 4 + 20, seed: 11, spanDays: nNights);
            var pool = source.Select(a => (a.Bytes, a.Mjd)).Take(n + nBurst).ToList();
            if (pool.Count < n + nBurst) { Console.Error.WriteLine($"error: the simulation gave {pool.Count} alerts, fewer than --alerts + --burst = {n + nBurst}"); return 2; }
            int partitionsPerFlush = pool.Take(n).Select(a => AlertIdentity.NightOf(a.Mjd)).Distinct().Count();
            var stream = nNights == 1 ? $"one night ({AlertIdentity.NightOf(pool[0].Mjd)})" : $"{nNights}-night mix ({partitionsPerFlush} nights in the sustained set)";
            AnsiConsole.MarkupLine($"simulated {pool.Count:N0} ZTF alerts, {stream}, in {gen.Elapsed.TotalSeconds:N1} s; load average {LoadAverage()}");

            // Warm-up (discarded): JIT, ONNX Runtime sessions and the mock cluster's first connections would otherwise be
            // charged to whichever configuration runs first.
            // 2,400 alerts over 32 partitions (75 each): tiered JIT (tier-0, instrumented, tier-1 with PGO) keeps compiling
            // for several seconds of the service's life; with a 128- or 600-alert warm-up the JIT thread still took
            // ~0.17 cores (~120 µs per alert) inside the measured steady window, which a long-running service never pays.
            var bytesPool = pool.Select(a => a.Bytes).ToList();
            double steadySkip = Math.Clamp(parse.GetValue(skip), 0, 0.45);
            await RunE2eAsync(configs[^1], bytesPool, Math.Min(n, 2400), Math.Min(nBurst, 600), 32, 8, parse.GetValue(workers), parse.GetValue(batch), parse.GetValue(flush), steadySkip, ct, quiet: true);
            var results = new List<E2eResult>();
            for (int round = 0; round < Math.Max(1, parse.GetValue(repeat)); round++)
            foreach (var config in configs)
            {
                var named = parse.GetValue(repeat) > 1 ? config with { Name = $"{config.Name} #{round + 1}" } : config;
                var load = LoadAverage();
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(named.Name)}[/]: load average {load}");
                results.Add(await RunE2eAsync(named, bytesPool, n, nBurst, parts, burstParts, parse.GetValue(workers), parse.GetValue(batch), parse.GetValue(flush), steadySkip, ct) with { LoadAtStart = load });
            }
            long bytes = (long)pool.Take(n).Average(a => a.Bytes.Length);
            Report(results, n, nBurst, parts, burstParts, bytes, stream, parse.GetValue(flush), parse.GetValue(workers));
            return results.All(r => r.Exit == ServiceExit.Clean && r.Complete) ? 0 : 1;
        });
        bench.Subcommands.Add(e2e);
        return bench;
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }

    private static async Task<E2eResult> RunE2eAsync(E2eConfig config, List<byte[]> pool, int n, int nBurst, int parts, int burstParts, int workers, int batchSize, int flushMs, double steadySkip, CancellationToken ct, bool quiet = false)
    {
        const string topic = "ztf_20261129_programid1", burstTopic = "ztf_20261130_programid1";
        using var cluster = new MockCluster(3);
        cluster.CreateTopic(topic, parts);
        // The burst's topic exists (empty) before the service starts, as a survey's nightly topic does before the
        // night's alerts: the burst measures the service, not a regex re-subscription and rebalance.
        cluster.CreateTopic(burstTopic, burstParts);
        MockClusterRun.CreateOutputTopics(cluster);
        using (var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = cluster.BootstrapServers }))
        {
            for (int i = 0; i < n; i++) producer.Produce(topic, pool[i], i % parts);
            producer.Flush(TimeSpan.FromMinutes(2));
        }

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
        catch (System.ComponentModel.Win32Exception) { Consoles.Err.MarkupLine("[yellow]kcat not installed: no transport ceiling (apt-get install kcat)[/]"); }

        // 2. Sustained: the service drains the pre-loaded topic.
        var archive = Path.Combine(Path.GetTempPath(), "alerts-bench-" + Guid.NewGuid().ToString("N"));
        var settings = MockClusterRun.Settings(cluster, "bench", archive, "bench", new Dictionary<string, string?>
        {
            ["Pipeline:DecodeWorkers"] = workers.ToString(),
            ["Pipeline:ClassifyWorkers"] = config.ClassifyWorkers.ToString(),
            ["Pipeline:SinkQueueBatches"] = config.SinkQueueBatches.ToString(),
            ["Pipeline:BatchSize"] = batchSize.ToString(),
            ["Pipeline:FlushIntervalMs"] = flushMs.ToString(),
            ["Archive:FileMaxAgeSeconds"] = "0", // files closed (and offsets committed) on every --flush-ms flush
        });
        var classifier = KafkaAlertService.LoadClassifier(settings);
        using var disposeModels = classifier as IDisposable;
        var service = new KafkaAlertService(settings, classifier, new PipelineMetrics(Metrics.NewCustomRegistry()));
        var committed = new ConcurrentDictionary<TopicPartitionKey, long>();
        long target = n;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Committed += offsets =>
        {
            foreach (var o in offsets) committed[o.Partition] = o.Offset;
            if (committed.Values.Sum() >= Volatile.Read(ref target)) reached.TrySetResult();
        };
        double preprocessUs = 0, inferenceUs = 0; long timed = 0;
        var burstLatencies = new LatencyReservoir(100_000);
        // The steady window: snapshots when the sink writer (one thread: BatchWritten's) passes the skip fraction of the
        // sustained alerts and when it passes 1 - skip. It leaves out the ramp after assignment (fetch start, JIT,
        // empty channels) and the drain at the end (the last batches, then up to a flush interval before the commit).
        long written = 0, steadyFrom = (long)(n * steadySkip), steadyTo = n - (long)(n * steadySkip);
        ProcessSnapshot? windowStart = null, windowEnd = null;
        service.BatchWritten += batch =>
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var c in batch)
            {
                preprocessUs += c.Timings.PreprocessUs; inferenceUs += c.Timings.InferenceUs; timed++;
                if (c.Source.Origin == burstTopic && c.SourceTimestamp is { } ts) burstLatencies.Add((now - ts).TotalMilliseconds);
                else if (c.Source.Origin == topic) written++;
            }
            if (windowStart is null && written >= steadyFrom) windowStart = ProcessSnapshot.Take(written, service.Stats.Stages);
            else if (windowStart is not null && windowEnd is null && written >= steadyTo) windowEnd = ProcessSnapshot.Take(written, service.Stats.Stages);
        };
        using var stop = new CancellationTokenSource();
        var run = service.RunAsync(stop.Token);
        while (service.AssignedPartitions < parts + burstParts && !run.IsCompleted) await Task.Delay(20, ct);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
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
        if (!quiet) Console.Error.WriteLine($"{config.Name}: timeline read/classified/committed per second: " + string.Join(" ", timeline));
        double sustainedSeconds = sustained.Elapsed.TotalSeconds;
        var cpuSustained = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        var st = service.Stats;
        var stages = st.Stages;
        double classifyUs = st.MeanClassifyMicrosPerAlert;
        double p50 = st.LatencyPercentileMs(50), p99 = st.LatencyPercentileMs(99);
        double preUs = timed == 0 ? 0 : preprocessUs / timed, infUs = timed == 0 ? 0 : inferenceUs / timed;

        // 3. Burst: the caught-up service receives nBurst alerts at once on the next night's topic.
        Volatile.Write(ref target, n + nBurst);
        reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (committed.Values.Sum() >= n + nBurst) reached.TrySetResult();
        var burstCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var burstClock = Stopwatch.StartNew();
        using (var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = cluster.BootstrapServers }))
        {
            for (int i = 0; i < nBurst; i++) producer.Produce(burstTopic, pool[n + i], i % burstParts);
            producer.Flush(TimeSpan.FromMinutes(2));
        }
        await Task.WhenAny(reached.Task, run, Task.Delay(TimeSpan.FromMinutes(10), ct));
        double burstSeconds = burstClock.Elapsed.TotalSeconds;
        double burstCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - burstCpu0).TotalSeconds; // includes producing the burst
        bool complete = committed.Values.Sum() >= n + nBurst;
        stop.Cancel();
        var exit = await run;
        try { Directory.Delete(archive, true); } catch (IOException) { }
        return new E2eResult(config, kcatCount, kcatSeconds, sustainedSeconds, cpuSustained.TotalSeconds, p50, p99, burstSeconds, burstCpuSeconds,
            burstLatencies.Percentile(50), burstLatencies.Percentile(99), nBurst, preUs, infUs, classifyUs, service.ParquetFiles,
            service.ClassifyLoops, stages, exit, complete, windowStart is not null && windowEnd is not null ? new E2eWindow(windowStart, windowEnd) : null);
    }

    private static void Report(IReadOnlyList<E2eResult> results, int n, int nBurst, int parts, int burstParts, long bytes, string stream, int flushMs, int workers)
    {
        var t = new Table().Title($"alerts bench e2e — {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, mock cluster 3 brokers; load average now {LoadAverage()}")
            .AddColumn("measure");
        foreach (var r in results) t.AddColumn(new TableColumn(Markup.Escape(r.Config.Name)).RightAligned());
        void Row(string name, Func<E2eResult, string> value) => t.AddRow([Markup.Escape(name), .. results.Select(value)]);
        t.AddRow([Markup.Escape("stream"), .. results.Select(_ => Markup.Escape($"{stream}; {n:N0} × {bytes:N0} B over {parts} partitions"))]);
        Row("load average at the start (1 / 5 / 15 min)", r => r.LoadAtStart);
        Row("kcat -C (transport ceiling)", r => double.IsNaN(r.KcatSeconds) ? "n/a" : $"{r.KcatCount:N0} in {r.KcatSeconds:N2} s = {r.KcatRate:N0} alerts/s");
        Row("service, sustained into Parquet + label topic", r => $"{n:N0} in {r.SustainedSeconds:N2} s = {n / r.SustainedSeconds:N0} alerts/s");
        Row("service / kcat", r => double.IsNaN(r.KcatSeconds) ? "n/a" : $"{n / r.SustainedSeconds / r.KcatRate:P1}");
        Row("goal 10,000 alerts/s", r => $"{n / r.SustainedSeconds / 10_000:P1} of it");
        Row("CPU during the sustained run", r => $"{r.SustainedCpuSeconds:N1} s / {r.SustainedSeconds:N1} s = {r.SustainedCpuSeconds / r.SustainedSeconds:N2} cores");
        // CPU per alert does not depend on how much of the machine other processes take; wall figures do.
        Row("process CPU per alert, sustained (all threads: consumer, decode, GP, t2, sinks, GC)", r => $"{1e6 * r.SustainedCpuSeconds / n:N0} µs");
        Row($"capacity on {Environment.ProcessorCount} idle cores = cores / CPU per alert (upper bound)", r => $"{Environment.ProcessorCount * n / r.SustainedCpuSeconds:N0} alerts/s");
        string Steady(E2eResult r, Func<E2eWindow, string> f) => r.Steady is { } w ? f(w) : "n/a (window not reached)";
        Row("steady window: sustained alerts written to the sinks", r => Steady(r, w => $"#{w.From.Alerts:N0} → #{w.To.Alerts:N0} in {w.Seconds:N2} s = {w.Rate:N0} alerts/s"));
        Row("steady: cores used (process CPU / wall)", r => Steady(r, w => $"{w.CpuSeconds:N2} s / {w.Seconds:N2} s = {w.Cores:N2} cores"));
        Row("steady: process CPU per alert / without the mock brokers' thread", r => Steady(r, w => $"{w.CpuUsPerAlert:N0} µs / {1e6 * w.ServiceCpuSeconds / w.Alerts:N0} µs"));
        Row($"steady: capacity on {Environment.ProcessorCount} idle cores without the mock brokers (upper bound)", r => Steady(r, w => $"{Environment.ProcessorCount * w.Alerts / w.ServiceCpuSeconds:N0} alerts/s"));
        // Tiered JIT goes on recompiling (tier-0 → instrumented → tier-1 with PGO, R2R code → tier-1) for tens of seconds of
        // a service's life; a long-running service does not pay it, so it is shown apart.
        Row("steady: process CPU per alert without the mock brokers nor the tiered-JIT thread (a long-running service)", r => Steady(r, w => $"{1e6 * w.SteadyServiceCpuSeconds / w.Alerts:N0} µs = capacity {Environment.ProcessorCount * w.Alerts / w.SteadyServiceCpuSeconds:N0} alerts/s on {Environment.ProcessorCount} idle cores"));
        // If the Kafka path starved the classify loops they would wait for input; if the machine is short of CPU they are
        // inside Classify but off CPU.
        Row("steady: classify loops inside Classify (wall) / on CPU while inside", r => Steady(r, w => w.Stages.TryGetValue("classify", out var c)
            ? $"{c.Wall.TotalSeconds / (w.Seconds * r.ClassifyLoops):P0} of {r.ClassifyLoops} × window / {c.CpuFraction:P0}" : "–"));
        Row("steady: thread time runnable but waiting for a core (all threads) / per core-second of the window", r => Steady(r, w =>
        {
            double wait = w.ThreadGroups().Sum(g => g.WaitForCoreSeconds);
            return $"{wait:N2} s / {wait / (w.Seconds * Environment.ProcessorCount):N2}";
        }));
        Row("steady: managed allocation per alert", r => Steady(r, w => $"{w.AllocatedBytesPerAlert / 1024:N1} KiB"));
        Row("steady: GC pauses (all threads stopped) / collections gen0, gen1, gen2", r => Steady(r, w => $"{1000 * w.GcPauseSeconds:N0} ms = {w.GcPauseSeconds / w.Seconds:P1} of wall / {w.Collections.Gen0}, {w.Collections.Gen1}, {w.Collections.Gen2}"));
        Row("latency read → sinks p50 / p99 (sustained, queueing included)", r => $"{r.P50Ms:N0} / {r.P99Ms:N0} ms");
        Row($"burst of {nBurst:N0} over {burstParts} partitions: all committed after", r => $"{r.BurstSeconds:N2} s = {r.BurstCount / r.BurstSeconds:N0} alerts/s");
        Row("burst: Kafka timestamp → sinks p50 / p99 (goal p99 < 1,000 ms)", r => $"{r.BurstP50Ms:N0} / {r.BurstP99Ms:N0} ms");
        Row("burst: process CPU per alert (producing the burst included)", r => $"{1e6 * r.BurstCpuSeconds / r.BurstCount:N0} µs");
        Row("per alert: GP preprocess / t2 inference", r => $"{r.PreprocessUs:N0} / {r.InferenceUs:N0} µs");
        Row("per alert: classify stage (batch wall / alerts)", r => $"{r.ClassifyWallUs:N0} µs on {r.ClassifyLoops} loop(s)");
        Row("per alert: wall at the sustained rate", r => $"{1e6 * r.SustainedSeconds / n:N0} µs");
        Row("Parquet files committed (sustained + burst)", r => $"{r.ParquetFiles:N0} (flush every {flushMs} ms)");
        Row("decode workers", _ => $"{workers}");
        Row("exit", r => r.Exit + (r.Complete ? "" : " (incomplete)"));
        AnsiConsole.Write(t);
        foreach (var r in results)
        {
            if (r.Steady is not { } w)
            {
                AnsiConsole.Write(MockClusterRun.StageTable($"per stage, sustained run — {r.Config.Name} (CPU = thread CPU of the stage's own thread)", r.SustainedStages));
                continue;
            }
            AnsiConsole.Write(MockClusterRun.StageTable($"per stage, steady window — {r.Config.Name} (CPU = thread CPU of the stage's own thread)", w.Stages));
            var threads = new Table().Title(Markup.Escape($"CPU by thread, steady window ({w.Seconds:N2} s) — {r.Config.Name} (/proc/self/task; rdk:mock = the mock brokers, not the service)"))
                .AddColumn("threads").AddColumn(new TableColumn("busy").RightAligned()).AddColumn(new TableColumn("CPU").RightAligned())
                .AddColumn(new TableColumn("cores").RightAligned()).AddColumn(new TableColumn("busiest thread").RightAligned()).AddColumn(new TableColumn("per alert").RightAligned())
                .AddColumn(new TableColumn("runnable, waiting for a core").RightAligned());
            foreach (var g in w.ThreadGroups())
                threads.AddRow(Markup.Escape(g.Group), $"{g.Threads}", $"{g.CpuSeconds:N2} s", $"{g.CpuSeconds / w.Seconds:N2}", $"{g.BusiestThreadCores:P0}", $"{1e6 * g.CpuSeconds / w.Alerts:N0} µs",
                    $"{g.WaitForCoreSeconds:N2} s");
            AnsiConsole.Write(threads);
        }
    }
}
