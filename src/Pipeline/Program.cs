using System.CommandLine;
using Alerts.Pipeline.Commands;

namespace Alerts.Pipeline;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Spectre's default console writes to stdout: give it the wide profile when redirected (see Consoles).
        Spectre.Console.AnsiConsole.Console = Consoles.Out;
        var parse = BuildRoot().Parse(args);
        // Usage errors (an unknown option, a stray argument, a missing required option) exit 2 before anything runs.
        var problems = CommandLineChecks.Problems(parse);
        if (problems.Count > 0)
        {
            foreach (var p in problems) Console.Error.WriteLine("error: " + p);
            return CommandLineChecks.UsageError;
        }
        return await parse.InvokeAsync();
    }

    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Alerts: decode, classify and archive astronomical transient alerts (ZTF, Rubin/LSST).");
        // One line per command; each command lives in Commands/<Name>Command.cs.
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(ClassifyCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(FeaturesCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create());
        root.Subcommands.Add(DecodeCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(CompressCommand.Create());
        root.Subcommands.Add(OrtLayoutCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(ArchiveCommand.Create());
        root.Subcommands.Add(ImportTfliteCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ProduceCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}
