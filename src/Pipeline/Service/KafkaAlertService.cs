using System.Collections.Concurrent;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Ingest.Kafka;
using Alerts.Pipeline.Commands;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Processing;
using Alerts.Sink.DeadLetters;
using Alerts.Sink.Delivery;
using Alerts.Sink.Kafka;
using Alerts.Sink.Parquet;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Alerts.Pipeline.Service;

/// <summary>How a service run ended (the process exit code of `alerts run`; 2 is a configuration error).</summary>
public enum ServiceExit { Clean = 0, Faulted = 1, ShutdownTimedOut = 3 }

public enum RebalanceKind { Assigned, Revoked, Lost }

/// <summary>
/// One rebalance callback as the service handled it. Under the cooperative protocol (partition.assignment.strategy=
/// cooperative-sticky) <see cref="Partitions"/> is the delta only: partitions that stay with this instance never appear,
/// so they are never drained, committed at revoke time or restarted. <see cref="Committed"/> are the offsets committed
/// inside a revoke (always a subset of <see cref="Partitions"/>); <see cref="Stopping"/> marks the revoke of the
/// instance's own shutdown.
/// </summary>
public sealed record RebalanceEvent(RebalanceKind Kind, IReadOnlyList<TopicPartitionKey> Partitions, IReadOnlyList<CommittableOffset> Committed, bool Drained, bool Stopping);

/// <summary>
/// The long-running Kafka service that `alerts run`, `alerts demo`, `alerts bench e2e` and the fault tests share:
/// consumer group (topics or ^regex) → <see cref="AlertPipeline"/> → Parquet archive + label topics, dead letters to
/// a topic or folder, offsets committed behind a per-partition durable watermark.
///
/// Delivery: an offset is registered with the watermark when the source hands it out (under the source's assignment
/// lock, so nothing of a revoked partition is registered after its revoke began) and completed when every sink has
/// flushed it; commits run on their own task so a slow broker never stalls the sinks. On revoke the consume thread
/// flushes, waits (bounded) until the revoked partitions are drained and commits them; on assign the partition
/// restarts from its committed offset. Stop = stop consuming, drain, flush, commit, leave the group.
/// </summary>
public sealed class KafkaAlertService
{
    private readonly ServiceSettings _s;
    private readonly IAlertClassifier _classifier;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _log;
    private readonly PartitionWatermarkTracker _tracker = new(1);
    private readonly ConcurrentDictionary<TopicPartitionKey, long> _lastAdmitted = new();
    private readonly ConcurrentDictionary<TopicPartitionKey, long> _firstAdmitted = new(); // where each partition resumed in this assignment
    private readonly ConcurrentDictionary<TopicPartitionKey, byte> _assigned = new();
    private readonly ConcurrentDictionary<TopicPartitionKey, long> _lag = new();           // from librdkafka statistics
    private readonly ConcurrentDictionary<TopicPartitionKey, long> _lastCommitted = new();
    private readonly Lock _commitLock = new();
    private readonly SemaphoreSlim _commitSignal = new(0, int.MaxValue);
    private readonly LatencyReservoir _sourceLatencyMs = new(200_000);
    private KafkaAlertSource? _source;
    private AlertPipeline? _pipeline;
    private volatile string? _fault;
    private volatile bool _skipDrain, _stopping;
    private long _commitFailures, _duplicatesDropped, _rebalances;

    public KafkaAlertService(ServiceSettings settings, IAlertClassifier classifier, PipelineMetrics metrics, ILogger? log = null)
    {
        _s = settings;
        _classifier = classifier;
        _metrics = metrics;
        _log = log ?? NullLogger.Instance;
    }

    /// <summary>Consuming with sinks open and a group assignment received (possibly empty).</summary>
    public bool Ready { get; private set; }

    /// <summary>False once the service hit a fatal error (e.g. a label that Kafka did not accept).</summary>
    public bool Healthy => _fault is null;
    public string? Fault => _fault;

    public PipelineStats Stats => _pipeline?.Stats ?? new PipelineStats();
    public int AssignedPartitions => _assigned.Count;
    public long Rebalances => Interlocked.Read(ref _rebalances);
    public long CommitFailures => Interlocked.Read(ref _commitFailures);
    /// <summary>Kafka's reasons for failed commits, by where they were committed from ("revoke: IllegalGeneration"), with counts.</summary>
    public IReadOnlyDictionary<string, int> CommitErrors => _commitErrors;
    private readonly ConcurrentDictionary<string, int> _commitErrors = new();
    /// <summary>Re-fetched offsets at or before one already handed out in the same assignment, dropped.</summary>
    public long DuplicatesDropped => Interlocked.Read(ref _duplicatesDropped);
    public long StaleDropped => _source?.StaleDropped ?? 0;
    /// <summary>Classify loops the pipeline runs (1, or the size of a <see cref="ClassifierPool"/>).</summary>
    public int ClassifyLoops => _pipeline?.ClassifyLoops ?? 1;
    public long ParquetRows { get; private set; }
    public long ParquetFiles { get; private set; }
    public long LabelsDelivered { get; private set; }
    public long DeadLettersWritten { get; private set; }

