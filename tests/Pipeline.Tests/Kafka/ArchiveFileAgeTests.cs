using System.Diagnostics;
using Alerts.Pipeline.Service;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>Fewer, larger archive files: files stay open across flushes, and no offset is committed before its file is renamed into place.</summary>
public sealed class ArchiveFileAgeTests : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task With_a_file_age_no_offset_is_committed_until_the_files_holding_its_rows_are_renamed_into_place()
    {
        var alerts = TestAlerts.ZtfNight.Take(60).ToList();
        using var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = _h.Cluster.BootstrapServers });
        foreach (var (_, bytes) in alerts) producer.Produce(ServiceHarness.AlertTopic, bytes);
        producer.Flush(TimeSpan.FromSeconds(30));

        using var instance = _h.Start(_h.Settings("age", extra: new Dictionary<string, string?> { ["Alerts:Archive:FileMaxAgeSeconds"] = "600" }));
        var clock = Stopwatch.StartNew();
        while (instance.Service.Stats.ClassifiedCount + instance.Service.Stats.NotClassifiedCount < 60 && clock.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(100);
        Assert.Equal(60, instance.Service.Stats.ClassifiedCount + instance.Service.Stats.NotClassifiedCount);
        await Task.Delay(TimeSpan.FromSeconds(3)); // 15 periodic flushes (every 200 ms)
        // Written, but in open temporaries: nothing renamed into place, nothing committed.
        Assert.Empty(Directory.EnumerateFiles(_h.ArchiveRoot, "*.parquet", SearchOption.AllDirectories));
        Assert.NotEmpty(Directory.EnumerateFiles(_h.ArchiveRoot, "*" + Alerts.Sink.Parquet.AtomicFile.TempSuffix, SearchOption.AllDirectories));
        Assert.Equal(0, _h.CommittedTotal);

        Assert.Equal(ServiceExit.Clean, await instance.StopAsync());
        // Stopping closes the files, one per survey and night however many flushes ran, then commits every offset.
        Assert.Equal(60, _h.CommittedTotal);
        var ids = (await _h.ParquetIdsByWriterAsync()).Values.SelectMany(x => x).Order().ToList();
        Assert.Equal(alerts.Select(a => a.AlertId).Order(), ids);
        var nights = Directory.GetDirectories(_h.ArchiveRoot, "night=*", SearchOption.AllDirectories);
        Assert.NotEmpty(nights);
        Assert.All(nights, n => Assert.Single(Directory.GetFiles(n, "*.parquet")));
    }
}
