using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;

namespace Alerts.Compression.Passes;

/// <summary>
/// Training-free structured pruning of t2's encoder blocks (after SliceGPT / MoDeGPT: rank by calibration
/// importance, remove, then re-fit the next projection by least squares; no back-propagation).
/// <list type="bullet">
/// <item>Attention heads: importance of head h = Σ ||A_h W_o[h]||² over calibration rows (its contribution to the
/// o-projection). The q/k/v columns and o rows of removed heads are sliced away, the Reshape targets
/// [-1, T, H, Dh] / [-1, T, H·Dh] shrink, and W_o, b_o are re-fitted so A' W_o' + b_o' ≈ A W_o + b_o.</item>
/// <item>Feed-forward neurons: importance of neuron j = Σ relu_j² · ||W_2[j]||². ff1 columns and ff2 rows are sliced
/// away and W_2, b_2 re-fitted the same way.</item>
/// </list>
/// Shapes really shrink, so ORT does less work (unlike unstructured sparsity).
/// </summary>
public sealed class StructuredPruningPass(int keepHeads, int keepNeurons, double ridge = 1e-3, bool refit = true) : ICompressionPass
{
    public string Name => $"prune-struct-h{keepHeads}-ff{keepNeurons}" + (refit ? "" : "-norefit");

    private sealed record AttentionBlock(NodeProto[] QkvMatMul, string[] QkvBias, NodeProto[] QkvReshape, NodeProto OutReshape, NodeProto OMatMul, string OBias, int Heads, int HeadDim);
    private sealed record FeedForward(NodeProto Ff1MatMul, string Ff1Bias, NodeProto Relu, NodeProto Ff2MatMul, string Ff2Bias);

    /// <summary>The largest attention head count among the graph's t2 attention blocks, or null when it has none.</summary>
    public static int? HeadCount(OnnxModel model)
    {
        var blocks = FindAttention(model);
        return blocks.Count == 0 ? null : blocks.Max(b => b.Heads);
    }

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        if (calibration is null) throw new ArgumentException("structured pruning ranks and re-fits on calibration data (--data provides it).");
        var model = source.Clone();
        var blocks = FindAttention(model);
        var ffs = FindFeedForward(model);
        if (blocks.Count == 0 && ffs.Count == 0) throw new InvalidOperationException("structured pruning found no t2 attention or feed-forward block in the graph");
        var names = blocks.Select(b => b.OMatMul.Input[0]).Concat(ffs.Select(f => f.Relu.Output[0])).ToList();
        var acts = OrtModelRunner.CaptureActivations(model, calibration, names);

