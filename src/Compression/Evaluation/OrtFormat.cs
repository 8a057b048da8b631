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
    public static byte[] SaveOptimized(byte[] onnxModel, ModelFormat format, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
    {
        string dir = Directory.CreateTempSubdirectory("alerts-ort-").FullName;
        try
        {
            string path = Path.Combine(dir, format == ModelFormat.Ort ? "model.ort" : "model.onnx");
            using (var options = new SessionOptions { GraphOptimizationLevel = level, OptimizedModelFilePath = path, IntraOpNumThreads = 1 })
            {
                if (format == ModelFormat.Ort) options.AddSessionConfigEntry("session.save_model_format", "ORT");
                using var session = new InferenceSession(onnxModel, options);
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
