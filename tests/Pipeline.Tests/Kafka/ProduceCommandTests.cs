namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>`alerts produce` into the mock cluster: files and folders byte for byte, and simulated alerts.</summary>
public sealed class ProduceCommandTests : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task A_folder_of_alert_files_is_produced_one_message_per_alert_with_the_bytes_untouched()
    {
        var alerts = TestAlerts.ZtfNight.Take(40).ToList();
        var dir = Directory.CreateDirectory(Path.Combine(_h.Root, "alerts")).FullName;
        foreach (var (id, bytes) in alerts) File.WriteAllBytes(Path.Combine(dir, $"{id}.avro"), bytes);
        _h.Cluster.CreateTopic("ztf_files", 3);

        int code = await Program.Main(["produce", dir, "--topic", "ztf_files", "--bootstrap", _h.Cluster.BootstrapServers, "--partitions", "0"]);

        Assert.Equal(0, code);
        var read = _h.ReadTopic("ztf_files", 3);
        Assert.Equal(alerts.Select(a => Convert.ToHexString(a.Bytes)).Order(), read.Select(r => Convert.ToHexString(r.Message.Value)).Order());
    }

    [Fact]
    public async Task Simulated_rubin_alerts_are_produced_in_confluent_wire_format_over_every_partition()
    {
        // The mock cluster has no controller, so CreateTopics cannot run there: the topic is made here and --partitions 0 skips it.
        _h.Cluster.CreateTopic("lsst_sim", 4);
        int code = await Program.Main(["produce", "--simulate", "16", "--survey", "lsst", "--topic", "lsst_sim", "--bootstrap", _h.Cluster.BootstrapServers, "--partitions", "0"]);

        Assert.Equal(0, code);
        var read = _h.ReadTopic("lsst_sim", 4);
        // Keyless alerts take a random partition each: with this many, an empty partition has odds below 1e-5.
        Assert.True(read.Count >= 50, $"only {read.Count} alerts produced");
        Assert.All(read, r => Assert.Equal(0, r.Message.Value[0])); // Confluent wire: magic byte 0, then the schema id
        Assert.Equal(4, read.Select(r => r.Partition.Value).Distinct().Count());
    }
}
