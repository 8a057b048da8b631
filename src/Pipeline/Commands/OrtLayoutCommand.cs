using System.CommandLine;
using Alerts.Compression.Evaluation;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// `alerts ort-layout`: where the bytes of an ORT-format model go (initializer data, node and node_arg records, kernel
/// type tables...). Given an .onnx, saves it as .ort both the plain way (ORT's optimising session writes its graph) and
/// the way `alerts compress` does (through the optimised .onnx, names compacted) and shows the two side by side.
/// </summary>
public static class OrtLayoutCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "an .ort file, or an .onnx to save as .ort both ways (e.g. models/t2-ztf.deployed.onnx)" };
        var top = new Option<int>("--initializers") { Description = "list the N largest initializers", DefaultValueFactory = _ => 8 };
        var cmd = new Command("ort-layout", "Break an ORT-format model's bytes down by part of ORT's flatbuffer schema.");
        cmd.Arguments.Add(model);
        cmd.Options.Add(top);
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(model)!;
            if (!file.Exists) { Consoles.Err.MarkupLineInterpolated($"[red]{file.FullName}: file not found.[/] Pass an .ort or .onnx model, e.g. models/t2-ztf.deployed.ort"); return 1; }
            byte[] bytes = File.ReadAllBytes(file.FullName);
            var columns = new List<(string Name, OrtByteBreakdown Layout)>();
            try
            {
                if (file.Extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase))
                {
                    columns.Add(("ORT's direct save", OrtFileLayout.Analyze(OrtFormat.SaveDirect(bytes, ModelFormat.Ort))));
                    columns.Add(("alerts compress save", OrtFileLayout.Analyze(OrtFormat.SaveOptimized(bytes, ModelFormat.Ort))));
                }
                else columns.Add((file.Name, OrtFileLayout.Analyze(bytes)));
            }
            catch (Exception e) when (e is InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or Google.Protobuf.InvalidProtocolBufferException)
            {
                Consoles.Err.MarkupLineInterpolated($"[red]{file.FullName}: {e.Message}[/] Pass an .ort written by ONNX Runtime (session.save_model_format = ORT) or a valid .onnx.");
                return 1;
            }
            var table = new Table().Title($"ort-layout: {file.Name} ({bytes.Length:N0} B)").AddColumn("part");
            foreach (var c in columns) table.AddColumn(new TableColumn(Markup.Escape(c.Name) + " B").RightAligned());
            var parts = columns.SelectMany(c => c.Layout.Parts.Select(p => p.Part)).Distinct().ToList();
            foreach (var part in parts) table.AddRow([Markup.Escape(part), .. columns.Select(c => c.Layout.Part(part).ToString("N0"))]);
            table.AddRow(["unaccounted (root header, padding)", .. columns.Select(c => c.Layout.Unaccounted.ToString("N0"))]);
            table.AddRow(["[bold]total[/]", .. columns.Select(c => $"[bold]{c.Layout.TotalBytes:N0}[/]")]);
            table.AddRow(["nodes / node_args (unused) / initializers", .. columns.Select(c => $"{c.Layout.NodeOpTypes.Count} / {c.Layout.NodeArgs} ({c.Layout.UnusedNodeArgs}) / {c.Layout.Initializers.Count}")]);
            AnsiConsole.Write(table);
            var last = columns[^1].Layout;
            var inits = new Table().Title("largest initializers").AddColumns("name", "type", "dims").AddColumn(new TableColumn("raw B").RightAligned());
            foreach (var t in last.Initializers.OrderByDescending(t => t.RawBytes).Take(parse.GetValue(top)))
                inits.AddRow(Markup.Escape(t.Name), DataTypeName(t.DataType), Markup.Escape($"[{string.Join(", ", t.Dims)}]"), t.RawBytes.ToString("N0"));
            AnsiConsole.Write(inits);
            AnsiConsole.MarkupLineInterpolated($"ops: {string.Join(" ", last.NodeOpTypes.GroupBy(o => o).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}×{g.Count()}"))}");
            return 0;
        });
        return cmd;
    }

    private static string DataTypeName(int t) => t switch { 1 => "float", 2 => "uint8", 3 => "int8", 6 => "int32", 7 => "int64", 10 => "float16", _ => $"type {t}" };
}
