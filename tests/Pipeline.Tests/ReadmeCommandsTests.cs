using System.CommandLine;
using System.Text.RegularExpressions;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>README.md's command table and the commands' --help texts cover every command the root command has.</summary>
public sealed class ReadmeCommandsTests
{
    /// <summary>The first cells of the "## Commands" table: "alerts archive compact --root DIR ...".</summary>
    private static List<string> CommandTableEntries()
    {
        var lines = File.ReadAllLines(RepoPaths.Of("README.md"));
        int start = Array.FindIndex(lines, l => l.Trim() == "## Commands");
        Assert.True(start >= 0, "README.md has no '## Commands' section");
        return lines.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|'))
            .Select(l => Regex.Match(l, @"^\|\s*`([^`]+)`").Groups[1].Value).Where(c => c.StartsWith("alerts ", StringComparison.Ordinal)).ToList();
    }

    [Fact]
    public void The_README_command_table_lists_every_command_of_the_root_command()
    {
        var entries = CommandTableEntries();
        Assert.NotEmpty(entries);
        var missing = CommandLineTests.LeafCommands(Program.BuildRoot(), [])
            .Select(c => "alerts " + string.Join(' ', c.Path))
            .Where(name => !entries.Any(e => e == name || e.StartsWith(name + " ", StringComparison.Ordinal)))
            .ToList();
        Assert.True(missing.Count == 0, "README.md's command table lacks: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_command_option_and_argument_has_a_help_description()
    {
        var undocumented = new List<string>();
        void Walk(Command c, string path)
        {
            if (string.IsNullOrWhiteSpace(c.Description)) undocumented.Add(path);
            foreach (var o in c.Options.Where(o => !o.Hidden && string.IsNullOrWhiteSpace(o.Description))) undocumented.Add($"{path} {o.Name}");
            foreach (var a in c.Arguments.Where(a => !a.Hidden && string.IsNullOrWhiteSpace(a.Description))) undocumented.Add($"{path} <{a.Name}>");
            foreach (var s in c.Subcommands) Walk(s, $"{path} {s.Name}");
        }
        Walk(Program.BuildRoot(), "alerts");
        Assert.True(undocumented.Count == 0, "no --help description: " + string.Join(", ", undocumented));
    }

    /// <summary>
    /// The README's first command, the main job, as a new user runs it (from a folder of their own): it exits 0 and its
    /// summary accounts for every alert (decoded + dead letters = read, one Parquet row per alert) with the shipped model.
    /// </summary>
    [Fact]
    public void The_READMEs_main_job_runs_and_its_summary_accounts_for_every_alert()
    {
        var readme = File.ReadAllText(RepoPaths.Of("README.md"));
        var command = Regex.Match(readme, @"```bash\s*\n(dotnet run --project src/Pipeline -c Release -- [^\n]+)\n").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(command), "README.md's first bash block is not `dotnet run --project src/Pipeline -c Release -- ...`");
        var args = command["dotnet run --project src/Pipeline -c Release -- ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var dir = Directory.CreateTempSubdirectory("alerts-main-job-").FullName;
        try
        {
            var (code, stdout, stderr) = CommandLineTests.RunIn(dir, args);
            Assert.True(code == 0, $"alerts {string.Join(' ', args)} exited {code}: {stderr}");
            long Row(string name)
            {
                var m = Regex.Match(stdout, $@"│\s*{Regex.Escape(name)}\s*│\s*([\d,]+)");
                Assert.True(m.Success, $"the summary has no '{name}' row:\n{stdout}");
                return long.Parse(m.Groups[1].Value.Replace(",", ""));
            }
            long read = Row("alerts read"), decoded = Row("decoded"), dead = Row("dead letters"), written = Row("Parquet rows written");
            Assert.True(read > 1000, $"only {read} alerts read");
            Assert.Equal(read, decoded + dead);
            Assert.Equal(read, written);
            Assert.Contains("t2-ztf.deployed.ort", stdout);
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "out"), "*.parquet", SearchOption.AllDirectories));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
