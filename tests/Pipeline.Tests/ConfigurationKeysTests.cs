using System.Diagnostics;
using System.Text.RegularExpressions;
using Alerts.Pipeline.Service;
using Alerts.Pipeline.Tests.Kafka;
using Alerts.Tests.Shared;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace Alerts.Pipeline.Tests;

/// <summary>A misspelled key of the Alerts section stops `alerts run` (exit 2) naming the key and the closest valid one.</summary>
public sealed class ConfigurationKeysTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["Alerts:Kafka:Topics:0"] = "ztf_20261129_programid1",
        ["Alerts:Kafka:Consumer:bootstrap.servers"] = "127.0.0.1:1",
        ["Alerts:Kafka:Consumer:group.id"] = "alerts",
        ["Alerts:Archive:Root"] = "/tmp/archive",
        ["Alerts:Labels:Topic"] = "alerts.labels",
    };

    private static IConfiguration Config(params (string Key, string Value)[] extra)
    {
        var d = new Dictionary<string, string?>(Valid);
        foreach (var (k, v) in extra) d[k] = v;
        return new ConfigurationBuilder().AddInMemoryCollection(d).Build();
    }

    [Fact]
    public void A_misspelled_leaf_key_names_the_key_and_the_closest_valid_key()
    {
        var ex = Assert.Throws<ServiceConfigurationException>(() => ServiceSettings.FromConfiguration(Config(("Alerts:Pipeline:BatchSzie", "10"))));
        Assert.StartsWith("Alerts:Pipeline:BatchSzie is not a configuration key; did you mean Alerts:Pipeline:BatchSize?", ex.Message);
        Assert.Contains("Keys under Alerts:Pipeline: DecodeWorkers, BatchSize, MaxBatchWaitMs", ex.Message);
    }

    [Fact]
    public void A_misspelled_section_suggests_the_same_key_under_the_closest_section()
    {
        var problems = ConfigurationKeys.Unknown(Config(("Alerts:Pipline:BatchSize", "10"), ("Alerts:Labels:Routes:0:Rul", "SNIa >= 0.8"), ("Alerts:Metrics:Port:x", "1")));
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("Alerts:Pipline:BatchSize is not a configuration key; did you mean Alerts:Pipeline:BatchSize?", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Alerts:Labels:Routes:0:Rul is not a configuration key; did you mean Alerts:Labels:Routes:0:Rule?", StringComparison.Ordinal));
        Assert.Contains(problems, p => p == "Alerts:Metrics:Port:x is not a configuration key: Alerts:Metrics:Port takes a value, not sub-keys.");
    }

    [Fact]
    public void Keys_match_without_case_and_dictionaries_and_lists_take_their_entries()
    {
        Assert.Empty(ConfigurationKeys.Unknown(Config(("ALERTS:pipeline:batchsize", "10"), ("Alerts:Kafka:Consumer:fetch.wait.max.ms", "50"),
            ("Alerts:Kafka:Producer:sasl.password", "x"), ("Alerts:Labels:Routes:alerts.snia", "SNIa >= 0.8"), ("Alerts:Labels:Routes:1:Topic", "t"),
            ("Alerts:Model:Paths:0", "m.onnx"), ("Alerts:Kafka:Topics", "a,b"), ("Other:Section:AnyKey", "free"))));
        Assert.Single(ConfigurationKeys.Unknown(Config(("Alerts:Kafka:Topics:first", "a"))));
    }

    [Fact]
    public void The_shipped_and_tested_configurations_use_only_valid_keys()
    {
        // k8s ConfigMap (appsettings.Production.json), compose and Dockerfile environment, the service tests' and demo's keys.
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(RepoPaths.Of("deploy", "k8s", "configmap.yaml"))));
        var json = ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["data"])["appsettings.Production.json"]).Value!;
        var fromJson = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        Assert.Empty(ConfigurationKeys.Unknown(fromJson));
        Assert.Equal("alerts.labels.snia", fromJson["Alerts:Labels:Routes:0:Topic"]);

        var env = new Dictionary<string, string?>();
        foreach (var file in new[] { "docker-compose.yml", "Dockerfile", "k8s/deployment.yaml" })
            foreach (Match m in Regex.Matches(File.ReadAllText(RepoPaths.Of("deploy", file)), @"(Alerts__[A-Za-z0-9_.]+)"))
                env[m.Groups[1].Value.Replace("__", ":")] = "x";
        Assert.True(env.Count >= 8, string.Join(", ", env.Keys));
        Assert.Empty(ConfigurationKeys.Unknown(new ConfigurationBuilder().AddInMemoryCollection(env).Build()));

        var args = ServiceHarness.RunArgs("127.0.0.1:1", "/tmp/a", "w1")[1..];
        Assert.Empty(ConfigurationKeys.Unknown(new ConfigurationBuilder().AddCommandLine(args).Build()));
    }

    private static (int Code, string Err) Run(string[] args, IDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var (code, stdout, stderr) = AlertsProcess.Run(args, workingDirectory ?? Path.GetTempPath(), env, TimeSpan.FromMinutes(1));
        return (code, stderr + stdout);
    }

    private static string[] ValidArgs() => ["run", .. Valid.Select(kv => $"--{kv.Key}={kv.Value}")];

    [Fact]
    public void Run_exits_2_for_a_misspelled_key_on_the_command_line()
    {
        var (code, err) = Run([.. ValidArgs(), "--Alerts:Pipeline:BatchSzie=10"]);
        Assert.Equal(2, code);
        Assert.Contains("error: Alerts:Pipeline:BatchSzie is not a configuration key (command line); did you mean Alerts:Pipeline:BatchSize?", err);
    }

    [Fact]
    public void Run_exits_2_for_a_misspelled_key_in_the_environment()
    {
        var (code, err) = Run(ValidArgs(), new Dictionary<string, string> { ["Alerts__Pipeline__BatchSzie"] = "10" });
        Assert.Equal(2, code);
        Assert.Contains("error: Alerts:Pipeline:BatchSzie is not a configuration key (environment variable Alerts__Pipeline__BatchSzie); did you mean Alerts:Pipeline:BatchSize?", err);
    }

    [Fact]
    public void Run_exits_2_for_a_misspelled_key_in_appsettings()
    {
        var dir = Directory.CreateTempSubdirectory("cfg-keys-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "appsettings.json"), """{ "Alerts": { "Pipeline": { "BatchSzie": 10 } } }""");
            var (code, err) = Run(ValidArgs(), workingDirectory: dir);
            Assert.Equal(2, code);
            Assert.Contains("error: Alerts:Pipeline:BatchSzie is not a configuration key (in appsettings.json); did you mean Alerts:Pipeline:BatchSize?", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
