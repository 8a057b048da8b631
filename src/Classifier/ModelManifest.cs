using System.Security.Cryptography;
using System.Text;

namespace Alerts.Classifier;

/// <summary>
/// <c>MANIFEST.sha256</c> beside model files, in <c>sha256sum</c> format (64 lower-case hex digits, two spaces, the
/// file name relative to the manifest's folder), so <c>sha256sum -c MANIFEST.sha256</c> checks it too. A model
/// listed in the manifest of its folder is verified before ONNX Runtime sees it; a model with no manifest beside it,
/// or not listed, is not checked (users load their own models).
/// </summary>
public static class ModelManifest
{
    public const string FileName = "MANIFEST.sha256";

    /// <summary>File name endings of the model files a manifest lists.</summary>
    public static readonly string[] ModelExtensions = [".onnx", ".ort"];

    /// <summary>The command that rewrites a folder's manifest.</summary>
    public static string RegenerateCommand(string dir) => $"alerts models manifest --dir {dir}";

    /// <summary>The entries of a manifest: file name → lower-case hex SHA-256. Lines in binary mode (<c>hash *name</c>) are read too.</summary>
    public static Dictionary<string, string> Read(string manifestPath)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        int n = 0;
        foreach (var line in File.ReadLines(manifestPath))
        {
            n++;
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.Length < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') || !IsHex(line.AsSpan(0, 64)))
                throw new InvalidDataException($"{manifestPath}:{n}: not a sha256sum line (64 hex digits, two spaces, file name): '{line}'; rewrite it with `alerts models manifest --dir {Path.GetDirectoryName(manifestPath)}`");
            entries[line[66..]] = line[..64].ToLowerInvariant();
        }
        return entries;
    }

    /// <summary>
    /// Checks <paramref name="bytes"/> (the content of <paramref name="modelPath"/>) against the manifest beside it.
    /// Returns the listed hash when checked, null when there is no manifest or no entry; throws
    /// <see cref="InvalidDataException"/> (as for any unreadable model) naming the file, the expected and actual hash and the fix on a mismatch.
    /// </summary>
    public static string? Verify(string modelPath, ReadOnlySpan<byte> bytes)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var manifest = Path.Combine(dir, FileName);
        if (!File.Exists(manifest)) return null;
        if (!Read(manifest).TryGetValue(Path.GetFileName(modelPath), out var expected)) return null;
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != expected)
            throw new InvalidDataException(
                $"model {modelPath} does not match {manifest}: expected sha256 {expected}, actual {actual} ({bytes.Length} bytes); " +
                $"the file was changed, truncated or replaced: re-run `{RegenerateCommand(dir)}` after retraining, or restore the file");
        return expected;
    }

    /// <summary>The model files of a folder that a manifest lists (*.onnx, *.ort, not recursive), in ordinal order.</summary>
    public static List<string> ModelFiles(string dir) =>
        Directory.EnumerateFiles(dir)
            .Where(f => ModelExtensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Select(f => Path.GetFileName(f)!)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The manifest text of a folder's model files, as <see cref="Write"/> writes it.</summary>
    public static string Build(string dir)
    {
        var sb = new StringBuilder();
        foreach (var name in ModelFiles(dir))
        {
            using var f = File.OpenRead(Path.Combine(dir, name));
            sb.Append(Convert.ToHexStringLower(SHA256.HashData(f))).Append("  ").Append(name).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>(Re)writes <c>dir/MANIFEST.sha256</c> for every model file in <paramref name="dir"/>; returns the entries written.</summary>
    public static int Write(string dir)
    {
        var text = Build(dir);
        var path = Path.Combine(dir, FileName);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text, new UTF8Encoding(false));
        File.Move(tmp, path, overwrite: true);
        return text.Count(c => c == '\n');
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
