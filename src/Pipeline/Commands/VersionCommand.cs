using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Alerts.Classifier;
using Alerts.Core;
using Alerts.Pipeline.Processing;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts version</c>: one "name: value" line each for alerts, the .NET runtime, ONNX Runtime (native), librdkafka,
/// Parquet.Net, the models the model catalogue finds (file, id = SHA-256 prefix, preprocessing) and the schema
/// folders under schemas/ (files, version, doc). What is missing says so on its line rather than failing the command.
/// </summary>
public static class VersionCommand
{
    public static Command Create()
    {
        var cmd = new Command("version", "Print the versions of alerts, .NET, ONNX Runtime, librdkafka and Parquet.Net, and the shipped models and schemas.");
        cmd.SetAction(_ =>
        {
            foreach (var (name, value) in Lines()) Console.WriteLine($"{name}: {value}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The lines, in order.</summary>
    public static IEnumerable<(string Name, string Value)> Lines()
    {
        yield return ("alerts", InformationalVersion(typeof(VersionCommand).Assembly));
        yield return (".NET runtime", $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})");
        yield return ("ONNX Runtime", Try(() => $"{Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()} (native; managed {InformationalVersion(typeof(Microsoft.ML.OnnxRuntime.OrtEnv).Assembly)})"));
        yield return ("librdkafka", Try(() => $"{Confluent.Kafka.Library.VersionString} (native; Confluent.Kafka {InformationalVersion(typeof(Confluent.Kafka.Library).Assembly)})"));
        yield return ("Parquet.Net", InformationalVersion(typeof(Parquet.ParquetReader).Assembly));
        foreach (var line in Models()) yield return line;
        foreach (var line in Schemas()) yield return line;
    }

    /// <summary>The informational version with its source revision cut to 12 hex digits ("1.0.0+3f2a9c1d4e5b").</summary>
    private static string InformationalVersion(Assembly a)
    {
        var v = a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? a.GetName().Version?.ToString() ?? "unknown";
        int plus = v.IndexOf('+');
        return plus >= 0 && v.Length - plus > 13 ? v[..(plus + 13)] : v;
    }

    private static string Try(Func<string> f)
    {
        try { return f(); }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or InvalidOperationException)
        {
            return $"not loadable ({ex.GetBaseException().Message})";
        }
    }

    private static IEnumerable<(string, string)> Models()
    {
        var dir = ModelLocator.ModelsDirectory();
        foreach (var survey in ModelLocator.Surveys)
        {
            var name = $"model {survey.Name()}";
            var path = ModelLocator.DefaultModel(survey);
            if (path is null)
            {
                yield return (name, $"none ({ModelLocator.FileName(survey)} not found{(dir is null ? "; no models/ folder" : " in " + dir)})");
                continue;
            }
            string value;
            try
            {
                using var model = new OnnxT2Classifier(path, new OnnxT2Options { PreprocessWorkers = 1, MaxBatchSize = 1 });
                value = $"{Path.GetFileName(path)} id {model.ModelId} preprocessing {model.Preprocessing.Name} ({path})";
            }
            catch (Exception ex) when (ex is InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or IOException)
            {
                value = $"{Path.GetFileName(path)} not loadable: {ex.Message}";
            }
            yield return (name, value);
        }
    }

    /// <summary>The schemas folder: next to the executable or above the working directory.</summary>
    public static string? SchemasDirectory() =>
        ShippedFolders.FindAbove([Directory.GetCurrentDirectory(), AppContext.BaseDirectory], "schemas",
            d => Directory.EnumerateFiles(d, "*.avsc", SearchOption.AllDirectories).Any());

    /// <summary>One line per folder of .avsc files: "schema ztf/4.02: alert.avsc, ...; version 4.02; doc ...".</summary>
    private static IEnumerable<(string, string)> Schemas()
    {
        var root = SchemasDirectory();
        if (root is null) { yield return ("schemas", "none (no schemas/ folder next to the executable or above the working directory)"); yield break; }
        var folders = Directory.EnumerateFiles(root, "*.avsc", SearchOption.AllDirectories).Select(f => Path.GetDirectoryName(f)!)
            .Distinct().OrderBy(d => d, StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var files = Directory.GetFiles(folder, "*.avsc").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
            string? version = null, doc = null;
            foreach (var f in files)
            {
                try
                {
                    using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, f)));
                    if (json.RootElement.ValueKind != JsonValueKind.Object) continue;
                    if (version is null && json.RootElement.TryGetProperty("version", out var v)) version = v.ToString();
                    if (doc is null && json.RootElement.TryGetProperty("doc", out var d) && d.GetString() is { Length: > 0 } text) doc = $"{f}: {text}";
                }
                catch (JsonException) { }
            }
            var relative = Path.GetRelativePath(root, folder).Replace('\\', '/');
            // Survey folders are named by schema version (schemas/ztf/4.02, schemas/lsst/11.0).
            version ??= Path.GetFileName(folder) is var leaf && leaf.Length > 0 && char.IsAsciiDigit(leaf[0]) ? leaf : null;
            var value = string.Join(", ", files) + (version is null ? "" : $"; version {version}") + (doc is null ? "" : $"; doc {doc}");
            yield return ($"schema {relative}", value);
        }
    }
}
