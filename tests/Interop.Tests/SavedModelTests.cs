using Alerts.Onnx;
using Alerts.Interop.TfCheckpoint;
using Alerts.Interop.TfLite;
using Alerts.Tests.Shared;

namespace Alerts.Interop.Tests;

/// <summary>FINK's earlier fp32 t2 SavedModel: its checkpoint bundle read in C# and mapped onto the TFLite t2 architecture.</summary>
public class SavedModelTests
{
    private static string SavedModel => SharedData.Path("models", "fink-t2", "savedmodel");
    private static string TfLitePath => SharedData.Path("models", "fink-t2", "quantized-model-GR-noZ-28341-1654269564-0.5.1.dev73+g70f85f8-LL0.836.tflite");

    [SharedDataFact]
    public void The_checkpoint_bundle_yields_the_20_trainable_t2_tensors_with_their_TF_names_and_checksums()
    {
        var vars = TfCheckpointBundle.Read(Path.Combine(SavedModel, "variables"));
        Assert.Equal(20, vars.Count);
        Assert.Equal([1, 2, 32], vars["conv_embedding/conv1d/kernel"].Shape);
        Assert.Equal([32, 128], vars["dense_4/kernel"].Shape);
        Assert.Equal([32, 14], vars["dense_6/kernel"].Shape);
        // conv 64+32, attention 4×(1024+32), FF 4096+128 + 4096+32, layer norms 4×32, classifier 448+14
        Assert.Equal(96 + 4224 + 8352 + 128 + 462, vars.Values.Sum(v => v.Values.Length));
        Assert.All(vars.Values, v => Assert.All(v.Values, f => Assert.True(float.IsFinite(f))));
    }

    [SharedDataFact]
    public void A_flipped_byte_in_the_data_file_fails_the_CRC32C_check_naming_the_variable()
    {
        var dir = Directory.CreateTempSubdirectory("alerts-ckpt-");
        try
        {
            var src = Path.Combine(SavedModel, "variables");
            File.Copy(Path.Combine(src, "variables.index"), Path.Combine(dir.FullName, "variables.index"));
            var data = File.ReadAllBytes(Path.Combine(src, "variables.data-00000-of-00001"));
            data[100] ^= 0x40;   // inside classifier/kernel (offset 0, 1792 bytes)
            File.WriteAllBytes(Path.Combine(dir.FullName, "variables.data-00000-of-00001"), data);
            var e = Assert.Throws<InvalidDataException>(() => TfCheckpointBundle.Read(dir.FullName));
            Assert.Contains("classifier/kernel", e.Message);
            Assert.Contains("CRC32C", e.Message);
        }
        finally { dir.Delete(true); }
    }

    [SharedDataFact]
    public void The_SavedModel_imports_onto_the_TFLite_architecture_as_an_fp32_graph_giving_probabilities()
    {
        var import = TfLiteImporter.Import(TfLitePath, null, SavedModel);
        Assert.DoesNotContain(import.Notes, n => n.Contains("hybrid int8"));
        Assert.Contains(import.Notes, n => n.Contains("20 trainable tensors"));
        Assert.Contains("SavedModel", import.ModelCard);
        var x = Npy.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "fink-t2-inputs.npy"));
        var y = ReferenceCheck.Run(import.Onnx.ToBytes(), x.Floats!, x.Shape);
        for (int r = 0; r < x.Shape[0]; r++)
        {
            var row = y.AsSpan(r * 14, 14).ToArray();
            Assert.All(row, p => Assert.InRange(p, 0f, 1f));
            Assert.Equal(1.0, row.Sum(), 4);
        }
        // Different weights from the TFLite model: the two models disagree somewhere.
        var tflite = Npy.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "fink-t2-tflite-outputs.npy")).Floats!;
        Assert.True(y.Zip(tflite).Max(p => Math.Abs(p.First - p.Second)) > 0.01);
        Assert.Equal(import.Onnx.ToBytes(), TfLiteImporter.Import(TfLitePath, null, SavedModel).Onnx.ToBytes());
    }
}