    /// <summary>Latency from the Kafka message timestamp to the sinks' write, in ms (for summaries).</summary>
    public double SourceLatencyPercentileMs(double p) => _sourceLatencyMs.Percentile(p);

    /// <summary>Raised after each batch reached the sinks (not yet durable).</summary>
    public event Action<IReadOnlyList<Classification>>? BatchWritten;

    /// <summary>Raised after offsets were committed.</summary>
    public event Action<IReadOnlyList<CommittableOffset>>? Committed;

    /// <summary>
    /// The models as the service runs them: with ClassifyWorkers > 1 a <see cref="ClassifierPool"/> of that many
    /// single-threaded instances (one classify loop per core); with 1, one instance whose GP runs on DecodeWorkers threads.
    /// </summary>
    public static IAlertClassifier LoadClassifier(ServiceSettings settings)
    {
        if (settings.ClassifyWorkers <= 1) return ReplayCommand.LoadModels(settings.ModelPaths, settings.DecodeWorkers);
        var instances = new List<IAlertClassifier>();
        try
        {
            for (int i = 0; i < settings.ClassifyWorkers; i++) instances.Add(ReplayCommand.LoadModels(settings.ModelPaths, preprocessWorkers: 1));
        }
        catch
        {
            foreach (var c in instances) (c as IDisposable)?.Dispose();
            throw;
        }
        return new ClassifierPool(instances);
    }

    /// <summary>
    /// Completes when nothing of the last run touches the classifier or the sinks any more: at once after a normal stop,
    /// later after <see cref="ServiceExit.ShutdownTimedOut"/> (the abandoned pipeline and the background sink closing).
    /// An in-process owner must wait for it before disposing the classifier it passed in.
    /// </summary>
    public Task Quiesced { get; private set; } = Task.CompletedTask;

    /// <summary>Raised on the consume thread after each assign, revoke or loss was handled.</summary>
    public event Action<RebalanceEvent>? Rebalanced;

    /// <summary>True when the consumer uses the incremental (cooperative) rebalance protocol.</summary>
    public bool CooperativeRebalancing => IsCooperative(_s.Consumer);

