using System.Diagnostics;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Service;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>What the service logs when healthy (a periodic progress line) and when its broker is down (one line per distinct event per window).</summary>
public sealed class ServiceLogTests(ITestOutputHelper output) : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly CollectingSink _events = new();

    public void Dispose() => _h.Dispose();

    private Microsoft.Extensions.Logging.ILogger Log(TimeSpan repeatWindow) =>
        new SerilogLoggerFactory(new LoggerConfiguration().MinimumLevel.Information()
            .WriteTo.RepeatSuppressed(repeatWindow, wt => wt.Sink(_events)).CreateLogger(), dispose: true).CreateLogger("alerts");

    private static object? Value(LogEvent e, string name) => e.Properties.TryGetValue(name, out var v) && v is ScalarValue s ? s.Value : null;

    [Fact]
    public async Task A_healthy_run_logs_progress_every_interval_with_alerts_in_classified_committed_and_lag()
    {
        var alerts = TestAlerts.ZtfNight.Take(60).ToList();
        using var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = _h.Cluster.BootstrapServers });
        foreach (var (_, bytes) in alerts) producer.Produce(ServiceHarness.AlertTopic, bytes);
        producer.Flush(TimeSpan.FromSeconds(30));

        using var instance = _h.Start(_h.Settings("progress", extra: new Dictionary<string, string?> { ["Alerts:Logging:ProgressIntervalSeconds"] = "1" }), log: Log(TimeSpan.FromSeconds(30)));
        var clock = Stopwatch.StartNew();
        LogEvent? done = null;
        while (done is null && clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(250);
            done = _events.Events.LastOrDefault(e => e.MessageTemplate.Text.StartsWith("Progress:")
                && Equals(Value(e, "Read"), 60L) && Equals(Value(e, "Committed"), 60L) && Equals(Value(e, "Lag"), 0L));
        }
        var progress = _events.Events.Where(e => e.MessageTemplate.Text.StartsWith("Progress:")).ToList();
        foreach (var e in progress) output.WriteLine(e.RenderMessage());
        Assert.NotNull(done);
        Assert.Equal(60L, (long)Value(done, "Classified")! + (long)Value(done, "NotClassified")!);
        Assert.Equal(0L, Value(done, "DeadLettered"));
        Assert.Equal(6, Value(done, "Partitions"));
        Assert.True(progress.Count >= 2, $"{progress.Count} progress lines");
        Assert.Equal(ServiceExit.Clean, await instance.StopAsync());
    }

    [Fact]
    public async Task A_downed_broker_is_logged_once_per_distinct_event_in_the_window_and_not_twice_as_a_consumer_error()
    {
        // A port nothing listens on: every connection attempt fails for the whole run.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var settings = _h.Settings("down", extra: new Dictionary<string, string?>
        {
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = $"127.0.0.1:{port}",
            ["Alerts:Kafka:Consumer:reconnect.backoff.ms"] = "50",
            ["Alerts:Kafka:Consumer:reconnect.backoff.max.ms"] = "200",
            ["Alerts:Kafka:CheckTopics"] = "false",
            ["Alerts:Logging:ProgressIntervalSeconds"] = "0",
        });
        using var instance = _h.Start(settings, log: Log(TimeSpan.FromSeconds(30)));
        await Task.Delay(TimeSpan.FromSeconds(8));
        await instance.StopAsync();

        var events = _events.Events;
        foreach (var e in events) output.WriteLine($"{e.Level} {e.RenderMessage()}");
        var kafka = events.Where(e => e.MessageTemplate.Text.StartsWith("librdkafka") || e.MessageTemplate.Text.StartsWith("Kafka ")).ToList();
        Assert.NotEmpty(kafka);
        Assert.Contains(kafka, e => e.RenderMessage().Contains($"127.0.0.1:{port}"));
        // Each distinct event once: no two with the same rendered text.
        var repeated = kafka.GroupBy(e => e.Level + " " + e.RenderMessage()).Where(g => g.Count() > 1).Select(g => $"{g.Count()} x {g.Key}").ToList();
        Assert.True(repeated.Count == 0, string.Join("\n", repeated));
        // The transport failure is librdkafka's FAIL line only (once per client), not also an error event or ERROR line.
        Assert.DoesNotContain(kafka, e => e.Level >= LogEventLevel.Warning && Equals(Value(e, "Code"), Confluent.Kafka.ErrorCode.Local_Transport));
        Assert.DoesNotContain(kafka, e => Equals(Value(e, "Facility"), "ERROR") && e.RenderMessage().Contains("Connect to"));
        Assert.Equal(3, kafka.Count(e => Equals(Value(e, "Facility"), "FAIL")));
        Assert.True(kafka.Count <= 10, $"{kafka.Count} Kafka lines in 8 s");
    }
}
