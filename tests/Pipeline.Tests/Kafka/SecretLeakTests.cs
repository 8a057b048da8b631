using System.Net;
using System.Net.Sockets;
using Alerts.Pipeline.Service;
using Alerts.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>
/// sasl.password, ssl.key.password, ssl.key.pem and sasl.oauthbearer.client.secret never appear in anything the
/// service prints: the settings object, the effective-configuration log line, and the error paths of `alerts run`
/// (a broker nobody listens on, a configuration librdkafka refuses), in the text and the JSON log formats.
/// </summary>
public sealed class SecretLeakTests(ITestOutputHelper output) : IDisposable
{
    private const string Canary = "Zq9leakCanary4b7e";
    private static readonly string Pem = $"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB{Canary}pem\n-----END ENCRYPTED PRIVATE KEY-----";
    private readonly string _archive = Directory.CreateTempSubdirectory("secret-leak-").FullName;

    public void Dispose() => Directory.Delete(_archive, recursive: true);

    private static readonly string[] SecretKeys = ["sasl.password", "ssl.key.password", "ssl.key.pem", "sasl.oauthbearer.client.secret"];

    private static Dictionary<string, string> Secrets(string section) => new()
    {
        [$"Alerts:Kafka:{section}:sasl.password"] = $"sasl-{Canary}",
        [$"Alerts:Kafka:{section}:ssl.key.password"] = $"keypw-{Canary}",
        [$"Alerts:Kafka:{section}:ssl.key.pem"] = Pem,
        [$"Alerts:Kafka:{section}:sasl.oauthbearer.client.secret"] = $"oidc-{Canary}",
    };

    private static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port; // closed again when disposed: nothing listens there
    }

    [Fact]
    public void The_settings_record_the_masked_view_and_the_masked_properties_hold_no_secret()
    {
        var d = new Dictionary<string, string?>
        {
            ["Alerts:Kafka:Topics:0"] = "ztf_x",
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = "broker:9093",
            ["Alerts:Kafka:Consumer:group.id"] = "alerts",
            ["Alerts:Archive:Root"] = "/tmp/archive",
            ["Alerts:Labels:Topic"] = "alerts.labels",
        };
        foreach (var (k, v) in Secrets("Consumer")) d[k] = v;
        foreach (var (k, v) in Secrets("Producer")) d[k] = v;
        var config = new ConfigurationBuilder().AddInMemoryCollection(d).Build();
        var s = ServiceSettings.FromConfiguration(config);
        Assert.Equal($"sasl-{Canary}", s.Consumer["sasl.password"]); // the clients get the value...
        Assert.DoesNotContain(Canary, s.ToString());               // ...nothing printable holds it
        var view = ServiceSettings.MaskedView(config);
        Assert.DoesNotContain(view, kv => kv.Value.Contains(Canary, StringComparison.Ordinal));
        foreach (var section in new[] { "Consumer", "Producer" })
            foreach (var key in SecretKeys)
                Assert.Equal("***", view.Single(kv => kv.Key == $"Alerts:Kafka:{section}:{key}").Value);
        foreach (var props in new[] { s.Consumer, s.Producer })
        {
            var masked = ServiceSettings.Masked(props);
            Assert.All(SecretKeys, k => Assert.Equal("***", masked[k]));
            Assert.DoesNotContain(masked.Values, v => v.Contains(Canary, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task With_a_broker_nobody_listens_on_the_start_the_connection_errors_and_the_shutdown_hold_no_secret(string format)
    {
        var extra = Secrets("Consumer");
        extra["Alerts:Logging:Format"] = format;
        extra["Alerts:Shutdown:TimeoutSeconds"] = "5";
        using var p = AlertsProcess.Start(ServiceHarness.RunArgs($"127.0.0.1:{ClosedPort()}", _archive, "leak", extra));
        // The service keeps running while the brokers are down (it retries): wait for its connection errors, then stop it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !(p.Output.Contains("Consuming", StringComparison.Ordinal) && p.Output.Contains("brokers are down", StringComparison.Ordinal)))
            await Task.Delay(250);
        p.Terminate();
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var log = p.Output;
        output.WriteLine(log.Length > 6000 ? log[..6000] : log);
        Assert.Contains("brokers are down", log);
        Assert.True(code is 0 or 3, $"exit {code}");
        Assert.Contains("ssl.key.pem", log);          // the effective configuration was logged, with the key...
        Assert.Contains("***", log);                  // ...and its value masked
        Assert.DoesNotContain(Canary, log);
        Assert.DoesNotContain("MIIB", log);
    }

    [Fact]
    public async Task A_configuration_librdkafka_refuses_over_ssl_with_a_bad_key_pem_names_the_key_and_no_secret()
    {
        var extra = Secrets("Consumer");
        extra["Alerts:Kafka:Consumer:security.protocol"] = "SASL_SSL";
        extra["Alerts:Kafka:Consumer:sasl.mechanism"] = "PLAIN";
        extra["Alerts:Kafka:Consumer:sasl.username"] = "alerts-svc";
        // A certificate is public (it is logged); only the key, its password and the SASL secrets are masked.
        extra["Alerts:Kafka:Consumer:ssl.certificate.pem"] = "-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----";
        var (code, log) = await AlertsProcess.RunAsync(TimeSpan.FromSeconds(90),
            ServiceHarness.RunArgs($"127.0.0.1:{ClosedPort()}", _archive, "leak", extra));
        output.WriteLine(log.Length > 6000 ? log[..6000] : log);
        Assert.True(code == 2, $"exit {code}:\n{log}");
        Assert.Contains("librdkafka refused the configuration", log);
        Assert.DoesNotContain(Canary, log);
    }
}
