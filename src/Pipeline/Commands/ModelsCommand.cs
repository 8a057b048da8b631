using System.CommandLine;
using Alerts.Classifier;
using Alerts.Pipeline.Processing;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts models manifest [--dir models]</c>: (re)writes <c>MANIFEST.sha256</c> (sha256sum format) for every
/// *.onnx and *.ort in the folder. A model listed there is checked against it before ONNX Runtime loads it.
/// </summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "the model folder (default: the shipped models/ the model catalogue finds)" };
        var manifest = new Command("manifest", $"(Re)write {ModelManifest.FileName} (sha256sum format) for every *.onnx and *.ort in the folder; run it after retraining.");
        manifest.Options.Add(dir);
        manifest.SetAction(parse =>
        {
            var folder = parse.GetValue(dir)?.FullName ?? ModelLocator.ModelsDirectory();
            if (folder is null || !Directory.Exists(folder))
            {
                Console.Error.WriteLine($"models manifest: {(folder is null ? "no models/ folder found next to the executable or above the working directory" : $"{folder}: folder not found")}; pass --dir DIR");
                return 1;
            }
            int n = ModelManifest.Write(folder);
            Console.WriteLine($"{Path.Combine(folder, ModelManifest.FileName)}: {n} model file{(n == 1 ? "" : "s")}");
            foreach (var line in File.ReadLines(Path.Combine(folder, ModelManifest.FileName))) Console.WriteLine(line);
            return 0;
        });
        var cmd = new Command("models", "Model folder maintenance: the SHA-256 manifest checked before a model loads.");
        cmd.Subcommands.Add(manifest);
        return cmd;
    }
}
