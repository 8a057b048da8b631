using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Compression.Passes;
using Microsoft.ML.OnnxRuntime;

namespace Alerts.Compression;

public enum CompressionTarget { Size, Latency }

public sealed record CompressionOptions(
    string ModelPath,
    string DataPath,
    string OutputDirectory,
    CompressionTarget Target = CompressionTarget.Size,
    double Tolerance = 0.01,
    string? CalibrationPath = null,
    int CalibrationRows = 128,
    string? Variant = null,
    bool MeasureLatency = true,
    IReadOnlyList<Recipe>? Recipes = null,
    string? PaperBaselineDirectory = null,
    bool AttentionLayout = true,
    bool FusedAttention = true);

/// <summary>One row of the report: a recipe saved in one file format, evaluated and timed.</summary>
public sealed record VariantReport(
    string Name,
    string Recipe,
    string Format,
    string File,
    long SizeBytes,
    long GzipBytes,
    double CompressionRatio,
    double GzipCompressionRatio,
    long Parameters,
    double Accuracy,
    double MacroF1,
    double WeightedLogLoss,
    bool PassesGate,
    string Sha256,
    double LoadMs,
    double FirstInferenceMs,
    double MicrosecondsPerAlertBatch1,
    double MicrosecondsPerAlertBatch32,
    double AlertsPerSecond,
    double SnIaBalancedAccuracy = double.NaN,
    double FamilyMacroF1 = double.NaN);

public sealed record CompressionReport(
    string Model,
    string Data,
    int EvaluationRows,
    int CalibrationRows,
    double Tolerance,
    string Target,
    double Fp32Accuracy,
    string Machine,
    VariantReport NaiveBaseline,
    IReadOnlyList<VariantReport> Variants,
    string? Deployed,
    string? Refusal,
    PaperSizeComparison? Paper = null,
    string Lowering = "none");