    /// <summary>partition.assignment.strategy names a cooperative assignor (librdkafka forbids mixing it with eager ones).</summary>
    public static bool IsCooperative(IReadOnlyDictionary<string, string> consumer) =>
        consumer.TryGetValue("partition.assignment.strategy", out var s) && s.Contains("cooperative", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Runs until <paramref name="stop"/> fires (then drains, flushes, commits and leaves the group within
    /// ShutdownTimeout) or a fatal error. Configuration errors throw <see cref="ServiceConfigurationException"/>.
    /// </summary>
    public async Task<ServiceExit> RunAsync(CancellationToken stop)
    {
        var outputTopics = new List<(string Topic, string Key)>();
        if (_s.LabelsTopic is { } lt) outputTopics.Add((lt, "Alerts:Labels:Topic"));
        foreach (var (topic, _) in _s.LabelRoutes) outputTopics.Add((topic, "Alerts:Labels:Routes"));
        if (_s.DeadLetterTopic is { } dl) outputTopics.Add((dl, "Alerts:DeadLetter:Topic"));
        if (_s.CheckTopics) VerifyTopicsExist(outputTopics);

        var schemas = _s.SchemasPath ?? IngestOptions.ResolveSchemas(null);
        var registry = new AvroSchemaRegistry(schemas) { Limits = _s.Limits.Avro };
        var parquet = new ParquetArchiveSink(new ParquetArchiveOptions
        {
            Root = _s.ArchiveRoot,
            WriterId = _s.WriterId,
            FileMaxAge = _s.ArchiveFileMaxAge > TimeSpan.Zero ? _s.ArchiveFileMaxAge : null,
            FileMaxBytes = _s.ArchiveFileMaxBytes,
        });
        if (parquet.TemporariesCleaned > 0)
            _log.LogWarning("Removed {Count} unfinished Parquet temporaries of writer {WriterId} left by a previous crash (their alerts were not committed and will be re-consumed)", parquet.TemporariesCleaned, _s.WriterId);

        var routes = new List<LabelRoute>();
        if (_s.LabelsTopic is { } all) routes.Add(new LabelRoute(all, LabelFilter.Parse("all")));
        foreach (var (topic, rule) in _s.LabelRoutes)
        {
            try { routes.Add(new LabelRoute(topic, LabelFilter.Parse(rule))); }
            catch (FormatException ex) { throw new ServiceConfigurationException($"Alerts:Labels:Routes ({topic}): {ex.Message}"); }
        }
        var labels = Configured(() => new KafkaLabelSink(new KafkaLabelSinkOptions { Producer = _s.Producer, Router = new LabelRouter(routes), FlushTimeout = TimeSpan.FromSeconds(30), Log = KafkaLog("labels"), Errors = KafkaErrors("labels") }), "Producer");
        IDeadLetterSink deadLetters = _s.DeadLetterTopic is { } dlt
            ? Configured(() => new KafkaDeadLetterSink(_s.Producer, dlt, TimeSpan.FromSeconds(30), KafkaLog("dead-letters"), KafkaErrors("dead-letters")), "Producer")
            : new FolderDeadLetterSink(_s.DeadLetterFolder ?? Path.Combine(Path.GetDirectoryName(_s.ArchiveRoot.TrimEnd('/')) ?? ".", "dead-letter"));

        var consumerProps = new Dictionary<string, string>(_s.Consumer);
        consumerProps.TryAdd("statistics.interval.ms", "5000"); // consumer lag per partition for alerts_consumer_lag
        consumerProps.TryAdd("auto.offset.reset", "earliest");
        _source = Configured(() => new KafkaAlertSource(new KafkaSourceOptions { Properties = consumerProps, Topics = _s.Topics, BufferCapacity = _s.ChannelCapacity },
            KafkaLog("consumer"),
            OnStatistics), "Consumer");
        var source = _source;
        source.Admit = Admit;
        source.PartitionsAssigned += OnAssigned;
        source.PartitionsRevoking += OnRevoking;
        source.PartitionsLost += OnLost;
        source.Error += e =>
        {
            if (e.IsFatal) SetFault($"Kafka consumer fatal error {e.Code}: {e.Reason}");
            else if (e.Code == ErrorCode.Local_Authentication) OnAuthenticationFailure(e.Reason);
            // A broker connection failure reaches both the log callback (FAIL, logged above) and the error callback with
            // the same text: log it once.
            else if (e.Code == ErrorCode.Local_Transport) _log.LogDebug("Kafka consumer error {Code}: {Reason}", e.Code, Mask(e.Reason));
            else _log.LogWarning("Kafka consumer error {Code}: {Reason}", e.Code, Mask(e.Reason));
        };

        _pipeline = new AlertPipeline(() => new AlertDecoder(registry, _s.Limits), _classifier, [parquet, labels], deadLetters, new PipelineOptions
        {
            DecodeWorkers = _s.DecodeWorkers,
            BatchSize = _s.BatchSize,
            MaxBatchWait = TimeSpan.FromMilliseconds(_s.MaxBatchWaitMs),
            ChannelCapacity = _s.ChannelCapacity,
            FlushInterval = TimeSpan.FromMilliseconds(_s.FlushIntervalMs),
            ClassifyWorkers = _s.ClassifyWorkers,
            SinkQueueBatches = _s.SinkQueueBatches,
            ReleasePayload = source.Release, // both dead-letter sinks copy or write the bytes inside WriteAsync
        });
        var pipeline = _pipeline;
        _metrics.Observe(pipeline, "kafka");
        _metrics.Observe(parquet);
        _metrics.Observe(labels);
        _metrics.ModelInfo.WithLabels(_classifier.ModelId, "t2").Set(1);
        pipeline.PositionsDurable += OnDurable;
        pipeline.FlushFailed += ex =>
        {
            if (ex is KafkaDeliveryException) SetFault(ex.Message);
            else _log.LogWarning(ex, "Flush failed; will retry: {Message}", ex.Message);
        };
        pipeline.BatchWritten += batch =>
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var c in batch)
                if (c.SourceTimestamp is { } ts) _sourceLatencyMs.Add(Math.Max(0, (now - ts).TotalMilliseconds));
            BatchWritten?.Invoke(batch);
        };

        // Not `using`: after a shutdown timeout the abandoned pipeline may still hold these tokens.
        var consumeCts = CancellationTokenSource.CreateLinkedTokenSource(stop); // stop consuming
        var abortCts = new CancellationTokenSource();                          // hard stop at the shutdown timeout
        _faultCts = consumeCts;
        var stopDeadline = DateTime.MaxValue;
        using var armAbort = consumeCts.Token.Register(() =>
        {
            _stopping = true;
            stopDeadline = DateTime.UtcNow + _s.ShutdownTimeout;
            abortCts.CancelAfter(_s.ShutdownTimeout);
        });
        TimeSpan Remaining(TimeSpan floor) => stopDeadline == DateTime.MaxValue ? _s.ShutdownTimeout
            : TimeSpan.FromTicks(Math.Max(floor.Ticks, (stopDeadline - DateTime.UtcNow).Ticks));
        using var committerCts = new CancellationTokenSource();
        var committer = Task.Run(() => CommitLoopAsync(committerCts.Token), CancellationToken.None);

        _log.LogInformation("Consuming {Topics} as group {Group} ({Workers} decode workers, batches of {Batch}, model {Model}, {Protocol} rebalancing); archive {Archive} (writer {Writer}), labels {Labels}, dead letters {DeadLetters}",
            string.Join(",", _s.Topics), _s.Consumer.GetValueOrDefault("group.id"), _s.DecodeWorkers, _s.BatchSize, _classifier.ModelId,
            CooperativeRebalancing ? "cooperative (incremental)" : "eager",
            _s.ArchiveRoot, _s.WriterId, string.Join(",", routes.Select(r => $"{r.Topic}({r.Filter})")), _s.DeadLetterTopic ?? (deadLetters as FolderDeadLetterSink)?.Root);

        var exit = ServiceExit.Clean;
        var progress = _s.ProgressInterval > TimeSpan.Zero ? ProgressLoopAsync(_s.ProgressInterval, consumeCts.Token) : Task.CompletedTask;
        var run = pipeline.RunAsync(source.ReadAsync(consumeCts.Token), abortCts.Token);
        try
        {
            // WaitAsync, not just the token: a sink flush that never returns (label brokers down, so produce never
            // completes) ignores cancellation, and must not hold the exit past Shutdown:TimeoutSeconds.
            await run.WaitAsync(abortCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abortCts.IsCancellationRequested)
        {
            exit = ServiceExit.ShutdownTimedOut;
        }
        catch (Exception ex)
        {
            SetFault(ex.GetType().Name + ": " + ex.Message);
        }
        Ready = false;
        _metrics.Up.Set(0);
        if (_fault is not null && exit == ServiceExit.Clean) exit = ServiceExit.Faulted;
        if (exit == ServiceExit.ShutdownTimedOut)
            _log.LogError("Shutdown did not finish within {Timeout}s (Alerts:Shutdown:TimeoutSeconds): {Why}. Exiting with code 3; only offsets durable in every sink were committed, so the {InFlight} alerts in flight will be re-consumed after a restart.",
                _s.ShutdownTimeout.TotalSeconds, WhyStuck(run, labels), _tracker.InFlight);

        committerCts.Cancel();
        // A commit blocked on an unreachable coordinator must not hold the exit either.
        if (!await committer.WaitAsync(Remaining(TimeSpan.FromSeconds(1))).ContinueWith(t => t.IsCompletedSuccessfully).ConfigureAwait(false))
            _log.LogWarning("The offset committer did not stop in time (group coordinator unreachable?)");
        if (exit == ServiceExit.Clean) CommitDurable("shutdown");

        // Leave the group: the revoke callback commits what is drained (everything, after a clean run).
        _skipDrain = exit != ServiceExit.Clean;
        var closeBudget = exit == ServiceExit.ShutdownTimedOut ? TimeSpan.FromSeconds(1) : Remaining(TimeSpan.FromSeconds(1));
        var close = Task.Run(() => { try { source.Close(); } catch (KafkaException ex) { _log.LogWarning("Leaving the group failed: {Reason}", ex.Error.Reason); } });
        if (!await close.WaitAsync(closeBudget).ContinueWith(t => !t.IsFaulted).ConfigureAwait(false))
            _log.LogWarning("Leaving the consumer group timed out; the group coordinator will notice after session.timeout.ms");
        else source.Dispose();

        var sinks = new IAsyncDisposable[] { parquet, labels, deadLetters };
        if (exit == ServiceExit.ShutdownTimedOut)
        {
            // The sinks may be inside a flush that never returns: close them once the pipeline lets go, off the exit path
            // (in `alerts run` the process is gone by then; unfinished Parquet temporaries are removed by the next start).
            Quiesced = run.ContinueWith(async _ =>
            {
                foreach (var sink in sinks)
                    try { await sink.DisposeAsync().ConfigureAwait(false); } catch (Exception) { /* already reported as a timed-out shutdown */ }
                consumeCts.Dispose();
                abortCts.Dispose();
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
        else
        {
            foreach (var sink in sinks)
            {
                try { await sink.DisposeAsync().ConfigureAwait(false); }
                catch (Exception ex) { _log.LogWarning("Closing a sink failed: {Message}", ex.Message); if (exit == ServiceExit.Clean) exit = ServiceExit.Faulted; }
            }
            consumeCts.Dispose();
            abortCts.Dispose();
        }
        ParquetRows = parquet.RowsWritten;
        ParquetFiles = parquet.FilesCommitted;
        LabelsDelivered = labels.Delivered;
        DeadLettersWritten = deadLetters switch { KafkaDeadLetterSink k => k.Written, FolderDeadLetterSink f => f.Written, _ => 0 };
        _log.LogInformation("Stopped ({Exit}): read {Read}, classified {Classified}, not classified {NotClassified}, dead letters {Dead}, Parquet rows {Rows}, labels delivered {Labels}, commit failures {CommitFailures}",
            exit, Stats.ReadCount, Stats.ClassifiedCount, Stats.NotClassifiedCount, Stats.DeadLetterCount, ParquetRows, LabelsDelivered, CommitFailures);
        return exit;
    }

    /// <summary>
    /// librdkafka's log lines of one client through the service's logger (one structured stream): errors and warnings at
    /// their level, the rest at Debug; secrets masked; librdkafka's own timing and suppression counters dropped from the
    /// text so repeats of the same failure are the same event for the repeat filter.
    /// </summary>
    private Action<LogMessage> KafkaLog(string client) => m =>
    {
        var level = m.Level switch
        {
            <= SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            _ => LogLevel.Debug,
        };
        if (!_log.IsEnabled(level)) return;
        _log.Log(level, "librdkafka {Client} {Facility}: {Message}", client, m.Facility, StableKafkaText(Mask(m.Message)));
    };

    /// <summary>A producer's librdkafka error events: a broker connection failure is already librdkafka's FAIL line (Debug here), the rest are warnings.</summary>
    private Action<Error> KafkaErrors(string client) => e =>
    {
        if (e.Code == ErrorCode.Local_Transport) _log.LogDebug("Kafka {Client} error {Code}: {Reason}", client, e.Code, Mask(e.Reason));
        else _log.LogWarning("Kafka {Client} error {Code}: {Reason}", client, e.Code, Mask(e.Reason));
    };

    /// <summary>librdkafka's text without the parts that change on every retry ("after 3ms in state CONNECT, 4 identical error(s) suppressed").</summary>
    public static string StableKafkaText(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"\s*\((?:after \d+ms in state (\w+))?(?:, )?(?:\d+ identical error\(s\) suppressed)?\)", m =>
            m.Groups[1].Success ? $" (in state {m.Groups[1].Value})" : "");

    /// <summary>Logs <see cref="LogProgress"/> every <paramref name="interval"/> until consuming stops.</summary>
    private async Task ProgressLoopAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false)) LogProgress();
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One progress line: alerts in, classified, not classified, dead-lettered, the committed offsets' sum and the consumer lag (when librdkafka's statistics gave it).</summary>
    public void LogProgress()
    {
        var st = Stats;
        long? lag = _lag.IsEmpty ? null : _lag.Where(kv => _assigned.ContainsKey(kv.Key)).Sum(kv => kv.Value);
        _log.LogInformation("Progress: alerts in {Read}, classified {Classified}, not classified {NotClassified}, dead-lettered {DeadLettered}, committed offsets {Committed} over {Partitions} partitions, consumer lag {Lag}",
            st.ReadCount, st.ClassifiedCount, st.NotClassifiedCount, st.DeadLetterCount, _lastCommitted.Values.Sum(), AssignedPartitions,
            lag is { } l ? l : "unknown");
    }

    private CancellationTokenSource? _faultCts;
    private DateTime _lastAuthLog = DateTime.MinValue;

    /// <summary>The last Kafka problem that keeps the service from working (e.g. failed authentication), for /readyz.</summary>
    public string? KafkaProblem { get; private set; }

    /// <summary>The error text with every configured secret value replaced by ***.</summary>
    private string Mask(string text)
    {
        foreach (var (k, v) in _s.Consumer.Concat(_s.Producer))
            if (ServiceSettings.IsSecret(k) && v.Length > 0) text = text.Replace(v, "***", StringComparison.Ordinal);
        return text;
    }

    private string AuthenticationMessage(string reason)
    {
        var who = string.Join(", ", new[] { "security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.username" }
            .Where(_s.Consumer.ContainsKey).Select(k => $"{k}={_s.Consumer[k]}"));
        return $"Kafka authentication failed ({(who.Length > 0 ? who : "no sasl.* settings")}): {Mask(reason)}. Check Alerts:Kafka:Consumer:security.protocol, " +
               "sasl.mechanism, sasl.username and sasl.password (the label and dead-letter producers inherit them; Alerts:Kafka:Producer:sasl.* overrides) " +
               $"against the listener at {_s.Consumer.GetValueOrDefault("bootstrap.servers")}.";
    }

    private void OnAuthenticationFailure(string reason)
    {
        KafkaProblem = AuthenticationMessage(reason);
        if (DateTime.UtcNow - _lastAuthLog < TimeSpan.FromSeconds(30)) return;
        _lastAuthLog = DateTime.UtcNow;
        _log.LogError("{Problem} Not ready until the brokers accept the credentials.", KafkaProblem);
    }

    /// <summary>Builds a Kafka client; a property librdkafka refuses becomes a configuration error naming the Alerts key, secrets masked.</summary>
    private T Configured<T>(Func<T> build, string section)
    {
        try { return build(); }
        catch (Exception ex) when (ex is ArgumentException or KafkaException or InvalidOperationException)
        {
            // librdkafka does not always name the property ("Unsupported hash function: SCRAM-SHA-1024"): name the keys
            // whose value it quotes. Producer keys inherited from the consumer are reported where the user set them.
            var quoted = _s.Consumer.Select(kv => (Key: "Alerts:Kafka:Consumer:" + kv.Key, kv.Key, kv.Value))
                .Concat(_s.Producer.Where(kv => _s.Consumer.GetValueOrDefault(kv.Key) != kv.Value).Select(kv => (Key: "Alerts:Kafka:Producer:" + kv.Key, kv.Key, kv.Value)))
                .Where(x => ex.Message.Contains($"property \"{x.Item2}\"", StringComparison.Ordinal)
                            || (x.Value.Length >= 3 && !ServiceSettings.IsSecret(x.Item2) && ex.Message.Contains(x.Value, StringComparison.Ordinal)))
                .Select(x => x.Key).ToList();
            throw new ServiceConfigurationException($"Alerts:Kafka:{section}: librdkafka refused the configuration: {Mask(ex.Message)}. " +
                (quoted.Count > 0 ? $"Fix {string.Join(" or ", quoted)}." : $"Fix that property under Alerts:Kafka:{section}" +
                    (section == "Producer" ? " (or under Alerts:Kafka:Consumer, which the producers inherit connection and security settings from)." : ".")));
        }
    }

    /// <summary>What held a shutdown past its timeout, for the log line (never holds a secret: names and counts only).</summary>
    private string WhyStuck(Task pipelineRun, KafkaLabelSink labels)
    {
        var why = new List<string>();
        if (labels.InFlight > 0)
            why.Add($"{labels.InFlight} labels not acknowledged by Kafka ({labels.Name} on {_s.Producer.GetValueOrDefault("bootstrap.servers")}: brokers down or unreachable?)");
        why.Add(pipelineRun.IsCompleted ? "the pipeline had stopped" : "a sink flush was still waiting");
        why.Add($"{_tracker.InFlight} consumed alerts not yet durable in every sink");
        return string.Join("; ", why);
    }

    /// <summary>
    /// Fails the start (exit 2) when a topic the service produces to does not exist. On clusters with
    /// auto.create.topics.enable=false (the usual production setting) every produce to it would fail after
    /// topic.metadata.propagation.max.ms and fault the service mid-run; on clusters that auto-create, the topic would get
    /// the broker's default partitions and retention. Listing all topics (not a metadata request naming them) never
    /// auto-creates anything. If the brokers cannot be reached at start the check is skipped with a warning: librdkafka
    /// keeps retrying, and the service must not crash-loop on a broker restart.
    /// </summary>
    private void VerifyTopicsExist(IReadOnlyList<(string Topic, string Key)> topics)
    {
        if (topics.Count == 0) return;
        var config = new AdminClientConfig(_s.Producer.Where(kv => !kv.Key.StartsWith("dotnet.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value));
        string? authFailure = null;
        int logged = 0;
        var admin = Configured(() => new AdminClientBuilder(config)
            .SetLogHandler((_, m) =>
            {
                // librdkafka retries every few ms while a broker refuses us: a handful of lines is enough to say why.
                if (m.Level <= SyslogLevel.Warning && Interlocked.Increment(ref logged) <= 3) _log.LogWarning("librdkafka {Facility}: {Message}", m.Facility, Mask(m.Message));
            })
            .SetErrorHandler((_, e) => { if (e.Code == ErrorCode.Local_Authentication) authFailure ??= e.Reason; })
            .Build(), "Producer");
        var fetch = Task.Run(() => admin.GetMetadata(_s.TopicCheckTimeout));
        while (!fetch.IsCompleted && authFailure is null) Thread.Sleep(50);
        if (authFailure is not null)
        {
            _ = fetch.ContinueWith(_ => admin.Dispose(), TaskScheduler.Default);
            // At start this is a configuration error (exit 2). Once running, authentication errors are logged, not fatal:
            // credentials rotated on the brokers first must not kill a service that will re-authenticate.
            throw new ServiceConfigurationException(AuthenticationMessage(authFailure));
        }
        Metadata metadata;
        try
        {
            metadata = fetch.GetAwaiter().GetResult();
        }
        catch (KafkaException ex)
        {
            _log.LogWarning("Could not list the topics on {Brokers} within {Timeout}s ({Reason}); starting without checking that {Topics} exist",
                _s.Producer.GetValueOrDefault("bootstrap.servers"), _s.TopicCheckTimeout.TotalSeconds, ex.Error.Reason, string.Join(",", topics.Select(t => t.Topic)));
            return;
        }
        finally
        {
            if (fetch.IsCompleted) admin.Dispose();
        }
        var existing = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal);
        var missing = topics.Where(t => !existing.Contains(t.Topic)).DistinctBy(t => t.Topic).ToList();
        if (missing.Count == 0) return;
        throw new ServiceConfigurationException(
            $"Kafka topic{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m.Topic}' ({m.Key})"))} do{(missing.Count > 1 ? "" : "es")} not exist on {_s.Producer.GetValueOrDefault("bootstrap.servers")}. " +
            $"The service does not rely on broker auto-creation (off on most production clusters, where every produce would fail). Create {(missing.Count > 1 ? "them" : "it")} first, e.g. " +
            string.Join(" && ", missing.Select(m => $"kafka-topics.sh --bootstrap-server <brokers> --create --topic {m.Topic} --partitions 6 --replication-factor 3")) +
            ", or correct the key; Alerts:Kafka:CheckTopics=false skips this check.");
    }

