using Alerts.Compression.Onnx;
using Alerts.Compression.Passes;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Compression.Bench -- layout MODEL.onnx OUTDIR
//   writes MODEL.attn-layout.onnx and MODEL.attn-layout-qkv.onnx (AttentionLayoutPass without / with QKV packing)
//   to time against the original with `Classifier.Bench quick|graph`.
if (args.Length == 3 && args[0] == "layout")
{
    var model = OnnxModel.Load(args[1]);
    Directory.CreateDirectory(args[2]);
    foreach (var pass in new[] { new AttentionLayoutPass(), new AttentionLayoutPass(packQkv: true), new AttentionLayoutPass(rows: false), new AttentionLayoutPass(fusedAttention: true) })
    {
        var outModel = pass.Apply(model, null);
        var path = Path.Combine(args[2], Path.GetFileNameWithoutExtension(args[1]) + "." + pass.Name + (pass.LastRewrites.RowRegions == 0 ? "-norows" : "") + ".onnx");
        outModel.Save(path);
        Console.WriteLine($"{path}: {outModel.Graph.Node.Count} nodes (was {model.Graph.Node.Count}); rewrites {pass.LastRewrites}");
    }
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Alerts.Compression.Bench.InferenceBenchmarks).Assembly).Run(args);
