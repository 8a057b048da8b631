using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Alerts.Pipeline.Observability;
using Alerts.Tests.Shared;
using Prometheus;
using YamlDotNet.RepresentationModel;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// The deploy/ files are code too: they parse, promtool accepts them, and every metric the dashboard and the
/// alerting rules query is one the service exports.
/// </summary>
public sealed class DeployFilesTests
{
    private static readonly string Deploy = RepoPaths.Of("deploy");

    /// <summary>Metric families the service exports, from a scrape of the registry a command uses: ours plus prometheus-net's process/.NET ones.</summary>
    private static HashSet<string> ExportedMetricNames()
    {
        var registry = PipelineMetrics.NewRegistryWithProcessMetrics();
        _ = new PipelineMetrics(registry);
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        var names = Regex.Matches(text, @"^# TYPE (\S+) (\S+)", RegexOptions.Multiline)
            .SelectMany(m => m.Groups[2].Value == "histogram"
                ? new[] { m.Groups[1].Value + "_bucket", m.Groups[1].Value + "_sum", m.Groups[1].Value + "_count" }
                : new[] { m.Groups[1].Value })
            .ToHashSet();
        names.Add("up"); // Prometheus's own, per scrape target
        return names;
    }

    /// <summary>Metric names in a PromQL expression: label lists, selectors, ranges and function calls removed.</summary>
    internal static IEnumerable<string> MetricsIn(string promql)
    {
        var stripped = Regex.Replace(promql, @"\b(by|without|on|ignoring)\s*\([^)]*\)", " ");
        stripped = Regex.Replace(stripped, @"\{[^}]*\}|\[[^\]]*\]|""[^""]*""", " ");
        return Regex.Matches(stripped, @"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()")
            .Select(m => m.Groups[1].Value)
            .Where(n => !PromQlWords.Contains(n));
    }

    /// <summary>Vector selectors in a PromQL expression, with their label matchers: <c>name{a="b"}</c> or <c>name</c>.</summary>
    internal static IEnumerable<string> SelectorsIn(string promql)
    {
        var stripped = Regex.Replace(promql, @"\b(by|without|on|ignoring)\s*\([^)]*\)", " ");
        stripped = Regex.Replace(stripped, @"\[[^\]]*\]", " ");
        // A brace block is consumed on its own or with the name before it, so label names inside never count as metrics.
        return Regex.Matches(stripped, @"\{[^}]*\}|\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()(\s*\{[^}]*\})?")
            .Where(m => m.Groups[1].Success && !PromQlWords.Contains(m.Groups[1].Value))
            .Select(m => m.Groups[1].Value + Regex.Replace(m.Groups[2].Value, @"\s", ""));
    }

