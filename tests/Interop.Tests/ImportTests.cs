using Alerts.Onnx;
using Alerts.Core;
using Alerts.Interop.TfLite;
using Alerts.Tests.Shared;
using CsCheck;
using static Alerts.Interop.Tests.Harness;

namespace Alerts.Interop.Tests;

public class ImportTests
{
    private const string FinkT2File = "quantized-model-GR-noZ-28341-1654269564-0.5.1.dev73+g70f85f8-LL0.836.tflite";
    private static string FinkT2Path => SharedData.Path("models", "fink-t2", FinkT2File);
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A small graph with a hybrid FC, a conv and shape glue: enough structure for the corruption tests.</summary>
    private static byte[] SmallModel()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [1, 4, 2], [-1, 4, 2]), axis = g.ConstInt("axis", [1]);
        int ex = g.Tensor("ex", TfLiteType.Float32, [1, 1, 4, 2], [-1, 1, 4, 2]);
        int f = g.ConstFloat("w", Random(8, 1), 4, 1, 1, 2), b = g.ConstFloat("b", Random(4, 2), 4);
        int conv = g.Tensor("conv", TfLiteType.Float32, [1, 1, 4, 4], [-1, 1, 4, 4]);
        int shape = g.ConstInt("shape", [-1, 4], 2), flat = g.Tensor("flat", TfLiteType.Float32, [4, 4], [-1, 4]);
        int wq = g.ConstInt8("wq", [.. Enumerable.Range(0, 12).Select(i => (sbyte)(i * 9 - 50))], [0.02f], 0, 3, 4);
        int y = g.Tensor("y", TfLiteType.Float32, [4, 3], [-1, 3]), p = g.Tensor("p", TfLiteType.Float32, [4, 3], [-1, 3]);
        g.Op(TfLiteOp.ExpandDims, [x, axis], [ex], OptionsType.ExpandDims);
        g.Op(TfLiteOp.Conv2D, [ex, f, b], [conv], OptionsType.Conv2D, new Opt.U8(0, 1), new Opt.I(1, 1), new Opt.I(2, 1), new Opt.U8(3, 1));
        g.Op(TfLiteOp.Reshape, [conv, shape], [flat], OptionsType.Reshape);
        g.Op(TfLiteOp.FullyConnected, [flat, wq, -1], [y], OptionsType.FullyConnected, new Opt.U8(0, 0), new Opt.B(3, true));
        g.Op(TfLiteOp.Softmax, [y], [p], OptionsType.Softmax, new Opt.F32(0, 1f));
        g.Io([x], [p]);
        return g.Build();
    }

    [Fact]
    public void The_small_model_runs_with_a_dynamic_batch()
    {
        var onnx = TfLiteToOnnx.Convert(TfLiteModel.Parse(SmallModel()));
        var y = ReferenceCheck.Run(onnx.ToBytes(), Random(3 * 8, 4), [3, 4, 2]);
        Assert.Equal(3 * 4 * 3, y.Length);
        for (int r = 0; r < 12; r++) Assert.Equal(1.0, y.Skip(3 * r).Take(3).Sum(), 5);
    }

    [Fact]
    public void Import_is_deterministic_byte_for_byte()
    {
        var model = SmallModel();
        var a = TfLiteToOnnx.Convert(TfLiteModel.Parse(model)).ToBytes();
        var b = TfLiteToOnnx.Convert(TfLiteModel.Parse(model.ToArray())).ToBytes();
        Assert.Equal(a, b);
    }

    [Fact]
    public void An_unknown_operator_is_named_in_the_error_with_its_index()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [4]), y = g.Tensor("y", TfLiteType.Float32, [4]), z = g.Tensor("z", TfLiteType.Float32, [4]);
        g.Op(TfLiteOp.Rsqrt, [x], [y]);
        g.Op(117, [y], [z]);   // HARD_SWISH
        g.Io([x], [z]);
        var e = Assert.Throws<NotSupportedException>(() => TfLiteToOnnx.Convert(TfLiteModel.Parse(g.Build())));
        Assert.Contains("HARD_SWISH (operator 1)", e.Message);
        Assert.Contains("Supported:", e.Message);
    }

    [Fact]
    public void A_custom_operator_is_named_with_its_custom_code()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [4]), y = g.Tensor("y", TfLiteType.Float32, [4]);
        g.Op(TfLiteOp.Custom, [x], [y]);
        g.Io([x], [y]);
        var e = Assert.Throws<NotSupportedException>(() => TfLiteToOnnx.Convert(TfLiteModel.Parse(g.Build())));
        Assert.Contains("CUSTOM(", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_flatbuffer_says_so()
    {
        var e = Assert.Throws<InvalidDataException>(() => TfLiteModel.Parse("PK\u0003\u0004 this is a zip"u8.ToArray()));
        Assert.Contains("TFL3", e.Message);
        Assert.Throws<InvalidDataException>(() => TfLiteModel.Parse(new byte[5]));
    }

    [Fact]
    public void Every_truncation_of_a_model_gives_a_clear_error_never_a_crash()
    {
        var model = SmallModel();
        for (int len = 0; len < model.Length; len++)
        {
            var e = Record.Exception(() => TfLiteToOnnx.Convert(TfLiteModel.Parse(model.AsMemory(0, len))));
            // A prefix may still parse (trailing bytes unused), but anything thrown must be a diagnosed error.
            if (e is not null) Assert.True(e is InvalidDataException or NotSupportedException, $"length {len}: {e.GetType().Name}: {e.Message}");
        }
    }

    [Fact]
    public void Random_byte_corruption_gives_a_clear_error_never_a_crash()
    {
        var model = SmallModel();
        Gen.Select(Gen.Int[0, model.Length - 1], Gen.Byte, Gen.Int[1, 4]).Sample((pos, value, count) =>
        {
            var bad = model.ToArray();
            for (int i = 0; i < count && pos + i < bad.Length; i++) bad[pos + i] ^= (byte)(value | 1);
            var e = Record.Exception(() => TfLiteToOnnx.Convert(TfLiteModel.Parse(bad)));
            return e is null or InvalidDataException or NotSupportedException;
        }, iter: 3000, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void A_tensor_whose_buffer_is_shorter_than_its_shape_is_reported_by_name()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [4]), c = g.Const("short_const", TfLiteType.Float32, new byte[8], [4]), y = g.Tensor("y", TfLiteType.Float32, [4]);
        g.Op(TfLiteOp.Add, [x, c], [y], OptionsType.Add, new Opt.U8(0, 0));
        g.Io([x], [y]);
        var e = Assert.Throws<InvalidDataException>(() => TfLiteToOnnx.Convert(TfLiteModel.Parse(g.Build())));
        Assert.Contains("short_const", e.Message);
        Assert.Contains("8 bytes", e.Message);
    }

    [Fact]
    public void Model_card_names_the_source_hash_the_T2_classes_in_order_and_the_recipe()
    {
        var path = Path.Combine(Path.GetTempPath(), $"alerts-interop-{Environment.ProcessId}.tflite");
        File.WriteAllBytes(path, SmallModel());
        try
        {
            var import = TfLiteImporter.Import(path);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
            Assert.Equal(sha, import.SourceSha256);
            Assert.Contains(sha, import.ModelCard);
            int last = -1;
            foreach (var name in T2Classes.Names)
            {
                int at = import.ModelCard.IndexOf($". {name}\n", StringComparison.Ordinal);
                Assert.True(at > last, $"class {name} out of T2_COLS order in the card");
                last = at;
            }
            Assert.Contains("FLUXCAL", import.ModelCard);
            Assert.Contains("(ztfg, ztfr)", import.ModelCard);
            Assert.Contains(import.Onnx.Proto.MetadataProps, p => p.Key == "alerts.preprocessing" && p.Value == "fink-t2");
        }
        finally { File.Delete(path); }
    }

    // ---- FINK's published t2 (read from ../shared; never copied into the repository) ----

    [SharedDataFact]
    public void FINK_t2_imports_every_operator_and_drops_the_unread_clustering_variable()
    {
        var model = TfLiteModel.Load(FinkT2Path);
        Assert.Equal(97, model.Main.Operators.Count);
        Assert.Empty(TfLiteToOnnx.UnsupportedOperators(model));
        var onnx = TfLiteToOnnx.Convert(model, null, out var notes);
        Assert.Contains(notes, n => n.Contains("pulling_indices") && n.Contains("dropped"));
        Assert.Equal(6, notes.Count(n => n.Contains("hybrid int8") && n.Contains("asymmetric")));
        Assert.Equal("batch", onnx.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
    }

    [SharedDataFact]
    public void FINK_t2_import_is_deterministic()
    {
        var a = TfLiteImporter.Import(FinkT2Path);
        var b = TfLiteImporter.Import(FinkT2Path);
        Assert.Equal(a.Onnx.ToBytes(), b.Onnx.ToBytes());
        Assert.Equal(a.ModelCard, b.ModelCard);
    }

    [SharedDataFact]
    public void FINK_t2_imported_matches_TFLites_own_outputs_within_1e_4_per_probability()
    {
        // The fixture holds our own inputs (simulated light curves through fink-t2, random and edge tensors) and the
        // probabilities TFLite's WASM runtime computed for them (tools/tflite-referee/make_fixture.sh).
        Assert.Equal(File.ReadAllText(Fixture("fink-t2-model.sha256")).Trim(), TfLiteImporter.Import(FinkT2Path).SourceSha256);
        var import = TfLiteImporter.Import(FinkT2Path);
        var cmp = ReferenceCheck.Compare(import.Onnx.ToBytes(), Npy.Read(Fixture("fink-t2-inputs.npy")), Npy.Read(Fixture("fink-t2-tflite-outputs.npy")));
        Assert.Equal(300, cmp.Rows);
        Assert.True(cmp.Within(1e-4), $"max |Δp| {cmp.MaxAbsDiff:E3} at row {cmp.WorstRow}");
        Assert.Equal(cmp.Rows, cmp.ArgmaxAgreements);
    }

    [SharedDataFact]
    public void FINK_t2_with_dequantized_weights_is_visibly_not_what_TFLite_computes()
    {
        // Why the importer reproduces the hybrid kernel: float weights alone miss TFLite's input rounding.
        var import = TfLiteImporter.Import(FinkT2Path, new TfLiteImportOptions { Hybrid = HybridArithmetic.DequantizedWeights });
        var cmp = ReferenceCheck.Compare(import.Onnx.ToBytes(), Npy.Read(Fixture("fink-t2-inputs.npy")), Npy.Read(Fixture("fink-t2-tflite-outputs.npy")));
        Assert.True(cmp.MaxAbsDiff > 1e-3, $"max |Δp| {cmp.MaxAbsDiff:E3}");
    }

    [SharedDataFact]
    public void FINK_t2_truncated_at_any_of_200_points_gives_a_clear_error()
    {
        var bytes = File.ReadAllBytes(FinkT2Path);
        for (int k = 0; k < 200; k++)
        {
            int len = (int)((long)bytes.Length * k / 200);
            var e = Record.Exception(() => TfLiteToOnnx.Convert(TfLiteModel.Parse(bytes.AsMemory(0, len))));
            Assert.True(e is InvalidDataException or NotSupportedException, $"length {len}: {e?.GetType().Name}: {e?.Message}");
        }
    }
}
