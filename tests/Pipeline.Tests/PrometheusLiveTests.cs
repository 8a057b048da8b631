using System.Diagnostics;
using System.Text.RegularExpressions;
using Alerts.Tests.Shared;
using Parquet;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// The live metrics proof: Debian's real Prometheus scrapes <c>alerts replay --metrics-port</c> (the main job, as a child
/// process) while it replays simulated ZTF alerts plus two corrupt files, and every metric the Grafana dashboard
/// and the alerting rules query exists in Prometheus with samples; every panel's query returns data; the counters
/// agree with what the replay archived; and the rules load and evaluate without error.
/// </summary>
public sealed class PrometheusLiveTests(ITestOutputHelper output)
{
    /// <summary>
    /// Metrics only the Kafka service (<c>alerts run</c>) sets: a replay has no consumer group, so no lag and no
    /// committed offsets. Here they must be exported (a <c># TYPE</c> line on the scraped /metrics);
    /// their samples are the service's integration test's to prove.
    /// </summary>
    public static readonly string[] KafkaOnlyMetrics = ["alerts_consumer_lag", "alerts_committed_offset", "alerts_offset_commits_total", "alerts_labels_produced_total"];

    /// <summary>Series only the Kafka service fills: latency from the Kafka message timestamp (checked like the above).</summary>
    public static readonly string[] KafkaOnlySelectors = ["alerts_end_to_end_latency_seconds_bucket{reference=\"source\"}"];

    /// <summary>A selector of a Kafka-only metric, or one that holds every matcher of a Kafka-only selector (dashboard selectors add job and instance).</summary>
    internal static bool IsKafkaOnly(string selector)
    {
        var name = Regex.Match(selector, @"^[a-zA-Z_:][a-zA-Z0-9_:]*").Value;
        if (KafkaOnlyMetrics.Contains(name)) return true;
        var matchers = Matchers(selector);
        return KafkaOnlySelectors.Any(k => Regex.Match(k, @"^[a-zA-Z_:][a-zA-Z0-9_:]*").Value == name && Matchers(k).All(matchers.Contains));
    }

    private static HashSet<string> Matchers(string selector) =>
        Regex.Matches(selector, "[a-zA-Z_]\\w*\\s*(=~|!=|!~|=)\\s*\"[^\"]*\"").Select(m => Regex.Replace(m.Value, @"\s", "")).ToHashSet();