    private static JsonDocument Dashboard() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "grafana", "alerts-dashboard.json")));

    /// <summary>Every panel of the dashboard, rows included, and the panels nested in (collapsed) rows.</summary>
    internal static IEnumerable<JsonElement> AllPanels(JsonElement container) =>
        container.TryGetProperty("panels", out var panels)
            ? panels.EnumerateArray().SelectMany(p => new[] { p }.Concat(AllPanels(p)))
            : [];

    /// <summary>The panels that query (not rows).</summary>
    private static List<JsonElement> QueryPanels(JsonElement root) => AllPanels(root).Where(p => p.GetProperty("type").GetString() != "row").ToList();

    /// <summary>
    /// Every PromQL expression of the dashboard (nested panels included), with its panel title. With
    /// <paramref name="resolve"/>, the dashboard variables are replaced by the values of the live tests' Prometheus
    /// (job "alerts", every instance), so the expression runs as Grafana would send it.
    /// </summary>
    internal static IEnumerable<(string Panel, string Expr)> DashboardQueries(bool resolve = true)
    {
        using var doc = Dashboard();
        return QueryPanels(doc.RootElement)
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (p.GetProperty("title").GetString()!, t.GetProperty("expr").GetString()!)))
            .Select(q => (q.Item1, resolve ? q.Item2.Replace("$job", "alerts").Replace("$instance", ".+") : q.Item2))
            .ToList();
    }

    /// <summary>Every alerting rule of rules.yml: name and expression.</summary>
    internal static IEnumerable<(string Alert, string Expr)> RuleQueries()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, "prometheus", "rules.yml"))));
        var groups = (YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["groups"];
        return groups.Children.Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g["rules"]).Children.Cast<YamlMappingNode>())
            .Select(r => (((YamlScalarNode)r["alert"]).Value!, ((YamlScalarNode)r["expr"]).Value!))
            .ToList();
    }

    private static readonly HashSet<string> PromQlWords =
    [
        "sum", "rate", "by", "histogram_quantile", "vector", "deriv", "and", "or", "le", "max", "min", "avg",
        "increase", "irate", "without", "on", "ignoring", "count",
    ];

    [Fact]
    public void Every_dashboard_panel_has_a_prometheus_query_on_an_exported_metric()
    {
        var exported = ExportedMetricNames();
        using var doc = Dashboard();
        var panels = QueryPanels(doc.RootElement);
        Assert.True(panels.Count >= 16, $"dashboard has {panels.Count} panels");
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            var exprs = panel.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!).ToList();
            Assert.True(exprs.Count > 0, $"panel '{title}' has no query");
            foreach (var metric in exprs.SelectMany(MetricsIn))
                Assert.True(exported.Contains(metric), $"panel '{title}' queries {metric}, which the service does not export");
        }
    }

    [Fact]
    public void Every_panel_and_target_uses_the_datasource_variable_and_every_selector_the_job_and_instance_variables()
    {
        using var doc = Dashboard();
        var root = doc.RootElement;
        var inputs = root.GetProperty("__inputs").EnumerateArray().ToList();
        Assert.Contains(inputs, i => i.GetProperty("name").GetString() == "DS_PROMETHEUS" && i.GetProperty("type").GetString() == "datasource" && i.GetProperty("pluginId").GetString() == "prometheus");
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Equal("datasource", variables["datasource"].GetProperty("type").GetString());
        Assert.Equal("prometheus", variables["datasource"].GetProperty("query").GetString());
        foreach (var (name, query) in new[] { ("job", "label_values(alerts_ready, job)"), ("instance", "label_values(alerts_ready{job=~\"$job\"}, instance)") })
        {
            Assert.Equal("query", variables[name].GetProperty("type").GetString());
            Assert.Equal(query, variables[name].GetProperty("query").GetProperty("query").GetString());
            Assert.Equal("${datasource}", variables[name].GetProperty("datasource").GetProperty("uid").GetString());
        }

        var all = AllPanels(root).ToList();
        var nested = all.Where(p => p.GetProperty("type").GetString() == "row").SelectMany(r => r.GetProperty("panels").EnumerateArray()).ToList();
        Assert.True(nested.Count >= 2, $"{nested.Count} panels inside rows");
        var problems = new List<string>();
        int targets = 0;
        foreach (var panel in QueryPanels(root))
        {
            var title = panel.GetProperty("title").GetString();
            if (panel.GetProperty("datasource").GetProperty("uid").GetString() != "${datasource}") problems.Add($"panel '{title}': datasource {panel.GetProperty("datasource")}");
            foreach (var t in panel.GetProperty("targets").EnumerateArray())
            {
                targets++;
                var expr = t.GetProperty("expr").GetString()!;
                if (t.GetProperty("datasource").GetProperty("uid").GetString() != "${datasource}") problems.Add($"panel '{title}' {t.GetProperty("refId")}: datasource {t.GetProperty("datasource")}");
                var selectors = SelectorsIn(expr).ToList();
                if (selectors.Count == 0) problems.Add($"panel '{title}': '{expr}' selects no metric (so no $job)");
                foreach (var s in selectors)
                    if (!s.Contains("job=~\"$job\"") || !s.Contains("instance=~\"$instance\"")) problems.Add($"panel '{title}': {s} does not select job=~\"$job\", instance=~\"$instance\"");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(targets >= 20, $"{targets} targets");
        var text = File.ReadAllText(Path.Combine(Deploy, "grafana", "alerts-dashboard.json"));
        Assert.DoesNotContain("\"uid\": \"prometheus\"", text);
        Assert.DoesNotContain("job=\\\"alerts\\\"", text);
    }

    [Fact]
    public void Every_alert_rule_uses_exported_metrics()
    {
        var exported = ExportedMetricNames();
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, "prometheus", "rules.yml"))));
        var rules = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["groups"]).Children[0])["rules"]).Children;
        Assert.Equal(5, rules.Count);
        foreach (YamlMappingNode rule in rules)
        {
            var name = ((YamlScalarNode)rule["alert"]).Value;
            var expr = ((YamlScalarNode)rule["expr"]).Value!;
            foreach (var metric in MetricsIn(expr))
                Assert.True(exported.Contains(metric), $"rule {name} uses {metric}, which the service does not export");
        }
    }

    [Theory]
    [InlineData("docker-compose.yml")]
    [InlineData("prometheus/prometheus.yml")]
    [InlineData("prometheus/rules.yml")]
    [InlineData("grafana/provisioning/datasources/prometheus.yml")]
    [InlineData("grafana/provisioning/dashboards/alerts.yml")]
    [InlineData("k8s/configmap.yaml")]
    [InlineData("k8s/deployment.yaml")]
    [InlineData("k8s/service.yaml")]
    [InlineData("k8s/keda-scaledobject.yaml")]
    [InlineData("k8s/pvc.yaml")]
    public void Deploy_yaml_parses(string file)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, file))));
        Assert.NotEmpty(yaml.Documents);
    }

    [Fact]
    public void Dockerfile_copies_paths_that_exist()
    {
        foreach (var line in File.ReadLines(Path.Combine(Deploy, "Dockerfile")).Where(l => l.StartsWith("COPY ") && !l.Contains("--from")))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var source in parts.Skip(1).Take(parts.Length - 2))
                Assert.True(File.Exists(RepoPaths.Of(source)) || Directory.Exists(RepoPaths.Of(source)), $"Dockerfile: {line}: {source} does not exist");
        }
    }

    [Fact]
    public void Selector_extraction_keeps_label_matchers_and_drops_grouping_labels()
    {
        Assert.Equal(["alerts_end_to_end_latency_seconds_bucket{reference=\"source\"}"],
            SelectorsIn("histogram_quantile(0.99, sum by (le) (rate(alerts_end_to_end_latency_seconds_bucket{reference=\"source\"}[5m]))) > 60"));
        Assert.Equal(["alerts_consumer_lag", "alerts_consumer_lag"],
            SelectorsIn("sum by (topic) (alerts_consumer_lag) > 10000 and sum by (topic) (deriv(alerts_consumer_lag[10m])) > 0"));
        Assert.Equal(["up{job=\"alerts\"}"], SelectorsIn("up{job=\"alerts\"} == 0"));
        Assert.Empty(SelectorsIn("vector(277.8)"));
    }

    [PromtoolFact]
    public void Promtool_accepts_the_rules_and_the_config()
    {
        Assert.Equal("", Run("promtool", "check", "rules", Path.Combine(Deploy, "prometheus", "rules.yml")));
        // The config names the rules file by its path inside the container; point it at ours.
        var dir = Directory.CreateTempSubdirectory("alerts-prom").FullName;
        try
        {
            File.Copy(Path.Combine(Deploy, "prometheus", "rules.yml"), Path.Combine(dir, "rules.yml"));
            File.WriteAllText(Path.Combine(dir, "prometheus.yml"),
                File.ReadAllText(Path.Combine(Deploy, "prometheus", "prometheus.yml")).Replace("/etc/prometheus/rules.yml", Path.Combine(dir, "rules.yml")));
            Assert.Equal("", Run("promtool", "check", "config", Path.Combine(dir, "prometheus.yml")));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Runs a tool; returns "" on exit 0, else its output (so the assertion shows promtool's complaint).</summary>
    private static string Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? "" : output;
    }
}

/// <summary>Skipped, with the reason, where Debian's prometheus package (promtool) is not installed.</summary>
public sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (Referees.MissingReason(Referee.Promtool) is { } reason) Skip = reason;
    }
}
