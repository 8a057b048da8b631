using Alerts.Core;

namespace Alerts.Pipeline.Processing;

/// <summary>
/// Finds the shipped models: <c>models/</c> next to the executable (the build copies it there) or above the
/// working directory. The deployed (compressed, ORT-format) model wins over the fp32 ONNX one.
/// </summary>
public static class ModelLocator
{
    public static string? ModelsDirectory() =>
        ShippedFolders.FindAbove([AppContext.BaseDirectory, Directory.GetCurrentDirectory()], "models",
            dir => Directory.EnumerateFiles(dir, "t2-*").Any());

    /// <summary>The default model file of a survey, or null when none ships.</summary>
    public static string? DefaultModel(Survey survey)
    {
        var dir = ModelsDirectory();
        if (dir is null) return null;
        var name = survey == Survey.Ztf ? "t2-ztf" : "t2-lsst";
        foreach (var file in new[] { name + ".deployed.ort", name + ".onnx" })
        {
            var path = Path.Combine(dir, file);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