    [PrometheusFact]
    public async Task Every_dashboard_and_rule_metric_has_samples_in_a_live_prometheus_scraping_replay()
    {
        var work = Directory.CreateTempSubdirectory("alerts-prom-live").FullName;
        try
        {
            // Input: 12 simulated ZTF transients (one Avro container per alert) plus two files that must dead-letter.
            var sim = Path.Combine(work, "sim");
            var (simExit, simOut) = await AlertsProcess.RunAsync(TimeSpan.FromMinutes(2),
                "simulate", "--survey", "ztf", "--objects", "12", "--classes", "SNIa,SNII,SNIbc", "--seed", "7", "--out", sim, "--format", "container");
            Assert.True(simExit == 0, simOut);
            var alertsDir = Path.Combine(sim, "alerts");
            File.WriteAllBytes(Path.Combine(alertsDir, "zz-not-avro.avro"), [.. "this is not Avro"u8, .. Enumerable.Range(0, 3000).Select(i => (byte)(i * 37 % 251))]);
            File.WriteAllBytes(Path.Combine(alertsDir, "zz-truncated.avro"), "Obj\u0001garbage"u8.ToArray());
            int files = Directory.GetFiles(alertsDir).Length;

            int metricsPort = PrometheusServer.FreePort();
            await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{metricsPort}", RepoPaths.Of("deploy", "prometheus", "rules.yml"));
            var archive = Path.Combine(work, "archive");
            using var replay = AlertsProcess.Start("replay", alertsDir, "--archive", archive, "--dead-letter", Path.Combine(work, "dead-letter"),
                "--metrics-port", metricsPort.ToString(), "--linger", "12", "--workers", "2");

            // Wait until Prometheus has scraped the finished replay (alerts_ready back to 0) a few times and the
            // rules have been evaluated; 'at' is then a moment whose data is the replay's final state.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            string exposition = "";
            Dictionary<string, string> ruleStatesAtEnd = [];
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(replay.HasExited && exposition == "", "replay exited before Prometheus saw it finish:\n" + replay.Output + "\n" + prometheus.Log);
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), "Prometheus did not see the replay finish within 2 minutes:\n" + replay.Output + "\n" + prometheus.Log);
                if (exposition == "" && replay.Stderr.Contains("serving metrics"))
                    exposition = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
                if (exposition != ""
                    && (await prometheus.QueryAsync("alerts_ready == 0")).Count == 1
                    && (await prometheus.QueryAsync("count_over_time(alerts_ready[1m]) >= 3")).Count == 1
                    && await RuleStatesAsync(prometheus) is { } states && states.Values.All(v => v != "unknown")
                    && states.GetValueOrDefault("AlertsNotReady") == "pending")
                {
                    ruleStatesAtEnd = states;
                    break;
                }
                await Task.Delay(250);
            }
            var at = DateTimeOffset.UtcNow;
            Assert.Equal(0, await replay.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            output.WriteLine(replay.Output);

            // 1. Every selector the dashboard and the rules use has samples (Kafka-only ones: exported, see above).
            var queries = DeployFilesTests.DashboardQueries().Select(q => ("panel '" + q.Panel + "'", q.Expr))
                .Concat(DeployFilesTests.RuleQueries().Select(r => ("rule " + r.Alert, r.Expr)))
                .ToList();
            var problems = new List<string>();
            var checkedSelectors = new HashSet<string>();
            foreach (var (where, expr) in queries)
                foreach (var selector in DeployFilesTests.SelectorsIn(expr))
                {
                    var name = Regex.Match(selector, @"^[a-zA-Z_:][a-zA-Z0-9_:]*").Value;
                    if (IsKafkaOnly(selector))
                    {
                        var family = Regex.Replace(name, "_(bucket|sum|count)$", "");
                        if (!Regex.IsMatch(exposition, $@"^# TYPE ({name}|{family} histogram)", RegexOptions.Multiline))
                            problems.Add($"{where}: {name} is not declared on /metrics");
                        continue;
                    }
                    if (!checkedSelectors.Add(selector)) continue;
                    var n = await prometheus.QueryAsync($"count_over_time({selector}[5m])", at);
                    if (n.Count == 0) problems.Add($"{where}: {selector} has no samples in Prometheus");
                    else output.WriteLine($"{selector}: {n.Count} series, {n.Sum(s => s.Value)} samples");
                }

            // 2. Every dashboard panel query that does not depend on Kafka-only metrics returns data.
            foreach (var (panel, expr) in DeployFilesTests.DashboardQueries())
            {
                if (DeployFilesTests.SelectorsIn(expr).Any(IsKafkaOnly)) continue;
                var r = await prometheus.QueryAsync(expr, at);
                if (r.Count == 0) problems.Add($"panel '{panel}': '{expr}' returns no data");
            }
            Assert.True(problems.Count == 0, string.Join("\n", problems));

            // 3. The values are the replay's: every file read, two dead letters with their reasons, every decoded alert
            //    counted once as classified or not classified, and archived as one Parquet row.
            long parquetRows = 0;
            foreach (var f in Directory.EnumerateFiles(archive, "*.parquet", SearchOption.AllDirectories))
            {
                await using var reader = await ParquetReader.CreateAsync(f);
                for (int g = 0; g < reader.RowGroupCount; g++) parquetRows += reader.OpenRowGroupReader(g).RowCount;
            }
            Assert.Equal(files, await prometheus.ScalarAsync("sum(alerts_consumed_total)", at));
            Assert.Equal(files - 2, await prometheus.ScalarAsync("sum(alerts_decoded_total)", at));
            Assert.Equal(files - 2, parquetRows);
            Assert.Equal(parquetRows, await prometheus.ScalarAsync("sum(alerts_classified_total) + sum(alerts_not_classified_total)", at));
            Assert.Equal(1, await prometheus.ScalarAsync("sum(alerts_dead_lettered_total{stage=\"decode\", reason=\"bad-magic\"})", at));
            Assert.Equal(1, await prometheus.ScalarAsync("sum(alerts_dead_lettered_total{stage=\"decode\", reason=\"truncated\"})", at));
            Assert.Equal(parquetRows, await prometheus.ScalarAsync("sum(alerts_end_to_end_latency_seconds_count{reference=\"received\"})", at));
            Assert.Equal(parquetRows, await prometheus.ScalarAsync("sum(alerts_batch_size_sum)", at));
            // Files have no Kafka timestamp: no 'source' latency from a replay (a file's age is not a broker's latency).
            Assert.Empty(await prometheus.QueryAsync("alerts_end_to_end_latency_seconds_count{reference=\"source\"}", at));
            Assert.Equal(1, await prometheus.ScalarAsync("max_over_time(up{job=\"alerts\"}[5s])", at));
            var models = await prometheus.QueryAsync("alerts_model_info", at);
            // ModelLocator serves the deployed .ort when it is shipped, else the fp32 .onnx.
            Assert.Contains(models, m => Regex.IsMatch(m.Labels["model"], @"^t2-ztf(\.deployed\.ort|\.onnx)$") && Regex.IsMatch(m.Labels["model_id"], "^[0-9a-f]{12}$") && m.Value == 1);

            // 4. Prometheus loaded all five alerting rules and evaluates them without error; none fires on a healthy replay.
            //    The rules react to the live series: once the replay ended (alerts_ready 0), AlertsNotReady went pending
            //    (the wait above requires it) and would fire after its 5 minutes; lag and latency rules have no data.
            Assert.Equal("pending", ruleStatesAtEnd["AlertsNotReady"]);
            Assert.Equal("inactive", ruleStatesAtEnd["AlertsConsumerLagGrowing"]);
            Assert.Equal("inactive", ruleStatesAtEnd["AlertsLatencyOverBudget"]);
            using var rules = await prometheus.GetJsonAsync("api/v1/rules");
            var loaded = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
                .SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
            Assert.Equal(DeployFilesTests.RuleQueries().Select(r => r.Alert).Order(), loaded.Select(r => r.GetProperty("name").GetString()!).Order());
            foreach (var rule in loaded)
            {
                Assert.True(rule.GetProperty("health").GetString() == "ok", $"rule {rule.GetProperty("name")}: {rule}");
                Assert.NotEqual("firing", rule.GetProperty("state").GetString());
            }
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [PromtoolFact]
    public void Promtool_rule_unit_tests_fire_each_alert_on_its_synthetic_series_and_not_on_the_healthy_ones()
    {
        var psi = new ProcessStartInfo("promtool") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "test", "rules", RepoPaths.Of("deploy", "prometheus", "rules.test.yml") }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stdout + stderr.Result);
        Assert.Contains("SUCCESS", stdout);
        // Every rule in rules.yml has a test case in the tests file.
        var tests = File.ReadAllText(RepoPaths.Of("deploy", "prometheus", "rules.test.yml"));
        foreach (var (alert, _) in DeployFilesTests.RuleQueries())
            Assert.True(Regex.IsMatch(tests, $@"alertname: {alert}\s*\n\s*exp_alerts:\s*\n\s*- exp_labels"), $"rules.test.yml has no firing case for {alert}");
    }

    /// <summary>State of every alerting rule (inactive, pending, firing; "unknown" until its first evaluation).</summary>
    private static async Task<Dictionary<string, string>> RuleStatesAsync(PrometheusServer prometheus)
    {
        using var doc = await prometheus.GetJsonAsync("api/v1/rules");
        return doc.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .ToDictionary(r => r.GetProperty("name").GetString()!,
                r => r.GetProperty("health").GetString() == "unknown" ? "unknown" : r.GetProperty("state").GetString()!);
    }
}
