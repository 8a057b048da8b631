using System.CommandLine;
using Alerts.Onnx;
using Alerts.Interop.TfLite;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// <c>alerts import-tflite</c>: converts a TFLite model (FINK's published t2) to ONNX and writes a model card beside
/// it; optionally checks the result against TFLite's own outputs (tools/tflite-referee).
/// </summary>
public static class ImportTfliteCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "the .tflite file (e.g. ../shared/data/models/fink-t2/quantized-model-...tflite)" };
        var output = new Option<FileInfo>("--out") { Description = "ONNX file to write; the model card goes beside it as <name>.card.md", Required = true };
        var hybrid = new Option<string>("--hybrid") { Description = "hybrid int8 FULLY_CONNECTED: tflite-kernel (reproduce TFLite's dynamic int8 inputs, as FINK ran it) or dequantized (float weights, no input rounding)", DefaultValueFactory = _ => "tflite-kernel" };
        var refInputs = new Option<FileInfo?>("--reference-inputs") { Description = "float32 .npy [N, 100, 2] the referee ran (tests/Interop.Tests/Fixtures/fink-t2-inputs.npy)" };
        var refOutputs = new Option<FileInfo?>("--reference-outputs") { Description = "TFLite's outputs .npy [N, 14] for those inputs (tests/Interop.Tests/Fixtures/fink-t2-tflite-outputs.npy)" };
        var tolerance = new Option<double>("--tolerance") { Description = "largest accepted absolute difference per probability against the reference", DefaultValueFactory = _ => 1e-4 };
        var preset = new Option<string>("--preset") { Description = "preprocessing the ONNX file asks for (metadata alerts.preprocessing): fink-t2 (forward time, as astronet trained), fink-t2-production (FINK's reversed time), fink-t2-rg (bands swapped)", DefaultValueFactory = _ => "fink-t2" };
        var savedModel = new Option<DirectoryInfo?>("--savedmodel") { Description = "take the weights from this TF SavedModel folder (FINK's earlier fp32 t2: ../shared/data/models/fink-t2/savedmodel); the .tflite then supplies only the architecture" };
        var describe = new Option<bool>("--describe") { Description = "also print every TFLite operator with its tensors" };
        var cmd = new Command("import-tflite", "Convert a TFLite model (FINK's t2) to ONNX with a model card; optionally check it against TFLite's reference outputs.");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { output, hybrid, preset, savedModel, refInputs, refOutputs, tolerance, describe }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var src = parse.GetValue(model)!;
            var dst = parse.GetValue(output)!;
            if (!src.Exists) { Consoles.Err.MarkupLineInterpolated($"[red]{src.FullName}: file not found.[/] Pass the .tflite path, e.g. ../shared/data/models/fink-t2/quantized-model-GR-noZ-28341-1654269564-0.5.1.dev73+g70f85f8-LL0.836.tflite"); return 1; }
            HybridArithmetic mode;
            switch (parse.GetValue(hybrid)?.ToLowerInvariant())
            {
                case "tflite-kernel": mode = HybridArithmetic.TfLiteKernel; break;
                case "dequantized": mode = HybridArithmetic.DequantizedWeights; break;
                default: Consoles.Err.MarkupLineInterpolated($"[red]--hybrid {parse.GetValue(hybrid)}: unknown.[/] Use tflite-kernel or dequantized."); return 1;
            }
            TfLiteImport import;
            try
            {
                var presetName = Alerts.Classifier.T2Preprocessing.ByName(parse.GetValue(preset)!).Name;
                if (parse.GetValue(describe)) Console.Write(TfLiteModelText.Describe(TfLiteModel.Load(src.FullName)));
                import = TfLiteImporter.Import(src.FullName, new TfLiteImportOptions { Hybrid = mode, PreprocessingPreset = presetName }, parse.GetValue(savedModel)?.FullName);
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or FileNotFoundException)
            {
                Consoles.Err.MarkupLineInterpolated($"[red]import-tflite:[/] {e.Message}");
                return 1;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(dst.FullName)!);
            var bytes = import.Onnx.ToBytes();
            File.WriteAllBytes(dst.FullName, bytes);
            string cardPath = Path.ChangeExtension(dst.FullName, null) + ".card.md";
            File.WriteAllText(cardPath, import.ModelCard);

            var table = new Table().Title($"alerts import-tflite: {Markup.Escape(src.Name)}").AddColumns("item", "value");
            table.AddRow("source sha256", import.SourceSha256);
            table.AddRow("operators", Markup.Escape(string.Join(", ", import.OperatorCounts.Select(kv => $"{kv.Key} x{kv.Value}"))));
            table.AddRow("hybrid arithmetic", mode.ToString());
            table.AddRow("ONNX", $"{Markup.Escape(dst.FullName)} ({bytes.Length:N0} bytes, {import.Onnx.Graph.Node.Count} nodes)");
            table.AddRow("model card", Markup.Escape(cardPath));
            int exit = 0;
            if (parse.GetValue(refInputs) is { } xi && parse.GetValue(refOutputs) is { } yo)
            {
                try
                {
                    var cmp = ReferenceCheck.Compare(bytes, Npy.Read(xi.FullName), Npy.Read(yo.FullName));
                    double tol = parse.GetValue(tolerance);
                    table.AddRow("vs TFLite reference", $"{cmp.Rows} rows: max |Δp| {cmp.MaxAbsDiff:E2} (row {cmp.WorstRow}), mean {cmp.MeanAbsDiff:E2}, same top class {cmp.ArgmaxAgreements}/{cmp.Rows} " +
                        (cmp.Within(tol) ? $"[green]within {tol:G}[/]" : $"[red]exceeds {tol:G}[/]"));
                    if (!cmp.Within(tol)) exit = 2;
                }
                catch (Exception e) when (e is InvalidDataException or IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
                {
                    Consoles.Err.MarkupLineInterpolated($"[red]reference check:[/] {e.Message}");
                    return 1;
                }
            }
            AnsiConsole.Write(table);
            return exit;
        });
        return cmd;
    }
}