    private void SetFault(string reason)
    {
        if (_fault is not null) return;
        _fault = reason;
        _log.LogError("Fatal: {Reason}. Stopping without committing past the failure; a restart resumes from the committed offsets.", reason);
        try { _faultCts?.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Runs under the source's assignment lock, on the pipeline's reader, in consumption order per partition.</summary>
    private bool Admit(RawAlert raw)
    {
        var key = new TopicPartitionKey(raw.Position.Origin, raw.Position.Partition);
        if (_lastAdmitted.TryGetValue(key, out var last) && raw.Position.Offset <= last)
        {
            Interlocked.Increment(ref _duplicatesDropped);
            return false;
        }
        _firstAdmitted.TryAdd(key, raw.Position.Offset);
        if (last + 1 != raw.Position.Offset && _lastAdmitted.ContainsKey(key)) _log.LogDebug("Offset gap on {Partition}: {Last} then {Offset} (compaction, transaction markers or retention)", key, last, raw.Position.Offset);
        _lastAdmitted[key] = raw.Position.Offset;
        _tracker.Track(key, raw.Position.Offset);
        return true;
    }

    private void OnAssigned(IReadOnlyList<TopicPartition> parts)
    {
        Interlocked.Increment(ref _rebalances);
        foreach (var tp in parts)
        {
            var key = tp.Key();
            _tracker.Assign(key);
            _lastAdmitted.TryRemove(key, out _);
            _firstAdmitted.TryRemove(key, out _);
            _assigned[key] = 0;
        }
        KafkaProblem = null; // joined the group: the brokers accept us
        Ready = _fault is null;
        _metrics.Up.Set(Ready ? 1 : 0);
        _metrics.AssignedPartitions.Set(_assigned.Count);
        _log.LogInformation("Assigned {Count} partitions{Incremental}: {Partitions}; resuming each from its committed offset", parts.Count,
            CooperativeRebalancing ? $" (incremental; now {_assigned.Count})" : "", string.Join(",", parts.Select(p => $"{p.Topic}[{p.Partition.Value}]")));
        Rebalanced?.Invoke(new RebalanceEvent(RebalanceKind.Assigned, parts.Select(p => p.Key()).ToArray(), [], true, _stopping));
    }

    private void OnRevoking(IReadOnlyList<TopicPartition> parts)
    {
        var keys = parts.Select(p => p.Key()).ToArray();
        bool drained = _skipDrain;
        if (!_skipDrain)
        {
            // Flush now rather than at the next tick, and keep flushing until every admitted alert of these partitions is durable.
            var deadline = DateTime.UtcNow + _s.RebalanceDrainTimeout;
            while (!drained && DateTime.UtcNow < deadline)
            {
                try { _pipeline?.FlushAllAsync(CancellationToken.None).GetAwaiter().GetResult(); }
                catch (Exception ex) { _log.LogWarning("Flush during revoke failed: {Message}", ex.Message); }
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
                drained = _tracker.WaitDrainedAsync(keys, wait.Token).GetAwaiter().GetResult();
            }
        }
        var commits = new List<CommittableOffset>();
        lock (_commitLock)
        {
            foreach (var k in keys)
                if (_tracker.Revoke(k) is long o) commits.Add(new CommittableOffset(k, o));
            if (commits.Count > 0 && _fault is null) CommitNow(commits, "revoke");
        }
        foreach (var k in keys)
        {
            _assigned.TryRemove(k, out _);
            _metrics.ConsumerLag.RemoveLabelled(k.Topic, k.Partition.ToString());
            _lag.TryRemove(k, out _);
        }
        _metrics.AssignedPartitions.Set(_assigned.Count);
        _log.LogInformation("Revoked {Count} partitions{Incremental} ({State}); committed {Commits}", parts.Count,
            CooperativeRebalancing ? $" (incremental; {_assigned.Count} keep consuming)" : "",
            drained ? "drained" : "drain timed out: in-flight alerts will be re-consumed by the next owner",
            string.Join(",", commits.Select(c => $"{c.Partition}@{c.Offset}")));
        Rebalanced?.Invoke(new RebalanceEvent(RebalanceKind.Revoked, keys, commits, drained, _stopping));
    }

    private void OnLost(IReadOnlyList<TopicPartition> parts)
    {
        foreach (var tp in parts)
        {
            _tracker.Revoke(tp.Key());
            _assigned.TryRemove(tp.Key(), out _);
        }
        _metrics.AssignedPartitions.Set(_assigned.Count);
        _log.LogWarning("Lost {Count} partitions without a clean revoke (session timed out?): their uncommitted alerts will be re-consumed by the next owner", parts.Count);
        Rebalanced?.Invoke(new RebalanceEvent(RebalanceKind.Lost, parts.Select(p => p.Key()).ToArray(), [], false, _stopping));
    }

    private void OnDurable(IReadOnlyList<SourcePosition> positions)
    {
        foreach (var p in positions)
            if (p.IsKafka) _tracker.Complete(new TopicPartitionKey(p.Origin, p.Partition), p.Offset);
        _commitSignal.Release();
    }

    private static readonly TimeSpan CommitRetryInterval = TimeSpan.FromSeconds(1);

    private async Task CommitLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Wakes on new durable positions, and at least once a second: a commit the coordinator refused (e.g.
                // RebalanceInProgress) stays in the tracker and must be retried even when no new alert arrives, or a
                // quiet partition's progress would stay uncommitted until the next message.
                await _commitSignal.WaitAsync(CommitRetryInterval, ct).ConfigureAwait(false);
                while (_commitSignal.CurrentCount > 0) _commitSignal.Wait(0);
                CommitDurable("watermark");
            }
        }
        catch (OperationCanceledException) { }
    }

