using System.Net;
using System.Text.RegularExpressions;
using Alerts.Pipeline.Service;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>
/// SASL settings of `alerts run`. librdkafka's mock cluster cannot authenticate anyone: it answers ApiVersions without
/// SaslHandshake/SaslAuthenticate, so every SASL client fails with "SASL Handshake not supported by broker". What these
/// tests prove is therefore everything short of a successful login: settings given only as
/// Alerts:Kafka:Consumer:sasl.* reach the consumer, both producers and the start-up admin client (each one tries the
/// configured mechanism), the failure is reported with the keys to fix, and the secret never reaches the logs.
/// A login that succeeds against a SASL/SCRAM broker is NOT tested here (it needs a real Kafka broker).
/// </summary>
public sealed class KafkaSecurityTests(ITestOutputHelper output) : IDisposable
{
    private const string Secret = "s3cr3t-Pa55word-7f1c";
    // Created only by the tests that run the service: the settings-only cases need no cluster (and starting and
    // destroying a mock cluster within milliseconds is a pattern the rest of the suite never exercises).
    private ServiceHarness? _harness;
    private ServiceHarness _h => _harness ??= new ServiceHarness();

    public void Dispose() => _harness?.Dispose();

    private static Dictionary<string, string> Sasl(params (string Key, string Value)[] extra)
    {
        var d = new Dictionary<string, string>
        {
            ["Alerts:Kafka:Consumer:security.protocol"] = "SASL_PLAINTEXT",
            ["Alerts:Kafka:Consumer:sasl.mechanism"] = "SCRAM-SHA-512",
            ["Alerts:Kafka:Consumer:sasl.username"] = "alerts-svc",
            ["Alerts:Kafka:Consumer:sasl.password"] = Secret,
        };
        foreach (var (k, v) in extra) d[k] = v;
        return d;
    }

    [Fact]
    public async Task Consumer_sasl_settings_reach_the_start_up_check_which_fails_with_exit_2_naming_the_keys_and_never_the_password()
    {
        var (code, log) = await AlertsProcess.RunAsync(TimeSpan.FromSeconds(60), _h.RunArgs("sec", Sasl()));
        output.WriteLine(log.Length > 4000 ? log[..4000] : log);
        Assert.True(code == 2, $"exit {code}:\n{log}");
        Assert.Contains("Kafka authentication failed (security.protocol=SASL_PLAINTEXT, sasl.mechanism=SCRAM-SHA-512, sasl.username=alerts-svc)", log);
        Assert.Contains("Alerts:Kafka:Consumer:security.protocol, sasl.mechanism, sasl.username and sasl.password", log);
        Assert.Contains("SASL Handshake not supported by broker (required by mechanism SCRAM-SHA-512)", log); // the admin client used the inherited mechanism
        Assert.Matches("\"Alerts:Kafka:Consumer:sasl.password\": \"\\*\\*\\*\"", log);                         // the effective-configuration line
        Assert.DoesNotContain(Secret, log);
    }

    [Fact]
    public async Task Running_with_consumer_sasl_settings_every_client_uses_them_readyz_names_the_problem_and_the_password_never_appears()
    {
        int port = PrometheusServer.FreePort();
        using var p = AlertsProcess.Start(_h.RunArgs("sec", Sasl(("Alerts:Kafka:CheckTopics", "false"), ("Alerts:Metrics:Port", port.ToString()))));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(40);
        string readyz = "";
        while (!readyz.Contains("authentication failed"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"/readyz never named the authentication failure (last: {readyz}):\n{p.Output}");
            Assert.False(p.HasExited, p.Output);
            try
            {
                using var r = await http.GetAsync("/readyz");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                readyz = await r.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        await Task.Delay(1000);
        p.Terminate();
        Assert.Equal(0, await p.WaitForExitAsync(TimeSpan.FromSeconds(40)));
        var log = p.Output;
        output.WriteLine(readyz);
        Assert.DoesNotContain(Secret, readyz);
        // The consumer (its error handler), the label producer and the dead-letter producer (their librdkafka log lines and
        // error events, through the service's logger) each tried SCRAM-SHA-512 with settings given only for the consumer.
        Assert.Contains("Kafka authentication failed (security.protocol=SASL_PLAINTEXT, sasl.mechanism=SCRAM-SHA-512, sasl.username=alerts-svc)", log);
        Assert.Matches("(librdkafka|Kafka) labels .*required by mechanism SCRAM-SHA-512", log);
        Assert.Matches("(librdkafka|Kafka) dead-letters .*required by mechanism SCRAM-SHA-512", log);
        Assert.DoesNotContain(Secret, log);
    }

    [Theory]
    [InlineData("SCRAM-SHA-1024")]
    [InlineData("scram-sha-512")]
    public void A_sasl_mechanism_librdkafka_does_not_support_is_rejected_naming_the_key_without_the_secret(string mechanism)
    {
        // Rejected before any Kafka client exists (librdkafka would refuse it only inside rd_kafka_new, without naming the key).
        var config = new Dictionary<string, string?>
        {
            ["Alerts:Kafka:Topics:0"] = "^ztf_[0-9]{8}_programid1$",
            ["Alerts:Kafka:Consumer:bootstrap.servers"] = "broker:9093",
            ["Alerts:Kafka:Consumer:group.id"] = "alerts",
            ["Alerts:Archive:Root"] = "/tmp/archive",
            ["Alerts:Labels:Topic"] = "alerts.labels",
        };
        foreach (var (k, v) in Sasl(("Alerts:Kafka:Consumer:sasl.mechanism", mechanism))) config[k] = v;
        var ex = Assert.Throws<ServiceConfigurationException>(() => ServiceSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(config).Build()));
        Assert.StartsWith($"Alerts:Kafka:Consumer:sasl.mechanism='{mechanism}' is not a SASL mechanism", ex.Message);
        Assert.Contains("SCRAM-SHA-512", ex.Message);
        Assert.DoesNotContain(Secret, ex.Message);
    }

    [Fact]
    public async Task A_property_librdkafka_refuses_stops_the_start_with_exit_2_naming_the_alerts_key_and_never_the_secret()
    {
        var (code, log) = await AlertsProcess.RunAsync(TimeSpan.FromSeconds(60), _h.RunArgs("sec", new Dictionary<string, string>
        {
            ["Alerts:Kafka:Consumer:sasl.password"] = Secret,
            ["Alerts:Kafka:Producer:batch.num.messages"] = "lots",
        }));
        output.WriteLine(log);
        Assert.True(code == 2, $"exit {code}:\n{log}");
        Assert.Contains("Alerts:Kafka:Producer: librdkafka refused the configuration", log);
        Assert.Contains("Fix Alerts:Kafka:Producer:batch.num.messages.", log);
        Assert.DoesNotContain(Secret, log);
    }
}
