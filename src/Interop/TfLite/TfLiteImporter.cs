using System.Security.Cryptography;
using System.Text;
using Alerts.Onnx;
using Alerts.Core;

namespace Alerts.Interop.TfLite;

/// <summary>The result of importing a .tflite file: the ONNX model, its model card (markdown) and what the import did.</summary>
public sealed record TfLiteImport(OnnxModel Onnx, string ModelCard, string SourceSha256, IReadOnlyList<string> Notes, IReadOnlyDictionary<string, int> OperatorCounts);

/// <summary>
/// <c>alerts import-tflite</c> behind the command: parse, convert, and describe. The card records the source hash,
/// the classes in FINK's T2_COLS order and the input recipe, so an imported model cannot lose its provenance.
/// </summary>
public static class TfLiteImporter
{
    /// <summary>FINK's input recipe for its ZTF t2 (fink-science t2 module + astronet), as our <c>fink-t2</c> preset reproduces it.</summary>
    public const string FinkInputRecipe =
        "Detections (candidate + prv_candidates with magpsf) -> FLUXCAL = 10^(-0.4 (mag - 27.5)) with propagated error; " +
        "bands ztfg (fid 1), ztfr (fid 2), both required; time relative to the first point; 2-D GP (Matern-3/2, " +
        "wavelength scale 6000 A fixed, time scale starting at 20 d, L-BFGS-B; ztfg 4804.79 A, ztfr 6436.92 A); mean on " +
        "100 steps first..last point; RobustScaler per object and band; input [batch, 100, 2] with columns (ztfg, ztfr). " +
        "FINK took the columns in Python-set order (not fixed between processes); we use (ztfg, ztfr). FINK computed " +
        "times as jd[0] - jd (negative, reversed); astronet trained with forward time. Preprocessing preset: fink-t2.";

    /// <param name="savedModelDirectory">When set, the weights come from this SavedModel's variables/ (fp32 t2) and the .tflite supplies only the architecture.</param>
    public static TfLiteImport Import(string path, TfLiteImportOptions? options = null, string? savedModelDirectory = null)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InvalidDataException($"{path}: cannot read ({e.Message})", e); }
        TfLiteModel model;
        try { model = TfLiteModel.Parse(bytes); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        options ??= new TfLiteImportOptions();
        var preNotes = new List<string>();
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (savedModelDirectory is not null)
        {
            string vars = Path.Combine(savedModelDirectory, "variables");
            var variables = TfCheckpoint.TfCheckpointBundle.Read(vars);
            model = TfCheckpoint.SavedModelWeights.Apply(model, variables, preNotes);
            using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            h.AppendData(File.ReadAllBytes(Path.Combine(vars, "variables.index")));
            h.AppendData(File.ReadAllBytes(Path.Combine(vars, "variables.data-00000-of-00001")));
            string weightsSha = Convert.ToHexStringLower(h.GetHashAndReset());
            preNotes.Insert(0, $"weights: SavedModel {Path.GetFullPath(savedModelDirectory)} (sha256 of variables.index + variables.data: {weightsSha}); architecture: {Path.GetFileName(path)} (sha256 {sha})");
            sha = weightsSha;
        }
        OnnxModel onnx;
        List<string> notes;
        try { onnx = TfLiteToOnnx.Convert(model, options, out notes); }
        catch (Exception e) when (e is NotSupportedException or InvalidDataException) { throw new NotSupportedException($"{path}: {e.Message}", e); }
        notes.InsertRange(0, preNotes);
        var counts = model.Main.Operators.GroupBy(o => o.OpName).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        onnx.Proto.DocString = $"Imported from {Path.GetFileName(path)} (sha256 {sha}) by alerts import-tflite; classes in FINK T2_COLS order: {string.Join(", ", T2Classes.Names)}";
        AddMetadata(onnx, "source_file", Path.GetFileName(path));
        AddMetadata(onnx, "source_sha256", sha);
        AddMetadata(onnx, "classes", string.Join(",", T2Classes.Names));
        AddMetadata(onnx, "hybrid_arithmetic", options.Hybrid.ToString());
        AddMetadata(onnx, "alerts.preprocessing", options.PreprocessingPreset);
        string card = Card(path, bytes.Length, sha, model, onnx, options, notes, counts);
        return new TfLiteImport(onnx, card, sha, notes, counts);
    }

    private static void AddMetadata(OnnxModel m, string key, string value) =>
        m.Proto.MetadataProps.Add(new Alerts.Onnx.Proto.StringStringEntryProto { Key = key, Value = value });

    private static string Card(string path, int size, string sha, TfLiteModel model, OnnxModel onnx, TfLiteImportOptions options, List<string> notes, Dictionary<string, int> counts)
    {
        var main = model.Main;
        var input = main.Tensors[main.Inputs[0]];
        var output = main.Tensors[main.Outputs[0]];
        var sb = new StringBuilder();
        sb.AppendLine($"# Model card: {Path.GetFileName(path)} (imported)");
        sb.AppendLine();
        sb.AppendLine("## Source");
        sb.AppendLine($"- file: `{Path.GetFileName(path)}`, {size:N0} bytes");
        sb.AppendLine($"- sha256: `{sha}`");
        sb.AppendLine($"- TFLite schema version {model.Version}; {model.Subgraphs.Count} subgraph(s); main subgraph '{main.Name}' has {main.Operators.Count} operators");
        sb.AppendLine($"- input `{input.Name}` {input.Type}[{string.Join(", ", input.DeclaredShape)}] -> ONNX `{options.InputName}` [batch, {string.Join(", ", input.DeclaredShape.Skip(1))}]");
        sb.AppendLine($"- output `{output.Name}` {output.Type}[{string.Join(", ", output.DeclaredShape)}] -> ONNX `{options.OutputName}` (softmax probabilities)");
        sb.AppendLine($"- operators: {string.Join(", ", counts.Select(kv => $"{kv.Key} x{kv.Value}"))}");
        sb.AppendLine();
        sb.AppendLine("## Classes (output order, FINK `T2_COLS`)");
        for (int i = 0; i < T2Classes.Names.Length; i++) sb.AppendLine($"{i}. {T2Classes.Names[i]}");
        sb.AppendLine();
        sb.AppendLine("## Input recipe");
        sb.AppendLine(FinkInputRecipe);
        sb.AppendLine();
        sb.AppendLine($"This ONNX file applies preset `{options.PreprocessingPreset}` (metadata `alerts.preprocessing`).");
        sb.AppendLine();
        sb.AppendLine("## Conversion");
        sb.AppendLine($"- ONNX opset {TfLiteToOnnx.Opset}, {onnx.Graph.Node.Count} nodes, {onnx.ParameterCount():N0} constant elements; batch dimension dynamic");
        sb.AppendLine($"- hybrid FULLY_CONNECTED arithmetic: {options.Hybrid} ({(options.Hybrid == HybridArithmetic.TfLiteKernel ? "reproduces TFLite's dynamic int8 input quantization, as FINK ran it" : "int8 weights dequantized to float, no input rounding: the model as trained, not as FINK ran it")})");
        foreach (var n in notes) sb.AppendLine($"- {n}");
        return sb.ToString();
    }
}
