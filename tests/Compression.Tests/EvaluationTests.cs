using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using CsCheck;

namespace Alerts.Compression.Tests;

public class EvaluationTests
{
    [Fact]
    public void Npy_round_trips_float32_and_int64_arrays_of_any_shape()
    {
        Gen.Select(Gen.Int[1, 5], Gen.Int[1, 7], Gen.Int[1, 3]).Sample((a, b, c) =>
        {
            var data = Enumerable.Range(0, a * b * c).Select(i => i * 0.5f - 3).ToArray();
            using var ms = new MemoryStream();
            Npy.Write(ms, data, a, b, c);
            ms.Position = 0;
            var r = Npy.Read(ms, "mem");
            Assert.Equal(new[] { a, b, c }, r.Shape);
            Assert.Equal(data, r.Floats);
            var longs = Enumerable.Range(0, a).Select(i => (long)i * 1_000_000_000L).ToArray();
            using var ms2 = new MemoryStream();
            Npy.Write(ms2, longs, a);
            ms2.Position = 0;
            Assert.Equal(longs, Npy.Read(ms2, "mem").Longs);
        });
    }

    [Fact]
    public void Reads_numpy_written_npz_fixture()
    {
        var set = LabelledSet.Load(Fixtures.Path("eval.npz"));
        Assert.Equal(384, set.Count);
        Assert.Equal(100, set.Steps);
        Assert.Equal(2, set.Bands);
        Assert.All(set.Labels, l => Assert.InRange(l, 0, 13));
    }

