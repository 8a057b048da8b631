using Alerts.OrtKernels;
using Microsoft.ML.OnnxRuntime;

namespace Alerts.Compression.Evaluation;

/// <summary>
/// Offline optimisation with ONNX Runtime: loads a model with the given optimisation level and saves the optimised
/// graph (SessionOptions.OptimizedModelFilePath), either as ONNX or as the ORT flatbuffer format
/// (session.save_model_format = ORT). An .ort file loads without graph optimisation or protobuf parsing; open it with
/// session.load_model_format = ORT (<see cref="OrtModelRunner"/> with <see cref="ModelFormat.Ort"/>).
/// </summary>
public static class OrtFormat
{
    /// <summary>
    /// The optimised model in <paramref name="format"/>. An .ort is written in two steps: optimise at
    /// <paramref name="level"/> and save as ONNX, then compact the value names and save that graph as ORT without further
    /// optimisation. Saving straight from the optimising session writes a node_arg record (name, type, shape: ~130 B)
    /// for every value the fusions removed (44 of 114 in the int8 t2: 5.9 kB), plus exporter-length names in every
    /// node, node_arg and initializer record; the optimised graph, its ops and kernels are the same either way
    /// (see <see cref="OrtFileLayout"/> for the byte breakdown).
    /// </summary>
    public static byte[] SaveOptimized(byte[] onnxModel, ModelFormat format, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
    {
        if (format == ModelFormat.Onnx || level == GraphOptimizationLevel.ORT_DISABLE_ALL) return SaveDirect(onnxModel, format, level);
        byte[] optimized = SaveDirect(onnxModel, ModelFormat.Onnx, level);
        byte[] compact = new Passes.CompactNamesPass().Apply(Onnx.OnnxModel.Parse(optimized), null).ToBytes();
        return SaveDirect(compact, ModelFormat.Ort, GraphOptimizationLevel.ORT_DISABLE_ALL);
    }

    /// <summary>ORT's own save: the optimising session writes its graph as it holds it (unused node_args included).</summary>
    public static byte[] SaveDirect(byte[] onnxModel, ModelFormat format, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
    {
        string dir = Directory.CreateTempSubdirectory("alerts-ort-").FullName;
        try
        {
            string path = Path.Combine(dir, format == ModelFormat.Ort ? "model.ort" : "model.onnx");
            using (var options = new SessionOptions { GraphOptimizationLevel = level, OptimizedModelFilePath = path, IntraOpNumThreads = 1 })
            {
                if (format == ModelFormat.Ort) options.AddSessionConfigEntry("session.save_model_format", "ORT");
                using var session = new InferenceSession(onnxModel, AlertsOperators.Register(options));
            }
            return File.ReadAllBytes(path);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Operator types in ORT's optimised graph (to check which kernels a quantised model really uses).</summary>
    public static List<string> OptimizedOpTypes(byte[] onnxModel, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
    {
        var optimized = Onnx.OnnxModel.Parse(SaveOptimized(onnxModel, ModelFormat.Onnx, level));
        return optimized.Graph.Node.Select(n => n.OpType).ToList();
    }
}
