using System.CommandLine;
using System.Diagnostics;
using Alerts.Pipeline.Commands;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>The command line as a new user meets it: unknown options, usage exit codes, configuration overrides of `alerts run`.</summary>
public sealed class CommandLineTests
{
    /// <summary>Runs <c>dotnet alerts.dll args</c> in the repository root.</summary>
    internal static (int Code, string Out, string Err) Run(params string[] args) => RunIn(RepoPaths.Root, args);

    /// <summary>Runs <c>dotnet alerts.dll args</c> in <paramref name="workingDirectory"/>.</summary>
    internal static (int Code, string Out, string Err) RunIn(string workingDirectory, params string[] args) => AlertsProcess.Run(args, workingDirectory);

    /// <summary>Every command that runs (no subcommands of its own), with its path from the root.</summary>
    internal static IEnumerable<(string[] Path, Command Command)> LeafCommands(Command c, string[] path)
    {
        if (c.Subcommands.Count == 0) yield return (path, c);
        foreach (var s in c.Subcommands)
            foreach (var x in LeafCommands(s, [.. path, s.Name]))
                yield return x;
    }

    [Fact]
    public void Replay_with_an_unknown_option_exits_2_naming_the_option_and_the_valid_ones_instead_of_reading_it_as_a_path()
    {
        var dir = Directory.CreateTempSubdirectory("cli-out-").FullName;
        try
        {
            var (code, _, err) = Run("replay", "--out", dir);
            Assert.Equal(2, code);
            Assert.Contains("error: alerts replay: unknown option '--out'", err);
            Assert.Contains("valid options of alerts replay: ", err);
            Assert.Contains("--archive", err);
            Assert.DoesNotContain("does not exist", err); // not taken for an input path any more
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Every_command_rejects_an_unknown_option_naming_it_and_listing_its_own_options()
    {
        var root = Program.BuildRoot();
        var leaves = LeafCommands(root, []).ToList();
        Assert.True(leaves.Count >= 15, $"only {leaves.Count} commands found");
        foreach (var (path, command) in leaves)
        {
            var problems = CommandLineChecks.Problems(root.Parse([.. path, "--no-such-option", "x"]));
            var all = string.Join("\n", problems);
            Assert.True(all.Contains($"alerts {string.Join(' ', path)}: unknown option '--no-such-option'", StringComparison.Ordinal), $"alerts {string.Join(' ', path)}: {all}");
            var listed = problems[^1];
            Assert.StartsWith($"valid options of alerts {string.Join(' ', path)}: ", listed);
            foreach (var o in command.Options.Where(o => !o.Hidden))
                Assert.Contains(o.Name, listed);
        }
    }

    [Fact]
    public void A_usage_error_exits_2_for_a_command_without_free_arguments_too()
    {
        var (code, _, err) = Run("version", "--verbose");
        Assert.Equal(2, code);
        Assert.Contains("error: alerts version: unknown option '--verbose'", err);
        Assert.Contains("valid options of alerts version: ", err);
    }

    [Fact]
    public void Run_accepts_sectioned_configuration_overrides_in_both_forms_and_rejects_other_tokens()
    {
        var root = Program.BuildRoot();
        Assert.Empty(CommandLineChecks.Problems(root.Parse(["run", "--Alerts:Pipeline:BatchSize=10", "--Alerts:Kafka:Topics:0", "ztf_x", "/Alerts:Metrics:Port=0", "Alerts:Logging:Format=text", "--config", "a.json"])));
        var bad = CommandLineChecks.Problems(root.Parse(["run", "--confg", "a.json", "--Alerts:Pipeline:BatchSize=10"]));
        Assert.Equal("alerts run: unknown option '--confg'", bad[0]);
        Assert.Contains("--config", bad[^1]);
        Assert.Contains("--Section:Key=value", bad[^1]);
        Assert.Equal(["--verbose"], CommandLineChecks.NotConfigurationKeys(["--Alerts:Labels:Topic", "x", "--verbose"]));
    }

    [Fact]
    public void Paths_after_a_double_dash_and_negative_numbers_are_not_options()
    {
        var root = Program.BuildRoot();
        Assert.Empty(CommandLineChecks.Problems(root.Parse(["decode", "--", "-odd-name.avro"])));
        Assert.NotEmpty(CommandLineChecks.Problems(root.Parse(["decode", "-odd-name.avro"])));
        Assert.Empty(CommandLineChecks.Problems(root.Parse(["replay", "--help"])));
    }
}
