using System.CommandLine;
using Alerts.Classifier;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Ingest.Sources;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Processing;
using Alerts.Simulator;
using Alerts.Sink.DeadLetters;
using Alerts.Sink.Parquet;
using Prometheus;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts replay</c>: the main job. Reads alerts from files, folders and tarballs (or, with no paths, from the
/// project's own simulator), decodes, classifies them with the shipped t2 models and writes the labels to the
/// Parquet archive, through the same channel pipeline the Kafka service uses. Ends with a summary table.
/// </summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Alert files, folders or .tar.gz tarballs to replay (none: simulate alerts in-process)", Arity = ArgumentArity.ZeroOrMore };
        var rate = new Option<double?>("--rate") { Description = "Alerts per second (default: as fast as possible)" };
        var schemas = IngestOptions.Schemas();
        var deadLetter = IngestOptions.DeadLetter();
        var archive = new Option<DirectoryInfo?>("--archive") { Description = "Root of the Parquet archive (default: out/replay-<time>/archive)" };
        var models = new Option<string[]>("--model") { Description = "t2 model file(s), .onnx or .ort; the survey follows the band count (2: ZTF g/r, 6: Rubin ugrizy). Default: the shipped models/t2-ztf.deployed.ort and models/t2-lsst.deployed.ort.", AllowMultipleArgumentsPerToken = true };
        var survey = new Option<string>("--survey") { Description = "Survey to simulate when no paths are given: ztf or lsst", DefaultValueFactory = _ => "ztf" };
        var objects = new Option<int>("--objects") { Description = "Objects to simulate when no paths are given", DefaultValueFactory = _ => 300 };
        var seed = new Option<ulong>("--seed") { Description = "Simulation seed", DefaultValueFactory = _ => 42UL };
        var batch = new Option<int>("--batch-size") { Description = "Inference micro-batch size", DefaultValueFactory = _ => 32 };
        var workers = new Option<int>("--workers") { Description = "Decode workers (GP preprocessing also uses this many threads)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve Prometheus metrics on http://*:PORT/metrics during the replay (the service's metric names; deploy/ scrapes 9464)" };
        var linger = new Option<double>("--linger") { Description = "Seconds to keep serving --metrics-port after the replay ends, so a scrape sees the final values", DefaultValueFactory = _ => 0 };
        var flushInterval = new Option<double>("--flush-interval") { Description = "Seconds between sink flushes (a flush closes the Parquet files and renames them into place)", DefaultValueFactory = _ => 30 };
        var rowGroupRows = new Option<int>("--row-group-rows") { Description = "Parquet rows per row group (a row group is also written when its oldest row is 30 s old)", DefaultValueFactory = _ => 50_000 };

        var cmd = new Command("replay", "Replay alerts (or simulated ones) through decode → t2 → Parquet and print a summary.");
        cmd.Arguments.Add(paths);
        foreach (var o in new Option[] { rate, schemas, deadLetter, archive, models, survey, objects, seed, batch, workers, metricsPort, linger, flushInterval, rowGroupRows }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            var given = parse.GetValue(paths) ?? [];
            var r = parse.GetValue(rate);
            if (r is <= 0) { Console.Error.WriteLine($"error: --rate {r} must be a positive number of alerts per second"); return 2; }
            int nWorkers = Math.Max(1, parse.GetValue(workers));
            int batchSize = Math.Max(1, parse.GetValue(batch));
            var flushSeconds = parse.GetValue(flushInterval);
            if (flushSeconds <= 0) { Console.Error.WriteLine($"error: --flush-interval {flushSeconds} must be a positive number of seconds"); return 2; }
            if (parse.GetValue(rowGroupRows) < 1) { Console.Error.WriteLine($"error: --row-group-rows {parse.GetValue(rowGroupRows)} must be at least 1"); return 2; }
            if (parse.GetValue(metricsPort) is { } mp && mp is < 1 or > 65535)
            {
                Console.Error.WriteLine($"error: --metrics-port {mp} is not a TCP port (1-65535); 9464 is the port deploy/prometheus/prometheus.yml scrapes");
                return 2;
            }
            var lingerSeconds = parse.GetValue(linger);
            if (lingerSeconds < 0) { Console.Error.WriteLine($"error: --linger {lingerSeconds} must be zero or more seconds"); return 2; }

            // Models: one classifier per survey.
            SurveyRoutingClassifier classifier;
            try
            {
                classifier = LoadModels(parse.GetValue(models) ?? [], nWorkers);
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                Console.Error.WriteLine("error: " + ex.Message);
                return 2;
            }
            using var _ = classifier;

            // Sources: the given paths, or the simulator.
            var registry = new AvroSchemaRegistry(IngestOptions.ResolveSchemas(parse.GetValue(schemas)));
            Func<CancellationToken, IAsyncEnumerable<RawAlert>> stream;
            string description;
            SimulatedAlertSource? simulated = null;
            bool argsOk = true;
            if (given.Length == 0)
            {
                var s = parse.GetValue(survey)?.ToLowerInvariant();
                if (s is not ("ztf" or "lsst")) { Console.Error.WriteLine($"error: --survey {s} is not ztf or lsst"); return 2; }
                simulated = new SimulatedAlertSource(SimulationOptions.SurveyStream(s == "ztf" ? Survey.Ztf : Survey.Lsst, Math.Max(1, parse.GetValue(objects)), parse.GetValue(seed)));
                IAlertSource src = r is > 0 ? new RateLimitedSource(simulated, r.Value) : simulated;
                stream = src.ReadAsync;
                description = simulated.Description;
            }
            else
            {
                argsOk = IngestOptions.TryCreateSources(given, registry, r, out var sources);
                stream = token => AlertSources.Concat(sources, token);
                description = string.Join(", ", sources.Select(x => x.Description));
            }

            var runDir = Path.Combine("out", "replay-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss"));
            var archiveRoot = parse.GetValue(archive)?.FullName ?? Path.GetFullPath(Path.Combine(runDir, "archive"));
            var dlRoot = parse.GetValue(deadLetter)?.FullName ?? Path.GetFullPath(Path.Combine(runDir, "dead-letter"));
            var parquet = new ParquetArchiveSink(new ParquetArchiveOptions { Root = archiveRoot, WriterId = "replay", RowGroupRows = parse.GetValue(rowGroupRows) });
            var deadLetters = new FolderDeadLetterSink(dlRoot);

            var pipeline = new AlertPipeline(() => new AlertDecoder(registry), classifier, [parquet], deadLetters, new PipelineOptions
            {
                DecodeWorkers = nWorkers,
                BatchSize = batchSize,
                FlushInterval = TimeSpan.FromSeconds(flushSeconds),
            });

            // Metrics: the same names the service exports, served while the replay runs (and --linger after).
            IMetricServer? metricServer = null;
            PipelineMetrics? metrics = null;
            if (parse.GetValue(metricsPort) is { } port)
            {
                try { metricServer = ReplayMetricsEndpoint.Start(port); }
                catch (Exception ex) when (ex is ArgumentOutOfRangeException or InvalidOperationException)
                {
                    Console.Error.WriteLine("error: " + ex.Message);
                    return 2;
                }
                metrics = new PipelineMetrics();
                metrics.Observe(pipeline, description);
                metrics.Observe(parquet);
                ReplayMetricsEndpoint.PublishModels(metrics, classifier.Models.Values.OfType<OnnxT2Classifier>().Distinct()
                    .Select(m => (m.ModelId, Path.GetFileName(m.ModelPath))));
                metrics.Up.Set(1);
            }
            long correct = 0, scored = 0;
            if (simulated is not null)
                pipeline.BatchWritten += results =>
                {
                    foreach (var c in results)
                        if (c.IsClassified && simulated.Truth.TryGetValue(c.Identity.AlertId, out var truth))
                        {
                            Interlocked.Increment(ref scored);
                            if (truth == c.Label) Interlocked.Increment(ref correct);
                        }
                };

            await Consoles.Err.Status().StartAsync($"replaying {Markup.Escape(description)} ...", async ctx =>
            {
                var run = pipeline.RunAsync(stream(ct), ct);
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(250, CancellationToken.None));
                    var st = pipeline.Stats;
                    ctx.Status($"read {st.ReadCount:N0}, classified {st.ClassifiedCount:N0}, not classified {st.NotClassifiedCount:N0}, dead letters {st.DeadLetterCount:N0}, {st.AlertsPerSecond:N0} alerts/s");
                }
                await run;
            });
            await parquet.DisposeAsync();
            metrics?.Up.Set(0); // replay done: no longer consuming

            var stats = pipeline.Stats;
            var table = new Table().Title("alerts replay").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("source", Markup.Escape(description));
            table.AddRow("model", Markup.Escape(ModelLocator.Describe(classifier)));
            table.AddRow("alerts read", $"{stats.ReadCount:N0}");
            table.AddRow("decoded", $"{stats.DecodedCount:N0}");
            table.AddRow("classified", $"{stats.ClassifiedCount:N0}");
            foreach (var (reason, n) in stats.NotClassifiedReasons.OrderByDescending(kv => kv.Value))
                table.AddRow($"  not classified: {Markup.Escape(reason)}", $"{n:N0}");
            table.AddRow("dead letters", $"{stats.DeadLetterCount:N0}");
            foreach (var (reason, n) in stats.DeadLetterReasons.OrderByDescending(kv => kv.Value))
                table.AddRow($"  dead letter: {Markup.Escape(reason)}", $"{n:N0}");
            if (scored > 0)
                table.AddRow("top label = simulated truth", $"{correct:N0} / {scored:N0} ({100.0 * correct / scored:N1} %)");
            table.AddRow("Parquet rows written", $"{parquet.RowsWritten:N0} in {parquet.FilesCommitted:N0} files");
            table.AddRow("archive", Markup.Escape(archiveRoot));
            if (parquet.TemporariesCleaned > 0) table.AddRow("temporaries of a crashed run deleted", $"{parquet.TemporariesCleaned:N0}");
            if (deadLetters.Written > 0) table.AddRow("dead-letter folder", Markup.Escape(dlRoot));
            table.AddRow("elapsed", $"{stats.Elapsed.TotalSeconds:N2} s");
            table.AddRow("throughput", $"{stats.AlertsPerSecond:N0} alerts/s");
            table.AddRow("decode, mean", $"{stats.MeanDecodeMicros:N1} µs/alert");
            table.AddRow("preprocess + inference, mean", $"{stats.MeanClassifyMicrosPerAlert:N1} µs/alert (batches of {stats.MeanBatchSize:N1})");
            table.AddRow("latency p50 / p99 (read → written)", $"{stats.LatencyPercentileMs(50):N0} / {stats.LatencyPercentileMs(99):N0} ms");
            AnsiConsole.Write(table);

            var classes = new Table().Title("class counts (top label)").AddColumn("class").AddColumn(new TableColumn("alerts").RightAligned());
            foreach (var (label, n) in stats.Labels.OrderByDescending(kv => kv.Value)) classes.AddRow(Markup.Escape(label), $"{n:N0}");
            AnsiConsole.Write(classes);

            if (metricServer is not null)
            {
                if (lingerSeconds > 0)
                {
                    Console.Error.WriteLine($"serving metrics on :{parse.GetValue(metricsPort)}/metrics for {lingerSeconds:0.#} s more");
                    try { await Task.Delay(TimeSpan.FromSeconds(lingerSeconds), ct); } catch (OperationCanceledException) { }
                }
                await metricServer.StopAsync();
            }
            return argsOk ? 0 : 2;
        });
        return cmd;
    }

    /// <summary>Loads the given models (or the shipped defaults, <see cref="ModelLocator"/>), keyed by survey from each model's band count.</summary>
    public static SurveyRoutingClassifier LoadModels(IReadOnlyList<string> paths, int preprocessWorkers, int maxBatchSize = 256)
    {
        var files = paths.Count > 0 ? paths.ToList() : ModelLocator.DefaultModels();
        var bySurvey = new Dictionary<Survey, IAlertClassifier>();
        foreach (var file in files)
        {
            var model = new OnnxT2Classifier(file, new OnnxT2Options { PreprocessWorkers = preprocessWorkers, MaxBatchSize = Math.Max(1, maxBatchSize) });
            // The survey is the one whose bands the model's preprocessing reads (its input may carry more channels than bands).
            var bands = model.Preprocessing.Channels;
            var s = bands.All(b => Bands.Ztf.Contains(b)) ? Survey.Ztf
                : bands.All(b => Bands.Lsst.Contains(b)) ? Survey.Lsst
                : throw new InvalidDataException($"model {file} reads bands {string.Join(",", bands.Select(b => b.Name()))}; t2 models here read ZTF g/r or Rubin ugrizy");
            if (!bySurvey.TryAdd(s, model))
                throw new ArgumentException($"two models for {s.Name()}: {file} and {((OnnxT2Classifier)bySurvey[s]).ModelPath}; give one --model per survey");
            if (s == Survey.Lsst) bySurvey.TryAdd(Survey.Elasticc, model);
        }
        return new SurveyRoutingClassifier(bySurvey);
    }
}
