using System.Net;
using System.Net.Sockets;

namespace Alerts.Pipeline.Tests;

/// <summary><c>alerts replay --metrics-port</c> refuses what it cannot serve with an error that names the option and the fix.</summary>
public sealed class ReplayMetricsOptionTests
{
    [Fact]
    public async Task A_port_outside_the_tcp_range_is_refused_before_any_work()
    {
        var (exit, output) = await AlertsProcess.RunAsync(TimeSpan.FromMinutes(2), "replay", "--objects", "1", "--metrics-port", "70000");
        Assert.Equal(2, exit);
        Assert.Contains("--metrics-port 70000 is not a TCP port (1-65535)", output);
    }

    [Fact]
    public async Task A_port_already_in_use_is_reported_and_the_replay_does_not_start()
    {
        var taken = new TcpListener(IPAddress.Any, 0);
        taken.Start();
        try
        {
            int port = ((IPEndPoint)taken.LocalEndpoint).Port;
            var archive = Directory.CreateTempSubdirectory("alerts-port-taken").FullName;
            try
            {
                var (exit, output) = await AlertsProcess.RunAsync(TimeSpan.FromMinutes(2), "replay", "--objects", "1", "--archive", archive, "--metrics-port", port.ToString());
                Assert.Equal(2, exit);
                Assert.Contains($"cannot serve metrics on +:{port}", output);
                Assert.Contains("choose a free --metrics-port", output);
                Assert.Empty(Directory.EnumerateFiles(archive, "*.parquet", SearchOption.AllDirectories));
            }
            finally { Directory.Delete(archive, true); }
        }
        finally { taken.Stop(); }
    }
}
