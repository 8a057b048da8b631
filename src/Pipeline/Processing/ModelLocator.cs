using Alerts.Classifier;
using Alerts.Core;

namespace Alerts.Pipeline.Processing;

/// <summary>
/// The one catalogue of shipped models that every command uses when no --model is given: per survey, the deployed
/// (compressed, ORT-format) <c>models/t2-&lt;survey&gt;.deployed.ort</c>, found next to the executable (the build copies
/// models/ there) or above the working directory. There is no fallback to the fp32 <c>.onnx</c>: one alert gets one
/// model id whichever command classified it.
/// </summary>
public static class ModelLocator
{
    public static string? ModelsDirectory() =>
        ShippedFolders.FindAbove([AppContext.BaseDirectory, Directory.GetCurrentDirectory()], "models",
            dir => Directory.EnumerateFiles(dir, "t2-*").Any());

    /// <summary>The surveys that have a shipped model (Elasticc alerts use the Rubin one).</summary>
    public static readonly Survey[] Surveys = [Survey.Ztf, Survey.Lsst];

    /// <summary>The file name of a survey's default model: <c>t2-ztf.deployed.ort</c>, <c>t2-lsst.deployed.ort</c>.</summary>
    public static string FileName(Survey survey) => $"t2-{(survey == Survey.Ztf ? "ztf" : "lsst")}.deployed.ort";

    /// <summary>The default model file of a survey, or null when it does not ship.</summary>
    public static string? DefaultModel(Survey survey)
    {
        var dir = ModelsDirectory();
        if (dir is null) return null;
        var path = Path.Combine(dir, FileName(survey));
        return File.Exists(path) ? path : null;
    }

    /// <summary>The model named by --model (it must exist), else the survey's default; throws naming both when neither is there.</summary>
    public static string Resolve(string? given, Survey survey)
    {
        if (!string.IsNullOrEmpty(given))
        {
            if (!File.Exists(given)) throw new FileNotFoundException($"--model {given}: file not found; pass a t2 model (.onnx or .ort) such as models/{FileName(survey)}", given);
            return given;
        }
        return DefaultModel(survey) ?? throw new FileNotFoundException(
            $"no --model given and models/{FileName(survey)} not found next to the executable or above {Directory.GetCurrentDirectory()}: run from the repository or pass --model PATH");
    }

    /// <summary>The default models of every survey that ships one (at least one, else a FileNotFoundException).</summary>
    public static List<string> DefaultModels()
    {
        var files = Surveys.Select(DefaultModel).OfType<string>().ToList();
        if (files.Count == 0)
            throw new FileNotFoundException($"no t2 model found: the repository's models/ folder holds {string.Join(" and ", Surveys.Select(FileName))}; run from the repository or pass --model PATH");
        return files;
    }

    /// <summary>How a model is named to users: its file name and its id (the first 12 hex digits of the file's SHA-256).</summary>
    public static string Describe(IAlertClassifier model) => model is OnnxT2Classifier onnx
        ? $"{Path.GetFileName(onnx.ModelPath)} (id {onnx.ModelId})"
        : $"id {model.ModelId}";

    /// <summary>The models of a survey router, one per line part: "ztf: t2-ztf.deployed.ort (id …); lsst: …".</summary>
    public static string Describe(SurveyRoutingClassifier router) =>
        string.Join("; ", router.Models.Where(kv => kv.Key != Survey.Elasticc || !router.Models.ContainsKey(Survey.Lsst))
            .OrderBy(kv => kv.Key).Select(kv => $"{kv.Key.Name()}: {Describe(kv.Value)}"));

    /// <summary>The file name of the model with this id in a router, or null (for machine output beside the id).</summary>
    public static string? NameOf(SurveyRoutingClassifier router, string modelId) =>
        router.Models.Values.OfType<OnnxT2Classifier>().FirstOrDefault(m => m.ModelId == modelId) is { } m ? Path.GetFileName(m.ModelPath) : null;
}
