using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Alerts.Pipeline.Service;

/// <summary>
/// The shape of the <c>Alerts</c> configuration section, one property per key that <see cref="ServiceSettings.FromConfiguration"/>
/// reads (deploy/README.md lists them). <see cref="ConfigurationKeys"/> checks every key of the section against these
/// classes by reflection, so a misspelled key (<c>Alerts:Pipeline:BatchSzie</c>) stops the start instead of being ignored.
/// Dictionaries take any key (librdkafka properties, routes by topic); lists take numbered entries.
/// </summary>
public sealed class AlertsConfiguration
{
    public KafkaKeys Kafka { get; init; } = new();
    public PipelineKeys Pipeline { get; init; } = new();
    public IngestKeys Ingest { get; init; } = new();
    public ArchiveKeys Archive { get; init; } = new();
    public LabelsKeys Labels { get; init; } = new();
    public DeadLetterKeys DeadLetter { get; init; } = new();
    public ModelKeys Model { get; init; } = new();
    public string? Schemas { get; init; }
    public MetricsKeys Metrics { get; init; } = new();
    public ShutdownKeys Shutdown { get; init; } = new();
    public RebalanceKeys Rebalance { get; init; } = new();
    public LoggingKeys Logging { get; init; } = new();

    public sealed class KafkaKeys
    {
        /// <summary>Numbered entries, or one comma-separated value.</summary>
        public List<string> Topics { get; init; } = [];
        public Dictionary<string, string> Consumer { get; init; } = [];
        public Dictionary<string, string> Producer { get; init; } = [];
        public bool CheckTopics { get; init; }
    }

    public sealed class PipelineKeys
    {
        public int DecodeWorkers { get; init; }
        public int BatchSize { get; init; }
        public int MaxBatchWaitMs { get; init; }
        public int ChannelCapacity { get; init; }
        public int FlushIntervalMs { get; init; }
        public int ClassifyWorkers { get; init; }
        public int SinkQueueBatches { get; init; }
    }

    /// <summary>Bounds on hostile input (<see cref="Alerts.Ingest.IngestLimits"/>).</summary>
    public sealed class IngestKeys
    {
        public int MaxAlertBytes { get; init; }
        public int MaxHistoryRows { get; init; }
        public int MaxValueBytes { get; init; }
        public int MaxItems { get; init; }
        public int MaxSchemaJsonBytes { get; init; }
        public int MaxSchemaDepth { get; init; }
        public int MaxInflatedBytes { get; init; }
    }

    public sealed class ArchiveKeys
    {
        public string? Root { get; init; }
        public string? WriterId { get; init; }
        public int FileMaxAgeSeconds { get; init; }
        public int FileMaxMegabytes { get; init; }
    }

    public sealed class LabelsKeys
    {
        public string? Topic { get; init; }
        /// <summary>Numbered <c>{Topic, Rule}</c> entries, or <c>topic = rule</c>.</summary>
        public Dictionary<string, LabelRouteKeys> Routes { get; init; } = [];
    }

    public sealed class LabelRouteKeys
    {
        public string? Topic { get; init; }
        public string? Rule { get; init; }
    }

    public sealed class DeadLetterKeys
    {
        public string? Topic { get; init; }
        public string? Folder { get; init; }
    }

    public sealed class ModelKeys
    {
        public string? Path { get; init; }
        public List<string> Paths { get; init; } = [];
    }

    public sealed class MetricsKeys { public int Port { get; init; } }
    public sealed class ShutdownKeys { public int TimeoutSeconds { get; init; } }
    public sealed class RebalanceKeys { public int DrainTimeoutSeconds { get; init; } }

    public sealed class LoggingKeys
    {
        public string? Format { get; init; }
        public string? Level { get; init; }
        public int ProgressIntervalSeconds { get; init; }
        public int RepeatWindowSeconds { get; init; }
    }
}