        foreach (var b in blocks) PruneHeads(model, b, acts[b.OMatMul.Input[0]].Data);
        foreach (var f in ffs) PruneNeurons(model, f, acts[f.Relu.Output[0]].Data);
        model.RemoveUnusedInitializers();
        return model;
    }

    private void PruneHeads(OnnxModel model, AttentionBlock b, float[] a)
    {
        int h = b.Heads, dh = b.HeadDim, d = h * dh;
        if (keepHeads >= h) return;
        if (keepHeads < 1) throw new ArgumentOutOfRangeException(nameof(keepHeads), "keep at least one head");
        var wo = Tensors.ToFloats(model.Initializer(b.OMatMul.Input[1])!);
        var bo = Tensors.ToFloats(model.Initializer(b.OBias)!);
        int n = (int)Tensors.Shape(model.Initializer(b.OMatMul.Input[1])!)[1];
        int rows = a.Length / d;
        var importance = new double[h];
        var y = new double[n];
        for (int r = 0; r < rows; r++)
            for (int head = 0; head < h; head++)
            {
                Array.Clear(y);
                for (int j = 0; j < dh; j++)
                {
                    double v = a[r * d + head * dh + j];
                    for (int c = 0; c < n; c++) y[c] += v * wo[(head * dh + j) * n + c];
                }
                for (int c = 0; c < n; c++) importance[head] += y[c] * y[c];
            }
        var kept = Enumerable.Range(0, h).OrderByDescending(i => importance[i]).ThenBy(i => i).Take(keepHeads).Order().ToArray();
        var cols = kept.SelectMany(k => Enumerable.Range(k * dh, dh)).ToArray();

        for (int i = 0; i < 3; i++)
        {
            var w = model.Initializer(b.QkvMatMul[i].Input[1])!;
            int k = (int)w.Dims[0];
            model.SetInitializer(Tensors.FromFloats(w.Name, SliceColumns(Tensors.ToFloats(w), k, d, cols), k, cols.Length));
            model.SetInitializer(Tensors.FromFloats(b.QkvBias[i], cols.Select(c => Tensors.ToFloats(model.Initializer(b.QkvBias[i])!)[c]).ToArray(), cols.Length));
            SetReshapeTarget(model, b.QkvReshape[i], 2, keepHeads);
        }
        SetReshapeTarget(model, b.OutReshape, 2, cols.Length);
        var (w2, b2) = Refit(a, rows, d, cols, wo, bo, n);
        model.SetInitializer(Tensors.FromFloats(b.OMatMul.Input[1], w2, cols.Length, n));
        model.SetInitializer(Tensors.FromFloats(b.OBias, b2, n));
    }

    private void PruneNeurons(OnnxModel model, FeedForward f, float[] r)
    {
        var w1t = model.Initializer(f.Ff1MatMul.Input[1])!;
        int k = (int)w1t.Dims[0], m = (int)w1t.Dims[1];
        if (keepNeurons >= m) return;
        if (keepNeurons < 1) throw new ArgumentOutOfRangeException(nameof(keepNeurons), "keep at least one neuron");
        var w2 = Tensors.ToFloats(model.Initializer(f.Ff2MatMul.Input[1])!);
        var b2 = Tensors.ToFloats(model.Initializer(f.Ff2Bias)!);
        int n = w2.Length / m, rows = r.Length / m;
        var importance = new double[m];
        for (int j = 0; j < m; j++)
        {
            double act = 0, norm = 0;
            for (int row = 0; row < rows; row++) { double v = r[row * m + j]; act += v * v; }
            for (int c = 0; c < n; c++) norm += (double)w2[j * n + c] * w2[j * n + c];
            importance[j] = act * norm;
        }
        var cols = Enumerable.Range(0, m).OrderByDescending(j => importance[j]).ThenBy(j => j).Take(keepNeurons).Order().ToArray();
        model.SetInitializer(Tensors.FromFloats(w1t.Name, SliceColumns(Tensors.ToFloats(w1t), k, m, cols), k, cols.Length));
        var b1 = Tensors.ToFloats(model.Initializer(f.Ff1Bias)!);
        model.SetInitializer(Tensors.FromFloats(f.Ff1Bias, cols.Select(c => b1[c]).ToArray(), cols.Length));
        var (nw2, nb2) = Refit(r, rows, m, cols, w2, b2, n);
        model.SetInitializer(Tensors.FromFloats(f.Ff2MatMul.Input[1], nw2, cols.Length, n));
        model.SetInitializer(Tensors.FromFloats(f.Ff2Bias, nb2, n));
    }

    /// <summary>
    /// Least squares: find W' [|cols| x n], b' so that X[:, cols] W' + b' ≈ X W + b over the calibration rows
    /// (ridge <c>λ·mean(diag)</c> keeps it well posed). Solved by Cholesky on the normal equations.
    /// </summary>
    private (float[] W, float[] B) Refit(float[] x, int rows, int d, int[] cols, float[] w, float[] b, int n)
    {
        if (!refit)
        {
            var sliced = new float[cols.Length * n];
            for (int i = 0; i < cols.Length; i++) Array.Copy(w, cols[i] * n, sliced, i * n, n);
            return (sliced, (float[])b.Clone());
        }
        int k = cols.Length + 1; // + bias column of ones
        var gram = new double[k, k];
        var rhs = new double[k, n];
        var xr = new double[k];
        var target = new double[n];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < cols.Length; i++) xr[i] = x[r * d + cols[i]];
            xr[k - 1] = 1;
            for (int c = 0; c < n; c++)
            {
                double t = b[c];
                for (int i = 0; i < d; i++) { double v = x[r * d + i]; if (v != 0) t += v * w[i * n + c]; }
                target[c] = t;
            }
            for (int i = 0; i < k; i++)
            {
                double xi = xr[i];
                if (xi == 0) continue;
                for (int j = i; j < k; j++) gram[i, j] += xi * xr[j];
                for (int c = 0; c < n; c++) rhs[i, c] += xi * target[c];
            }
        }
        double mean = 0;
        for (int i = 0; i < k; i++) { for (int j = 0; j < i; j++) gram[i, j] = gram[j, i]; mean += gram[i, i]; }
        mean = Math.Max(mean / k, 1e-12);
        for (int i = 0; i < k - 1; i++) gram[i, i] += ridge * mean; // the bias is not regularised
        gram[k - 1, k - 1] += 1e-9 * mean;
        var sol = LinearAlgebra.SolveSpd(gram, rhs);
        var nw = new float[cols.Length * n];
        var nb = new float[n];
        for (int i = 0; i < cols.Length; i++) for (int c = 0; c < n; c++) nw[i * n + c] = (float)sol[i, c];
        for (int c = 0; c < n; c++) nb[c] = (float)sol[k - 1, c];
        return (nw, nb);
    }

    private static float[] SliceColumns(float[] w, int rows, int width, int[] cols)
    {
        var r = new float[rows * cols.Length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols.Length; j++) r[i * cols.Length + j] = w[i * width + cols[j]];
        return r;
    }

    private static void SetReshapeTarget(OnnxModel model, NodeProto reshape, int axis, long value)
    {
        var target = Tensors.ToInt64s(model.ConstantValue(reshape.Input[1])!);
        target[axis] = value;
        string name = model.UniqueName(reshape.Name.TrimStart('/').Replace('/', '_') + "_shape");
        model.SetInitializer(Tensors.FromInt64s(name, target, target.Length));
        reshape.Input[1] = name;
    }

    // ---- pattern matching on the exported t2 graph ----

    private static NodeProto? Expect(OnnxModel m, string value, string opType) => m.Producer(value) is { } p && p.OpType == opType ? p : null;

    /// <summary>Non-constant input of a node (bias Adds in torch exports have the bias first).</summary>
    private static string DataInput(OnnxModel m, NodeProto n) => n.Input.First(i => m.ConstantValue(i) is null);
    private static string ConstInput(OnnxModel m, NodeProto n) => n.Input.First(i => m.IsInitializer(i));

    /// <summary>Walks Transpose ← Reshape ← Add(bias) ← MatMul(W) upward from a projected head tensor.</summary>
    private static (NodeProto MatMul, string Bias, NodeProto Reshape)? Projection(OnnxModel m, string value)
    {
        var t = Expect(m, value, "Transpose"); if (t is null) return null;
        var r = Expect(m, t.Input[0], "Reshape"); if (r is null || m.ConstantValue(r.Input[1]) is null) return null;
        var add = Expect(m, r.Input[0], "Add"); if (add is null || !add.Input.Any(m.IsInitializer)) return null;
        var mm = Expect(m, DataInput(m, add), "MatMul"); if (mm is null || !m.IsInitializer(mm.Input[1])) return null;
        return (mm, ConstInput(m, add), r);
    }

    private static List<AttentionBlock> FindAttention(OnnxModel m)
    {
        var list = new List<AttentionBlock>();
        foreach (var sm in m.NodesOfType("Softmax").ToList())
        {
            var av = m.Consumers(sm.Output[0]).FirstOrDefault(c => c.OpType == "MatMul" && c.Input[0] == sm.Output[0]);
            if (av is null) continue;
            var scale = Expect(m, sm.Input[0], "Mul");
            var qk = scale is null ? Expect(m, sm.Input[0], "MatMul") : Expect(m, DataInput(m, scale), "MatMul");
            if (qk is null) continue;
            var q = Projection(m, qk.Input[0]); var k = Projection(m, qk.Input[1]); var v = Projection(m, av.Input[1]);
            if (q is null || k is null || v is null) continue;
            var t = m.Consumers(av.Output[0]).FirstOrDefault(c => c.OpType == "Transpose");
            var outReshape = t is null ? null : m.Consumers(t.Output[0]).FirstOrDefault(c => c.OpType == "Reshape");
            var o = outReshape is null ? null : m.Consumers(outReshape.Output[0]).FirstOrDefault(c => c.OpType == "MatMul" && m.IsInitializer(c.Input[1]));
            var oAdd = o is null ? null : m.Consumers(o.Output[0]).FirstOrDefault(c => c.OpType == "Add" && c.Input.Any(m.IsInitializer));
            if (o is null || oAdd is null || outReshape is null) continue;
            var shape = Tensors.ToInt64s(m.ConstantValue(q.Value.Reshape.Input[1])!);
            if (shape.Length != 4) continue;
            list.Add(new AttentionBlock([q.Value.MatMul, k.Value.MatMul, v.Value.MatMul], [q.Value.Bias, k.Value.Bias, v.Value.Bias],
                [q.Value.Reshape, k.Value.Reshape, v.Value.Reshape], outReshape, o, ConstInput(m, oAdd), (int)shape[2], (int)shape[3]));
        }
        return list;
    }

    private static List<FeedForward> FindFeedForward(OnnxModel m)
    {
        var list = new List<FeedForward>();
        foreach (var relu in m.NodesOfType("Relu").ToList())
        {
            var add = Expect(m, relu.Input[0], "Add"); if (add is null || !add.Input.Any(m.IsInitializer)) continue;
            var mm1 = Expect(m, DataInput(m, add), "MatMul"); if (mm1 is null || !m.IsInitializer(mm1.Input[1])) continue;
            var mm2 = m.Consumers(relu.Output[0]).SingleOrDefault(c => c.OpType == "MatMul" && m.IsInitializer(c.Input[1]));
            var add2 = mm2 is null ? null : m.Consumers(mm2.Output[0]).FirstOrDefault(c => c.OpType == "Add" && c.Input.Any(m.IsInitializer));
            if (mm2 is null || add2 is null) continue;
            list.Add(new FeedForward(mm1, ConstInput(m, add), relu, mm2, ConstInput(m, add2)));
        }
        return list;
    }
}
