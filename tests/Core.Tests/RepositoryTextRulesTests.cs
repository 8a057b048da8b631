using System.Diagnostics;
using System.Text.RegularExpressions;
using Alerts.Tests.Shared;

namespace Alerts.Core.Tests;

/// <summary>
/// The repository describes the project as it is: no text in it says when something was done (work sessions, issue
/// numbers, notes kept from before). That belongs in the commit messages. Checked over every tracked text file.
/// </summary>
public sealed partial class RepositoryTextRulesTests
{
    /// <summary>Words that date a statement instead of describing the project. ONNX Runtime's sessions
    /// (InferenceSession, SessionOptions, "one session per core") are an API term and do not match.</summary>
    [GeneratedRegex(@"\bsessions?[- ]\d|\bthis\s+session\b|\bprevious\s+session\b|\bpre-session\b|\bissues?[- ]#?\d|\bissue's\b|\bpre-issue\b|\bearlier\s+notes\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HistoryWords();

    [Fact]
    public void No_tracked_text_file_dates_what_it_describes()
    {
        var hits = new List<string>();
        foreach (var rel in TrackedFiles())
        {
            var path = Path.Combine(RepoPaths.Root, rel);
            if (!File.Exists(path) || IsBinary(path)) continue;
            var lines = File.ReadAllLines(path);
            for (int i = 0; i < lines.Length; i++)
            {
                var m = HistoryWords().Match(lines[i]);
                if (m.Success) hits.Add($"{rel.Replace('\\', '/')}:{i + 1}: \"{m.Value}\" in {Excerpt(lines[i], m.Index)}");
            }
        }
        Assert.True(hits.Count == 0,
            "say what is true now (the figure and what it measures, the model id, the baseline by what it is); " +
            "history goes in the commit message:\n" + string.Join("\n", hits));
    }

    [Theory]
    [InlineData("trained in sess" + "ion 4 with 4 heads")]
    [InlineData("the sess" + "ion-3 model")]
    [InlineData("since this sess" + "ion")]
    [InlineData("the pre-iss" + "ue-8 wiring")]
    [InlineData("Iss" + "ue #9's proof")]
    [InlineData("see the earlier no" + "tes")]
    public void The_rule_sees_history_words(string line) => Assert.Matches(HistoryWords(), line);

    [Theory]
    [InlineData("using var session = new InferenceSession(model, options);")]
    [InlineData("one ORT session per core; SessionOptions with 1 intra-op thread")]
    [InlineData("session.timeout.ms = 6000")]
    [InlineData("no known issue with 4 heads")]
    public void The_rule_leaves_onnx_runtime_and_kafka_sessions_alone(string line) => Assert.DoesNotMatch(HistoryWords(), line);

    /// <summary>Files git tracks (a fresh clone's files); without git, every file under the root but build output and .git.</summary>
    private static IEnumerable<string> TrackedFiles()
    {
        try
        {
            var psi = new ProcessStartInfo("git", "ls-files -z")
            {
                WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var git = Process.Start(psi)!;
            var output = git.StandardOutput.ReadToEnd();
            git.StandardError.ReadToEnd();
            git.WaitForExit();
            if (git.ExitCode == 0 && output.Length > 0)
                return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (System.ComponentModel.Win32Exception) { }   // no git on the PATH
        return WalkTree();
    }

    private static IEnumerable<string> WalkTree()
    {
        string[] skipped = ["bin", "obj", ".git", "node_modules"];
        var pending = new Stack<string>([RepoPaths.Root]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var sub in Directory.EnumerateDirectories(dir))
                if (!skipped.Contains(Path.GetFileName(sub))) pending.Push(sub);
            foreach (var file in Directory.EnumerateFiles(dir))
                yield return Path.GetRelativePath(RepoPaths.Root, file);
        }
    }

    /// <summary>A NUL byte in the first 8 KB: a model, an archive, an image.</summary>
    private static bool IsBinary(string path)
    {
        using var f = File.OpenRead(path);
        var head = new byte[8192];
        int n = f.Read(head, 0, head.Length);
        return Array.IndexOf(head, (byte)0, 0, n) >= 0;
    }

    private static string Excerpt(string line, int at)
    {
        int start = Math.Max(0, at - 40), end = Math.Min(line.Length, at + 60);
        return (start > 0 ? "…" : "") + line[start..end].Trim() + (end < line.Length ? "…" : "");
    }
}
