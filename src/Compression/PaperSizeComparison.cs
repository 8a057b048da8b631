using System.Globalization;
using System.Text;

namespace Alerts.Compression;

/// <summary>
/// The t2 paper's size ratio, measured from FINK's files: its fp32 TensorFlow SavedModel (graph protobuf + variables)
/// against its quantized TFLite. Most of that ratio is the SavedModel's graph protobuf, which an .onnx never had, so the
/// report shows it next to ours (against our fp32 .onnx) rather than as a target for it.
/// </summary>
public sealed record PaperSizeComparison(string Directory, long SavedModelGraphBytes, long VariablesBytes, long TfliteBytes, string TfliteFile)
{
    public long SavedModelBytes => SavedModelGraphBytes + VariablesBytes;
    public double PaperRatio => (double)SavedModelBytes / TfliteBytes;
    public double WeightsOnlyRatio => (double)VariablesBytes / TfliteBytes;

    /// <summary>
    /// Reads the sizes from a folder laid out like ../shared/data/models/fink-t2 (savedmodel/saved_model.pb,
    /// savedmodel/variables/*, one *.tflite); null when the folder or any of these files is missing.
    /// </summary>
    public static PaperSizeComparison? Measure(string? directory)
    {
        if (directory is null || !System.IO.Directory.Exists(directory)) return null;
        var graph = new FileInfo(Path.Combine(directory, "savedmodel", "saved_model.pb"));
        var variables = new DirectoryInfo(Path.Combine(directory, "savedmodel", "variables"));
        var tflite = new DirectoryInfo(directory).GetFiles("*.tflite").OrderBy(f => f.Name, StringComparer.Ordinal).FirstOrDefault();
        if (!graph.Exists || !variables.Exists || tflite is null) return null;
        long variableBytes = variables.GetFiles().Sum(f => f.Length);
        if (variableBytes == 0) return null;
        return new PaperSizeComparison(directory, graph.Length, variableBytes, tflite.Length, tflite.Name);
    }

    /// <summary>The report.md section: FINK's ratio the paper's way, next to ours against the fp32 .onnx we ship from.</summary>
    public static string Render(CompressionReport r, PaperSizeComparison p, long fp32OnnxBytes)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine("## Size ratio the paper's way (FINK's files) next to ours");
        sb.AppendLine();
        sb.AppendLine(string.Create(c, $"- **FINK, SavedModel → TFLite (the paper's 18×), measured from {Path.GetRelativePath(System.IO.Directory.GetCurrentDirectory(), p.Directory)}:** fp32 SavedModel {p.SavedModelBytes:N0} B (saved_model.pb graph {p.SavedModelGraphBytes:N0} B = {(double)p.SavedModelGraphBytes / p.SavedModelBytes:P0}, variables {p.VariablesBytes:N0} B) → quantized TFLite ({p.TfliteFile}) {p.TfliteBytes:N0} B: **{p.PaperRatio:F2}×**. Weights only (variables → TFLite): {p.WeightsOnlyRatio:F2}×. The SavedModel (model 23057) and the TFLite (model 28341) are two trainings of the same architecture."));
        var deployed = r.Deployed is null ? null : r.Variants.FirstOrDefault(v => r.Deployed.EndsWith(v.File, StringComparison.Ordinal));
        var smallestOnnx = r.Variants.Where(v => v.Format == "onnx" && v.PassesGate && v.Recipe != "fp32").OrderBy(v => v.SizeBytes).FirstOrDefault();
        string ours = string.Create(c, $"- **Ours, against our fp32 .onnx ({fp32OnnxBytes:N0} B, which has no TF graph overhead: it is mostly weights):** ");
        if (deployed is not null) ours += string.Create(c, $"deployed .ort {deployed.SizeBytes:N0} B = {deployed.CompressionRatio:F2}×");
        else ours += "no deployed .ort (refused)";
        if (smallestOnnx is not null) ours += string.Create(c, $"; smallest .onnx that passes the gate ({smallestOnnx.Recipe}) {smallestOnnx.SizeBytes:N0} B = {smallestOnnx.CompressionRatio:F2}×");
        sb.AppendLine(ours + ". We ship no SavedModel, so there is no SavedModel-based ratio for ours.");
        return sb.ToString();
    }
}