/// <summary>
/// The compression stage: builds every recipe from an fp32 ONNX model, saves each as .onnx and as an offline-optimised
/// .ort, measures size / accuracy / latency, and deploys the best variant that passes the accuracy gate
/// (accuracy no more than <see cref="CompressionOptions.Tolerance"/> below fp32). Model files depend only on the
/// inputs (byte-identical across runs); the timing columns of the report are measurements and vary.
/// </summary>
public sealed class Compressor(CompressionOptions options, Action<string>? progress = null)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public CompressionReport Run()
    {
        var model = OnnxModel.Load(options.ModelPath);
        var data = LabelledSet.Load(options.DataPath);
        LabelledSet calibration, evaluation;
        if (options.CalibrationPath is not null) { calibration = LabelledSet.Load(options.CalibrationPath).Take(options.CalibrationRows); evaluation = data; }
        else
        {
            if (data.Count < options.CalibrationRows * 2)
                throw new InvalidDataException($"{options.DataPath}: {data.Count} rows are too few to split off {options.CalibrationRows} calibration rows; pass --calibration with a separate file or lower --calibration-rows.");
            calibration = data.Take(options.CalibrationRows);
            evaluation = Skip(data, options.CalibrationRows);
        }
        CheckInputShape(model, evaluation);

        string stem = Path.GetFileNameWithoutExtension(options.ModelPath);
        string variantsDir = Path.Combine(options.OutputDirectory, "variants");
        Directory.CreateDirectory(variantsDir);
        byte[] fp32Bytes = File.ReadAllBytes(options.ModelPath);

        progress?.Invoke("fp32 naive baseline (default session options)");
        var naive = Measure("fp32 naive (default SessionOptions)", "fp32", ModelFormat.Onnx, Path.GetFileName(options.ModelPath), fp32Bytes, fp32Bytes.Length, model.ParameterCount(), evaluation, null);
        double fp32Accuracy = naive.Accuracy;

        var rows = new List<VariantReport>();
        // The attention-layout lowering is exact (outputs equal to float rounding) and makes ORT's CPU kernels do less
        // work, so every variant gets it; names stay the recipe's. --no-attn-layout measures without it.
        // With FusedAttention the lowering also replaces the attention core by Alerts' fused kernel
        // (ai.alerts.ScaledDotProductAttention, src/OrtKernels): the deployed model then loads only where that kernel
        // is registered, which OnnxT2Classifier and this stage's runners always do.
        var lowering = new AttentionLayoutPass(fusedAttention: options.FusedAttention);
        var recipes = (options.Recipes ?? Recipe.StandardFor(model)).Select(r => options.AttentionLayout ? r.WithLowering(lowering) : r).ToList();
        if (options.Variant is not null && !recipes.Any(r => r.Name == options.Variant))
            throw new ArgumentException($"--variant '{options.Variant}' is not a known recipe; choose one of: {string.Join(", ", recipes.Select(r => r.Name))}.");
        foreach (var recipe in recipes)
        {
            progress?.Invoke(recipe.Name);
            OnnxModel compressed;
            try { compressed = recipe.Apply(model, calibration); }
            catch (InvalidOperationException e) when (recipe.Name != options.Variant)
            {
                // A recipe that does not fit this graph (e.g. structured pruning on an imported TFLite graph, which has
                // no torch-export attention pattern) is skipped, not fatal: the other recipes still apply.
                progress?.Invoke($"{recipe.Name} skipped: {e.Message}");
                continue;
            }
            var problems = compressed.CheckTopology();
            if (problems.Count > 0) throw new InvalidOperationException($"recipe {recipe.Name} produced a malformed graph: {string.Join("; ", problems)}");
            byte[] onnxBytes = compressed.ToBytes();
            byte[] ortBytes = OrtFormat.SaveOptimized(onnxBytes, ModelFormat.Ort);
            foreach (var (format, bytes, ext) in new[] { (ModelFormat.Onnx, onnxBytes, "onnx"), (ModelFormat.Ort, ortBytes, "ort") })
            {
                string file = $"{stem}.{recipe.Name}.{ext}";
                File.WriteAllBytes(Path.Combine(variantsDir, file), bytes);
                var row = Measure($"{recipe.Name} .{ext}", recipe.Name, format, "variants/" + file, bytes, fp32Bytes.Length, compressed.ParameterCount(), evaluation, naive);
                rows.Add(row);
            }
        }

        // Deployed artifacts are .ort files: no protobuf parse and no graph optimisation at service start.
        var candidates = rows.Where(r => r.Format == "ort" && r.Recipe != "fp32").ToList();
        string? refusal = null;
        VariantReport? chosen;
        if (options.Variant is not null)
        {
            chosen = candidates.FirstOrDefault(r => r.Recipe == options.Variant) ?? rows.First(r => r.Recipe == options.Variant && r.Format == "ort");
            if (!chosen.PassesGate) { refusal = GateMessage(chosen, fp32Accuracy); chosen = null; }
        }
        else
        {
            var passing = candidates.Where(r => r.PassesGate).ToList();
            chosen = options.Target == CompressionTarget.Size
                ? passing.OrderBy(r => r.SizeBytes).ThenBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault()
                : passing.OrderBy(r => options.MeasureLatency ? r.MicrosecondsPerAlertBatch32 : r.SizeBytes).ThenBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault();
            if (chosen is null)
            {
                var best = candidates.OrderByDescending(r => r.Accuracy).First();
                refusal = $"no compressed variant keeps accuracy within {options.Tolerance:P1} of fp32 ({fp32Accuracy:P2}); best was {GateMessage(best, fp32Accuracy)}";
            }
        }
        string? deployed = null;
        string deployedPath = Path.Combine(options.OutputDirectory, $"{stem}.deployed.ort");
        // The .onnx of the deployed recipe is written next to the .ort: it is byte-identical across runs, while ORT's
        // flatbuffer serializer orders some tables differently from one session to the next (same graph, same outputs).
        string deployedOnnxPath = Path.ChangeExtension(deployedPath, ".onnx");
        if (chosen is not null)
        {
            File.Copy(Path.Combine(options.OutputDirectory, chosen.File), deployedPath, overwrite: true);
            File.Copy(Path.Combine(options.OutputDirectory, Path.ChangeExtension(chosen.File, ".onnx")), deployedOnnxPath, overwrite: true);
            deployed = Path.GetFileName(deployedPath);
        }
        else
        {
            // never leave a stale deployed model next to a refusal
            if (File.Exists(deployedPath)) File.Delete(deployedPath);
            if (File.Exists(deployedOnnxPath)) File.Delete(deployedOnnxPath);
        }

        var report = new CompressionReport(Path.GetFileName(options.ModelPath), Path.GetFileName(options.DataPath), evaluation.Count, calibration.Count,
            options.Tolerance, options.Target.ToString().ToLowerInvariant(), fp32Accuracy, MachineDescription(), naive, rows,
            deployed is null ? null : $"{deployed} <- {chosen!.File}", refusal, PaperSizeComparison.Measure(options.PaperBaselineDirectory), options.AttentionLayout ? lowering.Name : "none");
        File.WriteAllText(Path.Combine(options.OutputDirectory, "report.json"), JsonSerializer.Serialize(report, Json));
        File.WriteAllText(Path.Combine(options.OutputDirectory, "report.md"), ReportMarkdown.Render(report)
            + (report.Paper is null ? "" : PaperSizeComparison.Render(report, report.Paper, fp32Bytes.Length)));
        return report;
    }

    private string GateMessage(VariantReport r, double fp32) =>
        $"{r.Recipe} with accuracy {r.Accuracy:P2}, {(fp32 - r.Accuracy) * 100:F2} points below fp32 {fp32:P2}"
        + (double.IsNaN(r.SnIaBalancedAccuracy) ? "" : $", SN Ia balanced accuracy {r.SnIaBalancedAccuracy:F4} and family macro-F1 {r.FamilyMacroF1:F4}")
        + $" (tolerance {options.Tolerance * 100:F2} points on each). Raise --tolerance or choose another --variant.";

    /// <summary>
    /// Measures one model file. The gate: accuracy no more than the tolerance below fp32's and, when the labelled set
    /// holds rows of the scored supernova families (real data), the SN Ia balanced accuracy and the family macro-F1
    /// within the tolerance of fp32's either way (<see cref="RealSkyMetrics"/>): the deployed model must be the model the
    /// card describes, so a variant that keeps the 14-class accuracy while it moves the family scores is refused, even
    /// when they move up (a variant compressed from a fold model gained 2 points of family macro-F1 on the pooled rows
    /// and lost 2.6 points of SN Ia balanced accuracy at 10 days).
    /// <paramref name="fp32"/> is null for the fp32 baseline itself.
    /// </summary>
    private VariantReport Measure(string name, string recipe, ModelFormat format, string file, byte[] bytes, long fp32Size, long parameters, LabelledSet evaluation, VariantReport? fp32)
    {
        bool naive = fp32 is null;
        long gz = GzipSize(bytes);
        using var runner = naive ? new OrtModelRunner(bytes, new SessionOptions()) : new OrtModelRunner(bytes, format);
        double first = runner.FirstInferenceMilliseconds(evaluation);
        var probabilities = runner.Predict(evaluation);
        var m = Metrics.Compute(probabilities, evaluation.Labels);
        double b1 = 0, b32 = 0;
        if (options.MeasureLatency)
        {
            b1 = runner.MicrosecondsPerAlert(evaluation, 1);
            b32 = runner.MicrosecondsPerAlert(evaluation, 32, warmup: 5, repeats: 50);
        }
        double tol = options.Tolerance + 1e-12;
        bool passes = naive || (m.Accuracy >= fp32!.Accuracy - tol
            && (double.IsNaN(fp32.SnIaBalancedAccuracy) || Math.Abs(m.SnIaBalancedAccuracy - fp32.SnIaBalancedAccuracy) <= tol)
            && (double.IsNaN(fp32.FamilyMacroF1) || Math.Abs(m.FamilyMacroF1 - fp32.FamilyMacroF1) <= tol));
        return new VariantReport(name, recipe, format == ModelFormat.Ort ? "ort" : "onnx", file, bytes.Length, gz, Math.Round((double)fp32Size / bytes.Length, 2),
            Math.Round((double)fp32Size / gz, 2), parameters, m.Accuracy, m.MacroF1, m.WeightedLogLoss, passes,
            format == ModelFormat.Ort ? "(ORT flatbuffer bytes vary between sessions)" : Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(),
            // Without timing every field is a function of the inputs, so report.json is byte-identical across runs.
            options.MeasureLatency ? Math.Round(runner.LoadMilliseconds, 2) : 0, options.MeasureLatency ? Math.Round(first, 2) : 0,
            Math.Round(b1, 2), Math.Round(b32, 2), b32 > 0 ? Math.Round(1e6 / b32) : 0, m.SnIaBalancedAccuracy, m.FamilyMacroF1);
    }

    public static long GzipSize(byte[] bytes)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true)) gz.Write(bytes);
        return ms.Length;
    }

    private static LabelledSet Skip(LabelledSet s, int n) =>
        new(s.Features.AsSpan(n * s.RowLength).ToArray(), s.Labels.AsSpan(n).ToArray(), s.Steps, s.Bands);

    private void CheckInputShape(OnnxModel model, LabelledSet data)
    {
        var input = model.Graph.Input.FirstOrDefault(i => !model.IsInitializer(i.Name));
        var dims = input?.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 3) return;
        if ((dims[1].HasDimValue && dims[1].DimValue != data.Steps) || (dims[2].HasDimValue && dims[2].DimValue != data.Bands))
            throw new InvalidDataException($"{options.DataPath}: x has shape [N, {data.Steps}, {data.Bands}] but {options.ModelPath} input '{input!.Name}' expects [batch, {dims[1].DimValue}, {dims[2].DimValue}]; use features made for this model's survey.");
    }

    public string MachineDescription() => !options.MeasureLatency ? "timing not measured (--no-timing)" :
        $"{Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version}, ONNX Runtime 1.31.1 CPU, 1 intra-op thread (naive baseline: default SessionOptions)";
}
