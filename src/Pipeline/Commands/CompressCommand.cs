using System.CommandLine;
using Alerts.Compression;
using Alerts.Onnx;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>`alerts compress`: build, measure and gate compressed variants of a t2 model; deploy the best as .ort.</summary>
public static class CompressCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "fp32 ONNX model to compress (e.g. models/t2-ztf.onnx)", Required = true };
        var data = new Option<string>("--data") { Description = "labelled features: .npz with x float32 [N,steps,bands] and y int64 [N], or a folder with x.npy and y.npy", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "output folder: <model>.deployed.ort, report.md, report.json, variants/", Required = true };
        var target = new Option<CompressionTarget>("--target") { Description = "what to minimise among variants that pass the gate: size or latency", DefaultValueFactory = _ => CompressionTarget.Size };
        var tolerance = new Option<double>("--tolerance") { Description = "largest accepted accuracy drop below fp32, as a fraction (0.01 = 1 point)", DefaultValueFactory = _ => 0.01 };
        var calibration = new Option<string?>("--calibration") { Description = "separate labelled file for calibration; default: the first --calibration-rows rows of --data" };
        var calibrationRows = new Option<int>("--calibration-rows") { Description = "calibration rows", DefaultValueFactory = _ => 128 };
        var variant = new Option<string?>("--variant") { Description = "deploy this recipe (e.g. int8-dynamic) instead of choosing by --target; refused if it fails the gate" };
        var noTiming = new Option<bool>("--no-timing") { Description = "skip latency measurements (faster; sizes and accuracy only)" };
        var paper = new Option<DirectoryInfo?>("--paper-baseline") { Description = "FINK's t2 files (savedmodel/ + *.tflite) for the paper-style SavedModel -> TFLite ratio line in report.md; default ../shared/data/models/fink-t2 when present" };
        var noAttnLayout = new Option<bool>("--no-attn-layout") { Description = "do not apply the exact attention-layout lowering (AttentionLayoutPass) to every variant" };
        var ortAttention = new Option<bool>("--ort-attention") { Description = "keep the attention core on ONNX Runtime's own kernels instead of Alerts' fused ScaledDotProductAttention (the model then loads in any ORT session)" };
        var cmd = new Command("compress", "Prune, cluster and quantize a t2 model, measure every variant, and deploy the best one that passes the accuracy gate.");
        foreach (var o in new Option[] { model, data, output, target, tolerance, calibration, calibrationRows, variant, noTiming, paper, noAttnLayout, ortAttention }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var options = new CompressionOptions(parse.GetValue(model)!.FullName, parse.GetValue(data)!, parse.GetValue(output)!.FullName,
                parse.GetValue(target), parse.GetValue(tolerance), parse.GetValue(calibration), parse.GetValue(calibrationRows), parse.GetValue(variant), !parse.GetValue(noTiming),
                PaperBaselineDirectory: parse.GetValue(paper)?.FullName ?? DefaultPaperBaseline(),
                AttentionLayout: !parse.GetValue(noAttnLayout), FusedAttention: !parse.GetValue(ortAttention));
            if (!File.Exists(options.ModelPath))
            {
                Consoles.Err.MarkupLineInterpolated($"[red]{options.ModelPath}: model file not found.[/] Pass --model with an fp32 .onnx exported by tools/train.");
                return 1;
            }
            CompressionReport report;
            try
            {
                int total = Recipe.StandardFor(OnnxModel.Load(options.ModelPath)).Count + 1;
                report = Consoles.Err.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("compress", maxValue: total);
                        return new Compressor(options, step => { task.Description = Markup.Escape(step); task.Increment(1); }).Run();
                    });
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException or DirectoryNotFoundException)
            {
                Consoles.Err.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            }
            var table = new Table().Title($"alerts compress: {report.Model}").AddColumns("variant", "size B", "gzip B", "ratio", "accuracy", "macro-F1", "log-loss", "gate", "µs/alert b1", "µs/alert b32");
            foreach (var v in new[] { report.NaiveBaseline }.Concat(report.Variants))
                table.AddRow(Markup.Escape(v.Name), v.SizeBytes.ToString(), v.GzipBytes.ToString(), $"{v.CompressionRatio:F2}x", $"{v.Accuracy:P2}", $"{v.MacroF1:F3}", $"{v.WeightedLogLoss:F3}",
                    v.PassesGate ? "[green]pass[/]" : "[red]FAIL[/]", $"{v.MicrosecondsPerAlertBatch1:F1}", $"{v.MicrosecondsPerAlertBatch32:F1}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(options.OutputDirectory, "report.md")}");
            if (report.Refusal is not null)
            {
                Consoles.Err.MarkupLineInterpolated($"[red]refused:[/] {report.Refusal}");
                return 2;
            }
            AnsiConsole.MarkupLineInterpolated($"[green]deployed:[/] {report.Deployed}");
            return 0;
        });
        return cmd;
    }

    /// <summary>../shared/data/models/fink-t2 next to the repository (or the working folder), if it is there.</summary>
    private static string? DefaultPaperBaseline()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "..", "shared", "data", "models", "fink-t2");
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
        return null;
    }
}
