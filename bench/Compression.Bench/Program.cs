using Alerts.Compression;
using Alerts.Onnx;
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
// int4-acc MODEL.onnx DATA.npz OUTDIR LEVEL: the deployed ZTF recipe with MatMulNBits accuracy_level LEVEL (0 = fp32
//   compute, 4 = int8 activations) and the fused lowering, as .onnx and .ort, to time with `Classifier.Bench compare`
if (args.Length == 5 && args[0] == "int4-acc")
{
    var model = OnnxModel.Load(args[1]);
    var calib = Alerts.Compression.Evaluation.LabelledSet.Load(args[2]).Take(128);
    var recipe = Recipe.Of(new MatMulNBitsPass(32, WeightRounding.Gptq, int.Parse(args[4])), new ComputedPositionalEncodingPass(), new Int8ConstantStoragePass(), new CompactNamesPass())
        .WithLowering(new AttentionLayoutPass(fusedAttention: true));
    var bytes = recipe.Apply(model, calib).ToBytes();
    Directory.CreateDirectory(args[3]);
    string stem = Path.Combine(args[3], Path.GetFileNameWithoutExtension(args[1]) + "." + recipe.Name);
    File.WriteAllBytes(stem + ".onnx", bytes);
    File.WriteAllBytes(stem + ".ort", Alerts.Compression.Evaluation.OrtFormat.SaveOptimized(bytes, Alerts.Compression.Evaluation.ModelFormat.Ort));
    Console.WriteLine($"{stem}.onnx/.ort");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Alerts.Compression.Bench.InferenceBenchmarks).Assembly).Run(args);
