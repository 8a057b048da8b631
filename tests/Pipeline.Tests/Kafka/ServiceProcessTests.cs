using System.Diagnostics;
using System.Text;
using Alerts.Pipeline.Service;
using Alerts.Sink.Parquet;
using Alerts.Tests.Shared;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>
/// `alerts run` as a real process (the built alerts.dll under `dotnet`), connected to a mock cluster that lives in
/// the test process: SIGKILL mid-batch, restart, SIGTERM — nothing lost, no partial Parquet file ever visible.
/// </summary>
public sealed class ServiceProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly StringBuilder _logs = new();

    public void Dispose() => _h.Dispose();

    private Process StartService()
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "alerts.dll"));
        foreach (var arg in _h.RunArgs("proc", new Dictionary<string, string> { ["Alerts:Shutdown:TimeoutSeconds"] = "20" }))
            psi.ArgumentList.Add(arg);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_logs) _logs.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_logs) _logs.AppendLine("stderr: " + e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Offsets the group committed, summed over the 6 partitions (what a restart resumes from).</summary>
    private long GroupCommitted(IConsumer<byte[], byte[]> c)
    {
        try
        {
            var committed = c.Committed(Enumerable.Range(0, 6).Select(p => new TopicPartition(ServiceHarness.AlertTopic, p)), TimeSpan.FromSeconds(5));
            return committed.Sum(o => o.Offset.Value < 0 ? 0 : o.Offset.Value);
        }
        catch (KafkaException) { return 0; }
    }

    private string Logs() { lock (_logs) return _logs.ToString(); }

    [Fact]
    public async Task Sigkill_mid_batch_then_restart_loses_nothing_and_no_partial_parquet_file_is_visible_and_sigterm_exits_0()
    {
        var alerts = TestAlerts.ZtfNight.Take(600).ToList();
        using var probe = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _h.Cluster.BootstrapServers, GroupId = "alerts" }).Build();
        long committed = 0;
        using var stopPolling = new CancellationTokenSource();
        var poller = Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested) { Volatile.Write(ref committed, GroupCommitted(probe)); await Task.Delay(200); }
        });
        using var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = _h.Cluster.BootstrapServers });
        var producing = Task.Run(() => producer.ProduceStreaming(ServiceHarness.AlertTopic, alerts.Select(a => a.Bytes), () => Volatile.Read(ref committed), 200, ServiceHarness.ProduceDeadline()));

        var first = StartService();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Volatile.Read(ref committed) < 150)
            {
                Assert.True(DateTime.UtcNow < deadline, "the first process committed nothing in 60 s:\n" + Logs());
                Assert.False(first.HasExited, "the first process exited:\n" + Logs());
                await Task.Delay(50);
            }
            first.Kill(); // SIGKILL: no drain, no flush, no commit; Parquet temporaries are left open
            first.WaitForExit();
        }
        finally { if (!first.HasExited) first.Kill(); }
        long committedAtKill = Volatile.Read(ref committed);
        var tempsAfterKill = Directory.EnumerateFiles(_h.ArchiveRoot, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(AtomicFile.TempSuffix)).ToList();
        // Every visible file is a complete Parquet file (a partial one would fail to open): temporaries are hidden dot-files.
        Assert.All(tempsAfterKill, f => Assert.StartsWith(".", Path.GetFileName(f)));
        var visibleAfterKill = await _h.ParquetIdsByWriterAsync();
        output.WriteLine($"killed at committed {committedAtKill}; temporaries left {tempsAfterKill.Count}; visible rows {visibleAfterKill.Values.Sum(v => v.Count)}");

        var second = StartService();
        try
        {
            long produced = await producing.WaitAsync(TimeSpan.FromSeconds(90));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Volatile.Read(ref committed) < produced)
            {
                Assert.True(DateTime.UtcNow < deadline, $"committed {Volatile.Read(ref committed)} of {produced} after restart:\n" + Logs());
                Assert.False(second.HasExited, "the restarted process exited:\n" + Logs());
                await Task.Delay(100);
            }
            using (var kill = Process.Start("kill", ["-TERM", second.Id.ToString()])) kill.WaitForExit();
            Assert.True(second.WaitForExit(30_000), "SIGTERM: the service did not exit within 30 s:\n" + Logs());
            Assert.True(second.ExitCode == 0, $"SIGTERM: exit code {second.ExitCode}:\n" + Logs());
        }
        finally { if (!second.HasExited) second.Kill(); }
        stopPolling.Cancel();
        await poller;

        if (tempsAfterKill.Count > 0) Assert.Contains("Removed", Logs()); // the restart cleaned its predecessor's temporaries
        var byWriter = await _h.ParquetIdsByWriterAsync();
        var ids = byWriter.Values.SelectMany(x => x).ToList();
        Assert.Equal(alerts.Select(a => a.AlertId).Order(), ids.Order()); // exactly once: the restart de-duplicates against committed files
        var labelled = _h.LabelAlertIds();
        Assert.True(alerts.All(a => labelled.Contains(a.AlertId)), "alerts without a label");
        Assert.Empty(Directory.EnumerateFiles(_h.ArchiveRoot, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories));
    }
}
