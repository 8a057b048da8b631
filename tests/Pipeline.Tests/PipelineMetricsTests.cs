using System.Globalization;
using System.Text.RegularExpressions;
using Alerts.Core;
using Alerts.Pipeline.Observability;
using Alerts.Sink.Parquet;
using Prometheus;

namespace Alerts.Pipeline.Tests;

/// <summary>What the service's /metrics text exposition holds: latency buckets that cover real ages, the archive and
/// label counters, and the process/runtime metrics in every registry a command uses.</summary>
public sealed class PipelineMetricsTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 3, 0, 0, TimeSpan.Zero);

    private static string Scrape(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).Wait();
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Cumulative bucket counts of one latency series: upper bound ("+Inf" as infinity) → count.</summary>
    private static SortedDictionary<double, double> Buckets(string text, string reference) =>
        new(Regex.Matches(text, $@"^alerts_end_to_end_latency_seconds_bucket\{{reference=""{reference}"",le=""([^""]+)""\}} (\S+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value == "+Inf" ? double.PositiveInfinity : double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                          m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));

    private static double Sample(string text, string series)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"{series} is not on /metrics:\n{text}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData(0.15, 0.2)]          // a fresh alert
    [InlineData(7 * 60.0, 819.2)]    // minutes behind in streaming
    [InlineData(5 * 3600.0, 26214.4)] // hours old in a replay
    [InlineData(47 * 3600.0, 209715.2)] // almost two days old
    public void Observation_latency_lands_in_the_first_finite_bucket_at_or_above_it(double seconds, double expectedBound)
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new PipelineMetrics(registry);
        metrics.EndToEndLatency.WithLabels("observation").Observe(seconds);
        var buckets = Buckets(Scrape(registry), "observation");

        Assert.Equal(29, buckets.Count); // 28 finite bounds and +Inf
        Assert.Equal(0.1, buckets.Keys.First(k => k >= 0.1));
        Assert.True(buckets.Keys.Where(double.IsFinite).Max() >= 2 * 86400, "the largest finite bucket is below 2 days");
        var firstHolding = buckets.First(kv => kv.Value == 1).Key;
        Assert.Equal(expectedBound, firstHolding, 6);
        Assert.Equal(0, buckets.Where(kv => kv.Key < expectedBound).Sum(kv => kv.Value));
    }

    [Fact]
    public async Task Archive_rows_and_files_count_what_was_renamed_into_place()
    {
        var root = Directory.CreateTempSubdirectory("alerts-metrics-archive").FullName;
        try
        {
            var registry = Metrics.NewCustomRegistry();
            var metrics = new PipelineMetrics(registry);
            var sink = new ParquetArchiveSink(new ParquetArchiveOptions { Root = root, WriterId = "m" });
            metrics.Observe(sink);
            var p = new float[T2Classes.Count];
            p[T2Classes.IndexOf("SNIa")] = 1;
            var batch = Enumerable.Range(0, 7).Select(i => new Classification(new AlertIdentity(Survey.Ztf, 100 + i, "ZTF24aaaaaab", 150, -30, 60324.25, "4.02"),
                SourcePosition.Kafka("t", 0, i), "SNIa", 1f, p, "t2-test", 12, "ztfg,ztfr", null, default, T0, T0)).ToList();
            await sink.WriteAsync(batch);
            Assert.Equal(0, Sample(Scrape(registry), "alerts_archive_rows_total")); // buffered, not yet durable
            await sink.FlushAsync();
            await sink.WriteAsync(batch.Take(3).Select(c => c with { Identity = c.Identity with { AlertId = c.Identity.AlertId + 1000 } }).ToList());
            await sink.DisposeAsync();

            var text = Scrape(registry);
            Assert.Equal(10, Sample(text, "alerts_archive_rows_total"));
            Assert.Equal(2, Sample(text, "alerts_archive_files_total"));
            Assert.Equal(2, Directory.GetFiles(root, "*.parquet", SearchOption.AllDirectories).Length);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Labels_produced_counter_is_declared_with_a_topic_label_and_counts_per_topic()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new PipelineMetrics(registry);
        Assert.Matches(new Regex("^# TYPE alerts_labels_produced_total counter$", RegexOptions.Multiline), Scrape(registry));
        metrics.LabelsProduced.WithLabels("alerts.labels").Inc(3);
        metrics.LabelsProduced.WithLabels("alerts.labels.snia").Inc();
        var text = Scrape(registry);
        Assert.Equal(3, Sample(text, "alerts_labels_produced_total{topic=\"alerts.labels\"}"));
        Assert.Equal(1, Sample(text, "alerts_labels_produced_total{topic=\"alerts.labels.snia\"}"));
    }

    [Fact]
    public void A_command_registry_exports_process_and_runtime_metrics_like_the_default_one()
    {
        var registry = PipelineMetrics.NewRegistryWithProcessMetrics();
        _ = new PipelineMetrics(registry);
        var text = Scrape(registry);
        foreach (var name in new[] { "process_cpu_seconds_total", "process_working_set_bytes", "dotnet_collection_count_total", "alerts_archive_files_total" })
            Assert.Matches(new Regex($"^# TYPE {name} ", RegexOptions.Multiline), text);
        Assert.True(Sample(text, "process_working_set_bytes") > 0);
    }
}
