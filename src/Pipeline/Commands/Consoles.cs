using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// The two streams every command writes to. stdout carries the command's result only (JSON lines, or the result
/// table of evaluate, replay, demo, ...), so <c>alerts X &gt; out.txt</c> and <c>alerts classify … | jq</c> get nothing
/// else; stderr carries progress, status, warnings, errors and the human summary of commands whose result is JSON.
/// A redirected stream is given a wide profile, so tables written to a file or pipe do not wrap at 80 columns.
/// </summary>
public static class Consoles
{
    /// <summary>Columns of a redirected stream: wide enough for every table the commands print on one line per row.</summary>
    public const int RedirectedWidth = 250;

    public static IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);

    public static IAnsiConsole Err { get; } = Create(Console.Error, Console.IsErrorRedirected);

    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (redirected) console.Profile.Width = RedirectedWidth;
        return console;
    }
}
