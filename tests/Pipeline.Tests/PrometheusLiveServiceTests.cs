using System.Diagnostics;
using System.Text.RegularExpressions;
using Alerts.Tests.Shared;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// The other half of the live Prometheus proof (see PrometheusLiveTests): the series only the Kafka service fills (consumer lag, committed
/// offsets, latency from the Kafka message timestamp) get samples in a real Prometheus that scrapes
/// <c>alerts demo</c> — the same <see cref="Service.KafkaAlertService"/> that <c>alerts run</c> hosts, against
/// librdkafka's mock cluster — and every dashboard panel built on them returns data.
/// </summary>
public sealed class PrometheusLiveServiceTests(ITestOutputHelper output)
{
    [PrometheusFact]
    public async Task Kafka_only_metrics_have_samples_in_a_live_prometheus_scraping_the_service()
    {
        var work = Directory.CreateTempSubdirectory("alerts-prom-service").FullName;
        try
        {
            int metricsPort = PrometheusServer.FreePort();
            await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{metricsPort}", RepoPaths.Of("deploy", "prometheus", "rules.yml"));
            using var demo = AlertsProcess.Start("demo", "--objects", "100", "--seed", "11", "--out", work,
                "--metrics-port", metricsPort.ToString(), "--linger", "15");

            // Wait until Prometheus holds samples of every Kafka-only series (or the demo is gone). Counters and
            // histograms need two (the panels take rates) and stay after the run; lag per partition exists only while
            // the partition is assigned (a revoked partition's series is removed, so no stale lag lingers), so one
            // scrape of it is the proof.
            var selectors = PrometheusLiveTests.KafkaOnlyMetrics.Concat(PrometheusLiveTests.KafkaOnlySelectors).ToList();
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var missing = new List<string>();
                foreach (var s in selectors)
                    if ((await prometheus.QueryAsync($"max(count_over_time({s}[5m])) >= {(s == "alerts_consumer_lag" ? 1 : 2)}")).Count == 0) missing.Add(s);
                // Committed offsets appear per partition as each makes progress (two classify loops finish their first
                // batches at different times), so wait for all six rather than judging at the first sample.
                if ((await prometheus.QueryAsync("count(max_over_time(alerts_committed_offset[5m]) > 0) >= 6")).Count == 0) missing.Add("alerts_committed_offset > 0 on all 6 partitions");
                if (missing.Count == 0) break;
                if (demo.HasExited)
                {
                    var up = await prometheus.QueryAsync("count_over_time(up[5m])");
                    var upOk = await prometheus.QueryAsync("sum_over_time(up[5m])");
                    Assert.Fail($"the demo exited before Prometheus had samples of {string.Join(", ", missing)} "
                        + $"(scrapes: {up.Sum(u => u.Value)}, successful: {upOk.Sum(u => u.Value)}):\n" + demo.Output + "\n" + prometheus.Log);
                }
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), "no samples of every Kafka-only series within 2 minutes:\n" + demo.Output);
                await Task.Delay(500);
            }
            var at = DateTimeOffset.UtcNow;
            // The last moment a lag series was scraped: lag panels are evaluated there if the partitions are gone by now.
            // (100 ms steps: a series scraped once is stale-marked at the next scrape, so a 1 s step can miss it.)
            var lastLag = await prometheus.QueryAsync("max(max_over_time(timestamp(alerts_consumer_lag)[5m:100ms]))", at);
            var lagAt = lastLag.Count == 1 ? DateTimeOffset.FromUnixTimeMilliseconds((long)(1000 * lastLag[0].Value)) : at;

            foreach (var s in selectors)
            {
                var series = await prometheus.QueryAsync($"count_over_time({s}[5m])", at);
                output.WriteLine($"{s}: {series.Count} series, {series.Sum(x => x.Value)} samples");
                Assert.NotEmpty(series);
            }
            // Lag and committed offsets are per partition: the demo's topic has 6.
            var partitions = await prometheus.QueryAsync("max_over_time(alerts_committed_offset[5m])", at);
            Assert.Equal(6, partitions.Select(p => p.Labels.GetValueOrDefault("partition")).Distinct().Count());
            Assert.All(partitions, p => Assert.True(p.Value > 0, $"partition {p.Labels.GetValueOrDefault("partition")} committed nothing"));

            // Every panel that queries a Kafka-only series returns data.
            var empty = new List<string>();
            foreach (var (panel, expr) in DeployFilesTests.DashboardQueries())
            {
                bool kafkaOnly = DeployFilesTests.SelectorsIn(expr).Any(PrometheusLiveTests.IsKafkaOnly);
                if (!kafkaOnly) continue;
                var r = await prometheus.QueryAsync(expr, at);
                if (r.Count == 0) r = await prometheus.QueryAsync(expr, lagAt);
                output.WriteLine($"panel '{panel}': {r.Count} series");
                if (r.Count == 0) empty.Add($"panel '{panel}': '{expr}' returns no data");
            }
            Assert.True(empty.Count == 0, string.Join("\n", empty));
            Assert.Equal(0, await demo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }
}
