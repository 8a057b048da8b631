using System.Diagnostics;
using System.Text.RegularExpressions;
using Alerts.Pipeline.Service;
using Alerts.Sink.Parquet;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>
/// `alerts run` (a real child process) asked to stop while its sinks cannot finish: the broker that leads every label
/// partition is down, so label produces never complete and the final flush never returns.
/// </summary>
public sealed class ShutdownTimeoutTests(ITestOutputHelper output) : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static async Task<long> ConsumedAsync(HttpClient http)
    {
        try
        {
            var text = await http.GetStringAsync("/metrics");
            var m = Regex.Match(text, "alerts_consumed_total\\{source=\"" + ServiceHarness.AlertTopic + "\"\\} ([0-9.e+]+)");
            return m.Success ? (long)double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        catch (HttpRequestException) { return 0; }
    }

    private void Produce(IEnumerable<byte[]> payloads)
    {
        using var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = _h.Cluster.BootstrapServers });
        foreach (var p in payloads) producer.Produce(ServiceHarness.AlertTopic, p);
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private async Task WaitCommittedAsync(long target, AlertsProcess p, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_h.GroupCommitted() < target)
        {
            Assert.False(p.HasExited, "the service exited:\n" + p.Output);
            Assert.True(DateTime.UtcNow < deadline, $"committed {_h.GroupCommitted()} of {target} after {timeout.TotalSeconds:0} s:\n" + p.Output);
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Sigterm_with_the_label_brokers_down_exits_3_within_the_shutdown_timeout_commits_only_durable_offsets_and_a_restart_recovers()
    {
        const int timeoutSeconds = 5;
        // Labels on broker 3 only; alerts, dead letters and the group coordinator on brokers 1 and 2.
        for (int p = 0; p < 6; p++)
        {
            _h.Cluster.SetPartitionLeader(ServiceHarness.LabelTopic, p, 3);
            _h.Cluster.SetPartitionLeader(ServiceHarness.AlertTopic, p, 1 + p % 2);
        }
        _h.Cluster.SetPartitionLeader(ServiceHarness.DeadLetterTopic, 0, 1);
        _h.Cluster.SetCoordinator("group", "alerts", 1);

        var alerts = TestAlerts.ZtfNight.Take(300).ToList();
        Produce(alerts.Take(150).Select(a => a.Bytes));
        int port = PrometheusServer.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        using (var first = AlertsProcess.Start(_h.RunArgs("proc", new Dictionary<string, string>
               {
                   ["Alerts:Shutdown:TimeoutSeconds"] = timeoutSeconds.ToString(),
                   ["Alerts:Metrics:Port"] = port.ToString(),
               })))
        {
            await WaitCommittedAsync(150, first, TimeSpan.FromSeconds(60));

            _h.Cluster.BrokerDown(3);
            Produce(alerts.Skip(150).Select(a => a.Bytes));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await ConsumedAsync(http) < alerts.Count)
            {
                Assert.True(DateTime.UtcNow < deadline, "the service did not consume the second half:\n" + first.Output);
                await Task.Delay(100);
            }
            await Task.Delay(1000); // classified and produced: their labels now wait for broker 3
            long committedBeforeStop = _h.GroupCommitted();
            Assert.Equal(150, committedBeforeStop);

            var clock = Stopwatch.StartNew();
            first.Terminate();
            int code = await first.WaitForExitAsync(TimeSpan.FromSeconds(60));
            clock.Stop();
            output.WriteLine($"SIGTERM -> exit {code} in {clock.Elapsed.TotalSeconds:0.0} s");
            var log = first.Output;
            Assert.True(code == (int)ServiceExit.ShutdownTimedOut, $"exit code {code}:\n{log}");
            // The budget plus at most 1 s to leave the group, plus process teardown.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(timeoutSeconds + 3), $"exited {clock.Elapsed.TotalSeconds:0.0} s after SIGTERM:\n{log}");
            Assert.Contains($"Shutdown did not finish within {timeoutSeconds}s", log);
            Assert.Matches("[0-9]+ labels not acknowledged by Kafka", log);
            Assert.Equal(committedBeforeStop, _h.GroupCommitted()); // nothing past what every sink had made durable
            output.WriteLine(log.Split('\n').First(l => l.Contains("Shutdown did not finish")));
        }

        _h.Cluster.BrokerUp(3);
        using (var second = AlertsProcess.Start(_h.RunArgs("proc")))
        {
            await WaitCommittedAsync(alerts.Count, second, TimeSpan.FromSeconds(60));
            second.Terminate();
            Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(40)));
        }
        var ids = (await _h.ParquetIdsByWriterAsync()).Values.SelectMany(x => x).ToList();
        Assert.Equal(alerts.Select(a => a.AlertId).Order(), ids.Order()); // each once: the restart skips what the first run archived
        var labelled = _h.LabelAlertIds();
        Assert.True(alerts.All(a => labelled.Contains(a.AlertId)), "alerts without a label after the restart");
        Assert.Empty(Directory.EnumerateFiles(_h.ArchiveRoot, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories));
    }
}