    private void CommitDurable(string why)
    {
        if (_fault is not null || _source is null) return;
        lock (_commitLock)
        {
            // A partition whose watermark is still where it resumed has made no progress: committing that offset
            // again would only cost a round trip (and show a committed offset of 0 for a partition that is working).
            var offsets = _tracker.GetCommittable()
                .Where(o => !_firstAdmitted.TryGetValue(o.Partition, out var first) || o.Offset > first).ToList();
            if (offsets.Count > 0) CommitNow(offsets, why);
        }
    }

    private void CommitNow(IReadOnlyList<CommittableOffset> offsets, string why)
    {
        var clock = StageClock.Start();
        try
        {
            _source!.Commit(offsets.Select(o => new TopicPartitionOffset(o.Partition.Topic, o.Partition.Partition, o.Offset)));
            _pipeline?.Stats.AddStage("commit", offsets.Count, clock);
            _tracker.MarkCommitted(offsets);
            foreach (var o in offsets)
            {
                _metrics.CommittedOffset.WithLabels(o.Partition.Topic, o.Partition.Partition.ToString()).Set(o.Offset);
                _lastCommitted[o.Partition] = o.Offset;
            }
            _metrics.Commits.WithLabels("ok").Inc();
            Committed?.Invoke(offsets);
        }
        catch (KafkaException ex)
        {
            // Left in the tracker: the next commit retries it (a revoke commit that fails means redelivery, never a skip).
            Interlocked.Increment(ref _commitFailures);
            _commitErrors.AddOrUpdate($"{why}: {ex.Error.Code}", 1, (_, n) => n + 1);
            _metrics.Commits.WithLabels("failed").Inc();
            _log.LogWarning("Offset commit ({Why}) failed: {Code} {Reason}; will retry", why, ex.Error.Code, ex.Error.Reason);
        }
        catch (InvalidOperationException ex)
        {
            // The consumer is closed (shutdown race).
            Interlocked.Increment(ref _commitFailures);
            _log.LogWarning("Offset commit ({Why}) skipped: {Message}", why, ex.Message);
        }
    }

    private void OnStatistics(string json)
    {
        foreach (var (topic, partition, lag) in ConsumerStatistics.Lags(json))
            if (_assigned.ContainsKey(new TopicPartitionKey(topic, partition)))
            {
                _metrics.ConsumerLag.WithLabels(topic, partition.ToString()).Set(lag);
                _lag[new TopicPartitionKey(topic, partition)] = lag;
            }
    }
}
