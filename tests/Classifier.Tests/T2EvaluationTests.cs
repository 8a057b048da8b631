using Alerts.Core;

namespace Alerts.Classifier.Tests;

public class T2EvaluationTests
{
    private static float[] OneHotish(int c, float p)
    {
        var v = new float[14];
        for (int i = 0; i < 14; i++) v[i] = (1 - p) / 13f;
        v[c] = p;
        return v;
    }

    [Fact]
    public void Metrics_MatchAHandComputedExample()
    {
        int ia = T2Classes.IndexOf("SNIa"), ii = T2Classes.IndexOf("SNII"), tde = T2Classes.IndexOf("TDE");
        var ev = new T2Evaluation();
        ev.Add(ia, OneHotish(ia, 0.9f));   // right
        ev.Add(ia, OneHotish(ia, 0.6f));   // right
        ev.Add(ia, OneHotish(ii, 0.7f));   // wrong: predicted II
        ev.Add(ii, OneHotish(ii, 0.8f));   // right
        ev.Add(tde, OneHotish(ia, 0.5f));  // wrong: predicted Ia
        Assert.Equal(3.0 / 5, ev.Accuracy, 12);
        var pc = ev.PerClass();
        Assert.Equal(2.0 / 3, pc[ia].Accuracy, 12);
        Assert.Equal(2.0 / 3, pc[ia].Precision, 12);        // predicted Ia: 3, correct 2
        Assert.Equal(0.5, pc[ii].Precision, 12);            // predicted II: 2, correct 1
        Assert.Equal(0.0, pc[tde].F1, 12);
        double f1Ia = 2.0 / 3, f1II = 2 * 0.5 * 1 / 1.5;
        Assert.Equal((f1Ia + f1II + 0) / 3, ev.MacroF1, 12);
        // Weighted log-loss: per class mean of −ln p_true, weights Ia 1, II 1, TDE 2.
        double lIa = -(Math.Log(0.9) + Math.Log(0.6) + Math.Log(0.3 / 13)) / 3;
        double lII = -Math.Log(0.8);
        double lTde = -Math.Log(0.5 / 13);
        Assert.Equal((lIa + lII + 2 * lTde) / 4, ev.WeightedLogLoss, 5);
    }

    [Fact]
    public void LogLoss_ClipsZeroProbabilities()
    {
        var ev = new T2Evaluation();
        var p = new float[14]; p[0] = 1;
        ev.Add(1, p);
        Assert.Equal(-Math.Log(1e-15), ev.WeightedLogLoss, 3);
    }

    [Theory]
    [InlineData("SN Ia", "SNIa")]
    [InlineData("SN Ia-91T", "SNIa")]
    [InlineData("SN Ia-91bg", "SNIa-91bg")]
    [InlineData("SN Iax", "SNIax")]
    [InlineData("SN IIP", "SNII")]
    [InlineData("SN IIn", "SNII")]
    [InlineData("SN Ic-BL", "SNIbc")]
    [InlineData("SLSN-I", "SLSN-I")]
    [InlineData("TDE", "TDE")]
    [InlineData("SLSN-II", null)]
    [InlineData("nova", null)]
    public void BtsTypes_MapOntoT2Classes(string bts, string? t2) => Assert.Equal(t2, BtsLabelledSet.MapType(bts));

    [Fact]
    public void NpyHeader_IsAlignedAndDescribesTheArray()
    {
        using var ms = new MemoryStream();
        NumpyArchive.WriteNpy(ms, new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var bytes = ms.ToArray();
        int headerLen = bytes[8] | bytes[9] << 8;
        Assert.Equal(0, (10 + headerLen) % 64);
        var header = System.Text.Encoding.ASCII.GetString(bytes, 10, headerLen);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'shape': (2, 3)", header);
        Assert.Equal(10 + headerLen + 24, bytes.Length);
        Assert.Equal(6f, BitConverter.ToSingle(bytes, 10 + headerLen + 20));
    }
}