    [Fact]
    public void Loads_the_alerts_features_npz_layout_with_capital_X_and_string_members()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"features-{Guid.NewGuid():N}.npz");
        try
        {
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
            {
                using (var s = zip.CreateEntry("X.npy").Open()) Npy.Write(s, Enumerable.Range(0, 3 * 100 * 2).Select(i => (float)i).ToArray(), 3, 100, 2);
                using (var s = zip.CreateEntry("y.npy").Open()) Npy.Write(s, new long[] { 11, 3, 7 }, 3);
                using (var s = zip.CreateEntry("ids.npy").Open())
                {
                    // a '<U4' string array, as numpy and the classifier's NumpyArchive write it
                    var header = "{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }";
                    header += new string(' ', (64 - (10 + header.Length + 1) % 64) % 64) + "\n";
                    s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
                    s.Write(BitConverter.GetBytes((ushort)header.Length));
                    s.Write(System.Text.Encoding.Latin1.GetBytes(header));
                    s.Write(new byte[16]);
                }
            }
            var set = LabelledSet.Load(path);
            Assert.Equal(3, set.Count);
            Assert.Equal(new long[] { 11, 3, 7 }, set.Labels);
            Assert.Equal(200f, set.Row(1)[0]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Rejects_non_npy_bytes_with_a_message_naming_the_fix()
    {
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream("not numpy at all"u8.ToArray()), "x.npy"));
        Assert.Contains("numpy.save", e.Message);
    }

    [Fact]
    public void Perfect_predictions_score_accuracy_1_f1_1_and_near_zero_log_loss()
    {
        var labels = new long[] { 0, 1, 7, 13, 7 };
        var p = new float[labels.Length * 14];
        for (int i = 0; i < labels.Length; i++) p[i * 14 + labels[i]] = 1;
        var m = Metrics.Compute(p, labels);
        Assert.Equal(1.0, m.Accuracy);
        Assert.Equal(1.0, m.MacroF1);
        Assert.InRange(m.WeightedLogLoss, 0, 1e-9);
    }

    [Fact]
    public void Uniform_predictions_have_log_loss_ln14_and_weighted_classes_count_double()
    {
        var p = Enumerable.Repeat(1f / 14, 2 * 14).ToArray();
        Assert.Equal(Math.Log(14), Metrics.Compute(p, new long[] { 3, 7 }).WeightedLogLoss, 6);
        // KN (index 7) weight 2, SNII (3) weight 1: loss = (1*l3 + 2*l7)/3
        var q = new float[2 * 14];
        q[3] = 0.5f; q[4] = 0.5f;           // row 0, true SNII: p = 0.5
        q[14 + 7] = 0.25f; q[14 + 0] = 0.75f; // row 1, true KN: p = 0.25 (predicted wrong)
        var m = Metrics.Compute(q, new long[] { 3, 7 });
        Assert.Equal((-Math.Log(0.5) + 2 * -Math.Log(0.25)) / 3, m.WeightedLogLoss, 5);
        Assert.Equal(0.5, m.Accuracy);
        Assert.Equal(2.0, Metrics.ClassWeight(Core.T2Classes.IndexOf("TDE")));
    }

    [Fact]
    public void Gate_family_scores_count_SN_Ia_subtypes_as_SN_Ia_and_are_NaN_without_supernova_rows()
    {
        int ia = Core.T2Classes.IndexOf("SNIa"), iax = Core.T2Classes.IndexOf("SNIax"), ii = Core.T2Classes.IndexOf("SNII"), agn = Core.T2Classes.IndexOf("AGN");
        // true Ia predicted Iax (right family), true Ia predicted Ia, true II predicted Ia (wrong), true II predicted II.
        var labels = new long[] { ia, ia, ii, ii };
        var preds = new[] { iax, ia, ia, ii };
        var p = new float[4 * 14];
        for (int i = 0; i < 4; i++) p[i * 14 + preds[i]] = 1;
        var m = Metrics.Compute(p, labels);
        Assert.Equal(4, m.FamilyRows);
        Assert.Equal((1.0 + 0.5) / 2, m.SnIaBalancedAccuracy, 9);          // Ia recall 2/2, non-Ia recall 1/2
        Assert.Equal((0.8 + 2.0 / 3) / 2, m.FamilyMacroF1, 9);              // SN Ia P 2/3 R 1; SN II P 1 R 1/2
        Assert.Equal(0.5, m.Accuracy, 9);                                   // 14 classes: the Iax row counts as wrong

        var q = new float[14];
        q[agn] = 1;
        var none = Metrics.Compute(q, new long[] { agn });
        Assert.Equal(0, none.FamilyRows);
        Assert.True(double.IsNaN(none.SnIaBalancedAccuracy) && double.IsNaN(none.FamilyMacroF1));
    }

    [Fact]
    public void Macro_f1_matches_a_hand_computed_confusion()
    {
        // labels 0,0,1,1 ; predictions 0,1,1,1 -> class0 P=1 R=.5 F1=2/3 ; class1 P=2/3 R=1 F1=.8
        var labels = new long[] { 0, 0, 1, 1 };
        var preds = new[] { 0, 1, 1, 1 };
        var p = new float[4 * 14];
        for (int i = 0; i < 4; i++) p[i * 14 + preds[i]] = 1;
        Assert.Equal((2.0 / 3 + 0.8) / 2, Metrics.Compute(p, labels).MacroF1, 9);
    }

    [Fact]
    public void Ort_format_round_trip_gives_identical_outputs_and_loads_with_load_model_format()
    {
        var onnx = File.ReadAllBytes(Fixtures.TrainedModel);
        var ort = OrtFormat.SaveOptimized(onnx, ModelFormat.Ort);
        Assert.Equal("ORTM", System.Text.Encoding.ASCII.GetString(ort, 4, 4)); // flatbuffer file identifier
        using var a = new OrtModelRunner(onnx);
        using var b = new OrtModelRunner(ort, ModelFormat.Ort);
        var data = Fixtures.Eval.Take(32);
        Assert.True(Fixtures.MaxAbsDiff(a.Predict(data), b.Predict(data)) < 1e-5);
        Assert.Equal(ort.Length, OrtFormat.SaveOptimized(onnx, ModelFormat.Ort).Length); // bytes vary per session, size does not
    }
}
