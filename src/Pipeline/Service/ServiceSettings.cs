using Alerts.Avro;
using Alerts.Ingest;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Alerts.Pipeline.Service;

/// <summary>A configuration problem: the message names the key and the fix.</summary>
public sealed class ServiceConfigurationException(string message) : Exception(message);

/// <summary>
/// Everything `alerts run` reads from configuration (section <c>Alerts</c>; appsettings.json, then
/// appsettings.{Environment}.json, then environment variables <c>Alerts__Kafka__Consumer__group.id</c>, then the
/// command line <c>--Alerts:Kafka:Consumer:group.id=x</c>). librdkafka properties under Kafka:Consumer and
/// Kafka:Producer pass through verbatim, so SASL_SSL, SCRAM, OAUTHBEARER and mTLS need no code here.
/// </summary>
public sealed record ServiceSettings
{
    public const string Section = "Alerts";

    public required IReadOnlyList<string> Topics { get; init; }
    public required IReadOnlyDictionary<string, string> Consumer { get; init; }
    public required IReadOnlyDictionary<string, string> Producer { get; init; }

    public int DecodeWorkers { get; init; } = Math.Max(1, Environment.ProcessorCount);
    public int BatchSize { get; init; } = 64;
    public int MaxBatchWaitMs { get; init; } = 20;
    public int ChannelCapacity { get; init; } = 256;
    public int FlushIntervalMs { get; init; } = 1000;
    /// <summary>Classify loops, each with its own model instances (GP + inference per micro-batch): one per core.</summary>
    public int ClassifyWorkers { get; init; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>Classified batches that may queue for the sink writer while it writes or flushes (0: classify loops write the sinks themselves).</summary>
    public int SinkQueueBatches { get; init; } = 8;

    /// <summary>Bounds on hostile input (Alerts:Ingest:*); over a bound is a <c>too-large</c> (or <c>bad-schema</c>) dead letter.</summary>
    public IngestLimits Limits { get; init; } = IngestLimits.Default;

    public required string ArchiveRoot { get; init; }
    public required string WriterId { get; init; }
    /// <summary>Open Parquet files are closed (made durable, offsets committed) once the oldest is this old; zero: on every flush.</summary>
    public TimeSpan ArchiveFileMaxAge { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>A Parquet file is closed once it reaches this many bytes.</summary>
    public long ArchiveFileMaxBytes { get; init; } = 64L << 20;

    /// <summary>Label topic that receives every label ("all"), or null for none.</summary>
    public string? LabelsTopic { get; init; }
    /// <summary>Extra routes: topic -> rule (see LabelFilter).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> LabelRoutes { get; init; } = [];

    public string? DeadLetterTopic { get; init; }
    public string? DeadLetterFolder { get; init; }

    /// <summary>HTTP port for /metrics, /healthz, /readyz; 0 disables the endpoint.</summary>
    public int MetricsPort { get; init; } = 9464;

    public IReadOnlyList<string> ModelPaths { get; init; } = [];
    public string? SchemasPath { get; init; }

    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan RebalanceDrainTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>At start, fail (exit 2) if a label or dead-letter topic does not exist (Alerts:Kafka:CheckTopics).</summary>
    public bool CheckTopics { get; init; } = true;
    public TimeSpan TopicCheckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>json (Serilog compact JSON, the default) or text.</summary>
    public string LogFormat { get; init; } = "json";
    public string LogLevel { get; init; } = "Information";
    /// <summary>How often a running service logs a progress line (alerts in, classified, dead-lettered, committed, lag); zero: never.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Repeats of one event (template and property values) within this window are counted, not written; zero: all written.</summary>
    public TimeSpan LogRepeatWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Reads and validates the Alerts section.</summary>
    public static ServiceSettings FromConfiguration(IConfiguration root)
    {
        var c = root.GetSection(Section);
        // A misspelled key would otherwise be ignored and its default used.
        if (ConfigurationKeys.Unknown(root) is { Count: > 0 } unknown)
            throw new ServiceConfigurationException(string.Join(Environment.NewLine, unknown));
        var topics = c.GetSection("Kafka:Topics").GetChildren().Select(x => x.Value).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim()).ToList();
        if (topics.Count == 0 && c["Kafka:Topics"] is { Length: > 0 } single)
            topics.AddRange(single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (topics.Count == 0)
            throw new ServiceConfigurationException("Alerts:Kafka:Topics is empty: set at least one topic or a regex starting with '^' (e.g. Alerts__Kafka__Topics__0='^ztf_[0-9]{8}_programid1$').");
        foreach (var t in topics.Where(t => t.StartsWith('^')))
        {
            // librdkafka matches subscriptions with POSIX extended regexes (regcomp): Perl shorthands silently match nothing.
            if (Regex.IsMatch(t, @"\\[dDwWsSbB]"))
                throw new ServiceConfigurationException($"Alerts:Kafka:Topics: '{t}' uses a Perl shorthand (\\d, \\w, \\s, \\b); librdkafka uses POSIX extended regexes, where it matches nothing. Write [0-9] for \\d, e.g. ^ztf_[0-9]{{8}}_programid1$.");
            try { _ = new Regex(t); }
            catch (ArgumentException ex) { throw new ServiceConfigurationException($"Alerts:Kafka:Topics: '{t}' is not a valid regex ({ex.Message}); fix the pattern or drop the leading '^' to name a topic."); }
        }

        var consumer = Properties(c.GetSection("Kafka:Consumer"));
        var producer = Properties(c.GetSection("Kafka:Producer"));
        if (!consumer.ContainsKey("bootstrap.servers"))
            throw new ServiceConfigurationException("Alerts:Kafka:Consumer:bootstrap.servers is missing: set it to the brokers, e.g. Alerts__Kafka__Consumer__bootstrap.servers=kafka:9092.");
        if (!consumer.ContainsKey("group.id"))
            throw new ServiceConfigurationException("Alerts:Kafka:Consumer:group.id is missing: every instance of the service must join the same consumer group, e.g. group.id=alerts.");
        foreach (var key in new[] { "enable.auto.commit", "enable.auto.offset.store" })
            if (consumer.TryGetValue(key, out var v) && v.Equals("true", StringComparison.OrdinalIgnoreCase))
                throw new ServiceConfigurationException($"Alerts:Kafka:Consumer:{key}=true would commit offsets before the sinks hold the alerts; remove it (the service commits behind its durable watermark).");
        foreach (var (section, props) in new[] { ("Consumer", consumer), ("Producer", producer) })
            foreach (var key in new[] { "sasl.mechanism", "sasl.mechanisms" })
                // Checked here, not left to librdkafka: it refuses an unknown SCRAM variant only inside rd_kafka_new, with a
                // message that does not name the property.
                if (props.TryGetValue(key, out var mechanism) && mechanism is not ("GSSAPI" or "PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512" or "OAUTHBEARER"))
                    throw new ServiceConfigurationException($"Alerts:Kafka:{section}:{key}='{mechanism}' is not a SASL mechanism librdkafka supports: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or GSSAPI (as the brokers' listener expects; names are upper case).");
        if (consumer.TryGetValue("partition.assignment.strategy", out var strategy))
        {
            var names = strategy.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length == 0 || names.Any(n => n is not ("range" or "roundrobin" or "cooperative-sticky")))
                throw new ServiceConfigurationException($"Alerts:Kafka:Consumer:partition.assignment.strategy='{strategy}': use cooperative-sticky (incremental rebalancing: only moved partitions are revoked), or range / roundrobin (eager: every rebalance revokes everything).");
            if (names.Contains("cooperative-sticky") && names.Length > 1)
                throw new ServiceConfigurationException($"Alerts:Kafka:Consumer:partition.assignment.strategy='{strategy}' mixes cooperative-sticky with eager assignors, which librdkafka refuses; use cooperative-sticky alone. To move a running group from an eager assignor, stop every instance and start them all with cooperative-sticky: a member whose assignors share none with the group is refused (INCONSISTENT_GROUP_PROTOCOL).");
        }
        // The producers inherit the consumer's connection and security settings unless the Producer section overrides them.
        var mergedProducer = new Dictionary<string, string>();
        foreach (var (k, v) in consumer)
            if (IsConnectionProperty(k)) mergedProducer[k] = v;
        foreach (var (k, v) in producer) mergedProducer[k] = v;

        var routes = new List<KeyValuePair<string, string>>();
        foreach (var child in c.GetSection("Labels:Routes").GetChildren())
        {
            if (child["Topic"] is { } topic)
                routes.Add(new(topic, child["Rule"] ?? throw new ServiceConfigurationException($"Alerts:Labels:Routes:{child.Key} (topic {topic}) has no Rule; use 'all' or e.g. 'SNIa >= 0.8'.")));
            else if (child.Value is { } rule)
                routes.Add(new(child.Key, rule));
        }

        var archiveRoot = c["Archive:Root"];
        if (string.IsNullOrWhiteSpace(archiveRoot))
            throw new ServiceConfigurationException("Alerts:Archive:Root is missing: set the Parquet archive folder (e.g. Alerts__Archive__Root=/data/archive).");
        var writerId = c["Archive:WriterId"] ?? SanitizeWriterId(Environment.MachineName);

        var s = new ServiceSettings
        {
            Topics = topics,
            Consumer = consumer,
            Producer = mergedProducer,
            DecodeWorkers = Int(c, "Pipeline:DecodeWorkers", Math.Max(1, Environment.ProcessorCount), 1, 256),
            BatchSize = Int(c, "Pipeline:BatchSize", 64, 1, 65536),
            MaxBatchWaitMs = Int(c, "Pipeline:MaxBatchWaitMs", 20, 0, 60_000),
            ChannelCapacity = Int(c, "Pipeline:ChannelCapacity", 256, 1, 1 << 20),
            FlushIntervalMs = Int(c, "Pipeline:FlushIntervalMs", 1000, 10, 600_000),
            ClassifyWorkers = Int(c, "Pipeline:ClassifyWorkers", Math.Max(1, Environment.ProcessorCount), 1, 256),
            SinkQueueBatches = Int(c, "Pipeline:SinkQueueBatches", 8, 0, 4096),
            Limits = ReadLimits(c),
            ArchiveRoot = Path.GetFullPath(archiveRoot),
            WriterId = writerId,
            ArchiveFileMaxAge = TimeSpan.FromSeconds(Int(c, "Archive:FileMaxAgeSeconds", 60, 0, 3600)),
            ArchiveFileMaxBytes = (long)Int(c, "Archive:FileMaxMegabytes", 64, 1, 4096) << 20,
            LabelsTopic = NullIfEmpty(c["Labels:Topic"]),
            LabelRoutes = routes,
            DeadLetterTopic = NullIfEmpty(c["DeadLetter:Topic"]),
            DeadLetterFolder = NullIfEmpty(c["DeadLetter:Folder"]),
            MetricsPort = Int(c, "Metrics:Port", 9464, 0, 65535),
            ModelPaths = c.GetSection("Model:Paths").GetChildren().Select(x => x.Value!).Where(v => !string.IsNullOrEmpty(v))
                .Concat(c["Model:Path"] is { Length: > 0 } one ? [one] : []).ToList(),
            SchemasPath = NullIfEmpty(c["Schemas"]),
            ShutdownTimeout = TimeSpan.FromSeconds(Int(c, "Shutdown:TimeoutSeconds", 30, 1, 3600)),
            RebalanceDrainTimeout = TimeSpan.FromSeconds(Int(c, "Rebalance:DrainTimeoutSeconds", 20, 1, 3600)),
            CheckTopics = Bool(c, "Kafka:CheckTopics", true),
            LogFormat = (c["Logging:Format"] ?? "json").ToLowerInvariant(),
            LogLevel = c["Logging:Level"] ?? "Information",
            ProgressInterval = TimeSpan.FromSeconds(Int(c, "Logging:ProgressIntervalSeconds", 60, 0, 86_400)),
            LogRepeatWindow = TimeSpan.FromSeconds(Int(c, "Logging:RepeatWindowSeconds", 30, 0, 86_400)),
        };
        if (s.LogFormat is not ("json" or "text"))
            throw new ServiceConfigurationException($"Alerts:Logging:Format={s.LogFormat}: use json (compact JSON for log shippers) or text (for people).");
        if (s.LabelsTopic is null && routes.Count == 0)
            throw new ServiceConfigurationException("Alerts:Labels:Topic is missing: set the topic that receives every label (e.g. alerts.labels), and optionally Alerts:Labels:Routes.");
        if (s.WriterId.Any(ch => !(char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.')))
            throw new ServiceConfigurationException($"Alerts:Archive:WriterId '{s.WriterId}' may hold only letters, digits, '_' and '.'; it must be unique per running instance and stable across its restarts.");
        return s;
    }

    private static bool IsConnectionProperty(string key) =>
        key is "bootstrap.servers" or "security.protocol" or "client.dns.lookup" or "broker.address.family"
        || key.StartsWith("sasl.", StringComparison.Ordinal) || key.StartsWith("ssl.", StringComparison.Ordinal);

    private static Dictionary<string, string> Properties(IConfigurationSection section)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var child in section.GetChildren())
            if (child.Value is { } v) d[child.Key] = v;
        return d;
    }

    private static IngestLimits ReadLimits(IConfiguration c)
    {
        var d = IngestLimits.Default;
        return new IngestLimits
        {
            MaxAlertBytes = Int(c, "Ingest:MaxAlertBytes", d.MaxAlertBytes, 1024, int.MaxValue),
            MaxHistoryRows = Int(c, "Ingest:MaxHistoryRows", d.MaxHistoryRows, 1, int.MaxValue),
            Avro = new AvroLimits
            {
                MaxValueBytes = Int(c, "Ingest:MaxValueBytes", d.Avro.MaxValueBytes, 1024, int.MaxValue),
                MaxItems = Int(c, "Ingest:MaxItems", (int)d.Avro.MaxItems, 1, int.MaxValue),
                MaxSchemaJsonBytes = Int(c, "Ingest:MaxSchemaJsonBytes", d.Avro.MaxSchemaJsonBytes, 1024, int.MaxValue),
                MaxSchemaDepth = Int(c, "Ingest:MaxSchemaDepth", d.Avro.MaxSchemaDepth, 8, 1024),
                MaxInflatedBytes = Int(c, "Ingest:MaxInflatedBytes", d.Avro.MaxInflatedBytes, 1024, int.MaxValue),
            },
        };
    }

    private static int Int(IConfiguration c, string key, int fallback, int min, int max)
    {
        var text = c[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!int.TryParse(text, out var v) || v < min || v > max)
            throw new ServiceConfigurationException($"{Section}:{key}='{text}' is not a whole number between {min} and {max}.");
        return v;
    }

    private static bool Bool(IConfiguration c, string key, bool fallback)
    {
        var text = c[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return bool.TryParse(text, out var v) ? v : throw new ServiceConfigurationException($"{Section}:{key}='{text}' is not true or false.");
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    public static string SanitizeWriterId(string name)
    {
        var chars = name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.' ? ch : '_').ToArray();
        return chars.Length == 0 ? "w0" : new string(chars);
    }

    private static readonly Regex SecretKey = new(@"(password|secret|token|credential|ssl\.key\.pem|sasl\.oauthbearer\.config|sasl\.jaas\.config|private)", RegexOptions.IgnoreCase);

    /// <summary>True for keys whose values must never be logged (sasl.password, ssl.key.password, ssl.key.pem, ...).</summary>
    public static bool IsSecret(string key) => SecretKey.IsMatch(key);

    /// <summary>The Alerts section flattened to key = value lines, secrets replaced by "***" (for the startup log).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> MaskedView(IConfiguration root)
    {
        return root.GetSection(Section).AsEnumerable(makePathsRelative: false)
            .Where(kv => kv.Value is not null)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new KeyValuePair<string, string>(kv.Key, IsSecret(kv.Key) ? "***" : kv.Value!))
            .ToList();
    }

    /// <summary>librdkafka properties with secrets masked (for logs and error messages).</summary>
    public static IReadOnlyDictionary<string, string> Masked(IReadOnlyDictionary<string, string> properties) =>
        properties.ToDictionary(kv => kv.Key, kv => IsSecret(kv.Key) ? "***" : kv.Value);
}