/// <summary>Checks the keys of the <c>Alerts</c> section against <see cref="AlertsConfiguration"/>.</summary>
public static class ConfigurationKeys
{
    /// <summary>One message per unknown key, naming the key, where it came from and the closest valid key; empty when all are known.</summary>
    public static IReadOnlyList<string> Unknown(IConfiguration root)
    {
        var problems = new List<string>();
        var section = root.GetSection(ServiceSettings.Section);
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: false).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (value is null) continue; // a section; its leaves are checked
            var segments = key.Split(ConfigurationPath.KeyDelimiter);
            if (Check(typeof(AlertsConfiguration), segments, 1) is not { } bad) continue;
            var (index, siblings) = bad;
            var prefix = string.Join(':', segments[..index]);
            var message = $"{key} is not a configuration key{Source(root, key)}";
            if (siblings.Count == 0)
                message += $": {prefix} takes a value, not sub-keys.";
            else
            {
                var closest = siblings.MinBy(s => Distance(s, segments[index]))!;
                var rest = segments[(index + 1)..];
                var suggestion = string.Join(':', [.. segments[..index], closest, .. rest]);
                if (Check(typeof(AlertsConfiguration), suggestion.Split(':'), 1) is not null) suggestion = $"{prefix}:{closest}";
                message += $"; did you mean {suggestion}? Keys under {prefix}: {string.Join(", ", siblings)}.";
            }
            problems.Add(message);
        }
        return problems;
    }

    /// <summary>Null when the path is valid; else the index of the first bad segment and the valid names at that level (none: a value).</summary>
    private static (int Index, IReadOnlyList<string> Valid)? Check(Type type, string[] segments, int i)
    {
        for (; i < segments.Length; i++)
        {
            var seg = segments[i];
            if (IsDictionary(type, out var valueType))
            {
                // Any key; a value of its own (librdkafka property, "topic = rule") or a section of the value type.
                if (valueType == typeof(string) || i + 1 == segments.Length) return null;
                type = valueType;
                continue;
            }
            if (IsList(type, out var elementType))
            {
                if (!int.TryParse(seg, out _)) return (i, ["0", "1", "..."]);
                type = elementType;
                continue;
            }
            if (IsScalar(type)) return (i, []);
            var props = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
            var match = props.FirstOrDefault(p => string.Equals(p.Name, seg, StringComparison.OrdinalIgnoreCase));
            if (match is null) return (i, props.Select(p => p.Name).ToList());
            type = match.PropertyType;
        }
        // The path ends here with a value: a scalar, the one-value form of a list (comma-separated topics), or a
        // value on a section, which nothing reads and which hides no misspelling.
        return null;
    }

    private static bool IsScalar(Type t) => t == typeof(string) || Nullable.GetUnderlyingType(t) is not null || t.IsPrimitive || t.IsEnum;

    private static bool IsDictionary(Type t, out Type valueType)
    {
        valueType = typeof(string);
        if (!t.IsGenericType || t.GetGenericTypeDefinition() != typeof(Dictionary<,>)) return false;
        valueType = t.GetGenericArguments()[1];
        return true;
    }

    private static bool IsList(Type t, out Type elementType)
    {
        elementType = typeof(string);
        if (!t.IsGenericType || t.GetGenericTypeDefinition() != typeof(List<>)) return false;
        elementType = t.GetGenericArguments()[0];
        return true;
    }

    /// <summary>" (from appsettings.json)": the last configuration source that holds the key, when it can be told.</summary>
    private static string Source(IConfiguration root, string key)
    {
        if (root is not IConfigurationRoot r) return "";
        foreach (var p in r.Providers.Reverse())
            if (p.TryGet(key, out _))
                return p switch
                {
                    Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider j => $" (in {j.Source.Path})",
                    Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider => $" (environment variable {key.Replace(":", "__", StringComparison.Ordinal)})",
                    Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider => " (command line)",
                    _ => "",
                };
        return "";
    }

    /// <summary>Levenshtein distance, ignoring case.</summary>
    public static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
