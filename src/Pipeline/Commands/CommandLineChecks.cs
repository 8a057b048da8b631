using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// Usage errors found before a command runs: an option the command does not have (including one that a command with
/// free path arguments would otherwise take for a path, as <c>alerts replay --out DIR</c> did), a stray argument, and
/// System.CommandLine's own parse errors. Each is one <c>error:</c> line naming the token, followed by the command's
/// valid options. <c>alerts run</c> keeps its configuration overrides (<c>--Alerts:Section:Key=value</c> or
/// <c>--Alerts:Section:Key value</c>): an unmatched token there is accepted when it is a sectioned configuration key.
/// Exit code 2.
/// </summary>
public static class CommandLineChecks
{
    public const int UsageError = 2;

    /// <summary>The usage problems of a parse, one message each; empty when the command may run.</summary>
    public static IReadOnlyList<string> Problems(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var problems = new List<string>();
        // --help and --version answer whatever else is on the line.
        if (parse.RootCommandResult.Command.Options.Any(o => o is System.CommandLine.Help.HelpOption or VersionOption && parse.GetResult(o) is not null)) return problems;
        var unknown = new List<string>();

        // Tokens after "--" are arguments whatever they look like.
        var afterDoubleDash = new HashSet<string>(StringComparer.Ordinal);
        bool seen = false;
        foreach (var t in parse.Tokens)
        {
            if (t.Type == TokenType.DoubleDash) { seen = true; continue; }
            if (seen) afterDoubleDash.Add(t.Value);
        }

        var unmatched = parse.UnmatchedTokens;
        if (command.TreatUnmatchedTokensAsErrors)
            unknown.AddRange(unmatched);
        else
            unknown.AddRange(NotConfigurationKeys(unmatched));

        // A command whose arguments take any number of values swallows unknown options as values: catch them here.
        foreach (var arg in parse.CommandResult.Children.OfType<ArgumentResult>())
            foreach (var t in arg.Tokens)
                if (LooksLikeOption(t.Value) && !afterDoubleDash.Contains(t.Value))
                    unknown.Add(t.Value);

        foreach (var token in unknown.Distinct())
            problems.Add(LooksLikeOption(token)
                ? $"{Display(command)}: unknown option '{token}'"
                : $"{Display(command)}: unexpected argument '{token}'");
        foreach (var e in parse.Errors)
            if (!unknown.Any(u => e.Message.Contains($"'{u}'", StringComparison.Ordinal)))
                problems.Add($"{Display(command)}: {e.Message}");
        if (problems.Count > 0)
            problems.Add(ValidOptions(command));
        return problems;
    }

    /// <summary>"valid options of alerts X: --a, --b (-b), ...; subcommands: ...; see alerts X --help".</summary>
    public static string ValidOptions(Command command)
    {
        var options = AllOptions(command).Where(o => !o.Hidden)
            .Select(o => o.Aliases.Count == 0 ? o.Name : $"{o.Name} ({string.Join(", ", o.Aliases.Order(StringComparer.Ordinal))})")
            .ToList();
        var text = $"valid options of {Display(command)}: {(options.Count == 0 ? "none" : string.Join(", ", options))}";
        var subs = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        if (subs.Count > 0) text += $"; subcommands: {string.Join(", ", subs)}";
        if (!command.TreatUnmatchedTokensAsErrors) text += "; configuration keys as --Section:Key=value";
        return text + $"; see {Display(command)} --help";
    }

    /// <summary>The command's own options and the recursive ones of its parents (--help).</summary>
    private static IEnumerable<Option> AllOptions(Command command)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in command.Options)
            if (seen.Add(o.Name)) yield return o;
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
            foreach (var o in parent.Options.Where(o => o.Recursive))
                if (seen.Add(o.Name)) yield return o;
    }

    /// <summary>"alerts archive compact".</summary>
    public static string Display(Command command)
    {
        var names = new List<string> { "alerts" };
        for (Command? c = command; c is not null and not RootCommand; c = c.Parents.OfType<Command>().FirstOrDefault())
            names.Insert(1, c.Name);
        return string.Join(' ', names);
    }

    /// <summary>"-x", "--xyz" but not "-" (standard input) nor a negative number.</summary>
    private static bool LooksLikeOption(string token) =>
        token.Length > 1 && token[0] == '-' && !double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// The unmatched tokens that are not configuration overrides in Microsoft.Extensions.Configuration's command-line
    /// form: <c>--Section:Key=value</c>, <c>/Section:Key=value</c>, <c>Section:Key=value</c>, or <c>--Section:Key value</c>.
    /// Only sectioned keys (with ':') count, so a mistyped option such as <c>--confg</c> is not taken for a key.
    /// </summary>
    public static IReadOnlyList<string> NotConfigurationKeys(IReadOnlyList<string> tokens)
    {
        var bad = new List<string>();
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            var body = t.StartsWith("--", StringComparison.Ordinal) ? t[2..] : t.StartsWith('/') ? t[1..] : t;
            int eq = body.IndexOf('=');
            var key = eq >= 0 ? body[..eq] : body;
            bool prefixed = body.Length != t.Length;
            if (key.Length == 0 || !key.Contains(':') || key.StartsWith(':') || key.EndsWith(':') || (eq < 0 && !prefixed))
            {
                bad.Add(t);
                continue;
            }
            if (eq < 0)
            {
                // "--Section:Key value": the next token is the value.
                if (i + 1 < tokens.Count) i++;
                else bad.Add(t);
            }
        }
        return bad;
    }
}
