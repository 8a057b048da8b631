using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;
using Alerts.OrtKernels;

namespace Alerts.Compression.Passes;

/// <summary>
/// Exact layout rewrites of t2's torch-exported graph that make ORT's CPU kernels do less work for the same result
/// (no weight changes beyond concatenation and a constant add; outputs equal to float rounding):
/// <list type="bullet">
/// <item><b>P·V as Vᵀ·Pᵀ</b>: the attention output MatMul(P [B,H,T,T], V [B,H,T,dh]) has an output width of dh = 2,
/// which MLAS pads to a 16-column panel (8× the multiply-adds). It becomes FusedMatMul(Vᵀ [B,H,dh,T], P, transB=1)
/// = (P V)ᵀ [B,H,dh,T] (two rows, T columns: the kernel's efficient shape), and the Transpose after it takes
/// [0,3,1,2] instead of [0,2,1,3]. V's Transpose writes [0,2,3,1] instead of [0,2,1,3]: same cost.</item>
/// <item><b>Packed QKV</b> (optional): the three projections q/k/v = x W + b on the same x become one MatMul with
/// [D, 3D] weights and one Add, a Reshape to [-1, T, 3, H, dh], one Transpose to [3, B, H, T, dh] and a Split,
/// instead of three MatMul + Add + Reshape + Transpose chains. Only float MatMul + Add with constant weights are
/// packed (quantized projections keep their own form).</item>
/// <item><b>Embedding fold</b>: Transpose → Conv(kernel 1) → Transpose → Add(positional encoding) becomes
/// MatMul(x, Wᵀ) + Add(bias + pe): a 1×1 convolution over time is a per-step linear map, and its bias and the
/// constant positional encoding add to one constant.</item>
/// <item><b>Rows</b>: from the attention block's input on, the row-wise part of the encoder (linear layers, bias
/// and residual Adds, Relu, LayerNormalization over the last axis) runs on [B·T, D] instead of [B, T, D]: a Reshape
/// in, one back before the first op that needs the time axis (t2's ReduceMean). On 2-D inputs ORT fuses each
/// MatMul + bias Add into one Gemm (and Gemm + Relu), so six bias passes over the activations disappear.</item>
/// </list>
/// Every rewrite checks its pattern (constant operands, single consumers, permutations, shapes) and leaves the graph
/// unchanged where it does not match, so the pass is safe on any model and after other passes.
/// </summary>
public sealed class AttentionLayoutPass(bool packQkv = false, bool foldEmbedding = true, bool rows = true, bool fusedAttention = false) : ICompressionPass
{
    public const string MicrosoftDomain = "com.microsoft";

    public string Name => "attn-layout" + (packQkv ? "-qkv" : "") + (fusedAttention ? "-fused" : "");

    /// <summary>Counts of the rewrites made by the last <see cref="Apply"/> (for tests and reports).</summary>
    public (int AttentionOutputs, int PackedQkv, int Embeddings, int RowRegions) LastRewrites { get; private set; }

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        var model = source.Clone();
        int attn = 0, packed = 0, embed = 0, regions = 0;
        foreach (var softmax in model.NodesOfType("Softmax").ToList())
        {
            var m = MatchAttention(model, softmax);
            if (m is null) continue;
            if (rows && TryRows(model, m)) regions++;
            if (fusedAttention) RewriteToFusedAttention(model, m);
            else if (packQkv && TryPackQkv(model, m)) packed++;
            else RewriteAttentionOutput(model, m);
            attn++;
        }
        if (foldEmbedding)
            foreach (var conv in model.NodesOfType("Conv").ToList())
                if (TryFoldEmbedding(model, conv)) embed++;
        if (attn > 0) model.EnsureOpset(fusedAttention ? AlertsOperators.Domain : MicrosoftDomain, 1);
        RemoveUnusedConstants(model);
        model.RemoveUnusedInitializers();
        LastRewrites = (attn, packed, embed, regions);
        var problems = model.CheckTopology();
        if (problems.Count > 0) throw new InvalidOperationException($"{Name} produced a malformed graph: {string.Join("; ", problems)}");
        return model;
    }

    /// <summary>The nodes of one torch-exported attention core around a Softmax.</summary>
    private sealed record AttentionMatch(
        NodeProto ScoreMatMul, NodeProto? ScaleMul, float Scale, NodeProto Softmax,
        NodeProto QReshape, NodeProto QTranspose, NodeProto KReshape, NodeProto KTranspose, NodeProto VReshape, NodeProto VTranspose,
        NodeProto OutMatMul, NodeProto OutTranspose, NodeProto OutReshape, long Steps, long Heads, long HeadDim);

    private static AttentionMatch? MatchAttention(OnnxModel model, NodeProto softmax)
    {
        if (OnnxModel.IntAttributeOr(softmax, "axis", -1) is not (-1 or 3)) return null;
        var src = model.Producer(softmax.Input[0]);
        NodeProto? mul = null;
        float scale = 1f;
        if (src is { OpType: "Mul" })
        {
            mul = src;
            int c = model.ConstantValue(mul.Input[1]) is not null ? 1 : model.ConstantValue(mul.Input[0]) is not null ? 0 : -1;
            if (c < 0) return null;
            var t = model.ConstantValue(mul.Input[c])!;
            if (t.DataType != Tensors.Float || Tensors.ElementCount(t) != 1) return null;
            scale = Tensors.ToFloats(t)[0];
            if (!SingleUse(model, mul.Output[0])) return null;
            src = model.Producer(mul.Input[1 - c]);
        }
        if (src is not { OpType: "MatMul" } scores || !SingleUse(model, scores.Output[0])) return null;
        var qT = Transpose(model, scores.Input[0], [0, 2, 1, 3]);
        var kT = Transpose(model, scores.Input[1], [0, 2, 3, 1]);
        var uses = model.Consumers(softmax.Output[0]);
        if (uses.Count != 1 || uses[0] is not { OpType: "MatMul" } pv || pv.Input[0] != softmax.Output[0]) return null;
        if (IsGraphOutput(model, softmax.Output[0]) || !SingleUse(model, pv.Output[0])) return null;
        var vT = Transpose(model, pv.Input[1], [0, 2, 1, 3]);
        if (qT is null || kT is null || vT is null) return null;
        var outT = model.Consumers(pv.Output[0])[0];
        if (outT.OpType != "Transpose" || !Perm(outT).SequenceEqual([0L, 2, 1, 3]) || !SingleUse(model, outT.Output[0])) return null;
        var outR = model.Consumers(outT.Output[0])[0];
        if (outR.OpType != "Reshape") return null;
        var rq = Reshape4(model, qT.Input[0]); var rk = Reshape4(model, kT.Input[0]); var rv = Reshape4(model, vT.Input[0]);
        if (rq is null || rk is null || rv is null) return null;
        var shape = Tensors.ToInt64s(model.ConstantValue(rq.Input[1])!);
        long steps = shape[1], heads = shape[2], dh = shape[3];
        foreach (var r in new[] { rk, rv })
            if (!Tensors.ToInt64s(model.ConstantValue(r.Input[1])!).SequenceEqual(shape)) return null;
        if (steps <= 0 || heads <= 0 || dh <= 0) return null;
        return new AttentionMatch(scores, mul, scale, softmax, rq, qT, rk, kT, rv, vT, pv, outT, outR, steps, heads, dh);
    }

    /// <summary>P·V → FusedMatMul(Vᵀ, P, transB=1) = (P·V)ᵀ; V's Transpose writes Vᵀ, the output Transpose undoes it.</summary>
    private static void RewriteAttentionOutput(OnnxModel model, AttentionMatch m)
    {
        SetPerm(m.VTranspose, 0, 2, 3, 1);
        var fused = OnnxModel.Node("FusedMatMul", model.UniqueName(m.OutMatMul.Name + "_VtPt"), [m.VTranspose.Output[0], m.Softmax.Output[0]], [m.OutMatMul.Output[0]], MicrosoftDomain,
            OnnxModel.IntAttribute("transA", 0), OnnxModel.IntAttribute("transB", 1), FloatAttribute("alpha", 1f));
        model.Replace(m.OutMatMul, fused);
        SetPerm(m.OutTranspose, 0, 3, 1, 2);
    }

    /// <summary>
    /// The whole core (head-split Reshapes/Transposes, Q·Kᵀ, scale, Softmax, P·V, head-merge Transpose) →
    /// ai.alerts.ScaledDotProductAttention(q, k, v) on [B, T, D]: the head splits become Reshapes to [-1, T, D] (no
    /// copy), the merge Reshape reads the fused output directly.
    /// </summary>
    private static void RewriteToFusedAttention(OnnxModel model, AttentionMatch m)
    {
        long d = m.Heads * m.HeadDim;
        string shape = model.UniqueName($"btd_shape_{m.Steps}_{d}");
        model.SetInitializer(Tensors.FromInt64s(shape, [-1, m.Steps, d], 3));
        foreach (var r in new[] { m.QReshape, m.KReshape, m.VReshape }) r.Input[1] = shape;
        string outName = model.UniqueName(m.Softmax.Name + "_attention_out");
        var fused = OnnxModel.Node(AlertsOperators.AttentionOpType, model.UniqueName(m.Softmax.Name + "_ScaledDotProductAttention"),
            [m.QTranspose.Input[0], m.KTranspose.Input[0], m.VTranspose.Input[0]], [outName], AlertsOperators.Domain,
            OnnxModel.IntAttribute("num_heads", m.Heads), FloatAttribute("scale", m.Scale));
        m.OutReshape.Input[0] = outName;
        model.InsertBefore(m.OutReshape, fused);
        foreach (var n in new[] { m.ScoreMatMul, m.Softmax, m.QTranspose, m.KTranspose, m.VTranspose, m.OutMatMul, m.OutTranspose })
            model.Graph.Node.Remove(n);
        if (m.ScaleMul is not null) model.Graph.Node.Remove(m.ScaleMul);
    }

    /// <summary>
    /// q/k/v = Add(MatMul(x, W), b) with the same x → one MatMul [D, 3D] + Add, Reshape [-1, T, 3, H, dh],
    /// Transpose [2, 0, 3, 1, 4] → [3, B, H, T, dh], Split → q, k, v [1, B, H, T, dh]; scores =
    /// FusedMatMul(q, k, transB=1, alpha=scale); (P·V)ᵀ = FusedMatMul(v, P, transA=1, transB=1).
    /// </summary>
    private static bool TryPackQkv(OnnxModel model, AttentionMatch m)
    {
        var proj = new[] { m.QReshape, m.KReshape, m.VReshape }.Select(r => Projection(model, r.Input[0])).ToArray();
        if (proj.Any(p => p is null) || proj.Select(p => p!.Value.Input).Distinct().Count() != 1) return false;
        var ws = proj.Select(p => model.Initializer(p!.Value.MatMul.Input[1])!).ToArray();
        long dIn = ws[0].Dims[0], dOut = m.Heads * m.HeadDim;
        if (ws.Any(w => w.Dims.Count != 2 || w.Dims[0] != dIn || w.Dims[1] != dOut)) return false;
        var bs = proj.Select(p => model.Initializer(p!.Value.Bias)!).ToArray();
        if (bs.Any(b => Tensors.ElementCount(b) != dOut)) return false;

        var wf = ws.Select(Tensors.ToFloats).ToArray();
        var packedW = new float[dIn * 3 * dOut];
        for (long r = 0; r < dIn; r++)
            for (int i = 0; i < 3; i++)
                Array.Copy(wf[i], r * dOut, packedW, r * 3 * dOut + i * dOut, dOut);
        var packedB = bs.SelectMany(Tensors.ToFloats).ToArray();
        string stem = m.QReshape.Name.Replace("Reshape", "qkv");
        string wName = model.UniqueName(stem + "_weight"), bName = model.UniqueName(stem + "_bias"), sName = model.UniqueName(stem + "_shape");
        model.SetInitializer(Tensors.FromFloats(wName, packedW, dIn, 3 * dOut));
        model.SetInitializer(Tensors.FromFloats(bName, packedB, 3 * dOut));
        model.SetInitializer(Tensors.FromInt64s(sName, [-1, m.Steps, 3, m.Heads, m.HeadDim], 5));
        string V(string suffix) => model.UniqueName(stem + suffix);
        string mm = V("_matmul"), add = V("_add"), r5 = V("_reshaped"), t5 = V("_bhtd"), q = V("_q"), k = V("_k"), v = V("_v");
        var nodes = new[]
        {
            OnnxModel.Node("MatMul", V("_MatMul"), [proj[0]!.Value.Input, wName], [mm]),
            OnnxModel.Node("Add", V("_Add"), [mm, bName], [add]),
            OnnxModel.Node("Reshape", V("_Reshape"), [add, sName], [r5]),
            OnnxModel.Node("Transpose", V("_Transpose"), [r5], [t5], null, OnnxModel.IntsAttribute("perm", 2, 0, 3, 1, 4)),
            OnnxModel.Node("Split", V("_Split"), [t5], [q, k, v], null, OnnxModel.IntAttribute("axis", 0)),
            OnnxModel.Node("FusedMatMul", V("_QKt"), [q, k], [m.Softmax.Input[0]], MicrosoftDomain,
                OnnxModel.IntAttribute("transA", 0), OnnxModel.IntAttribute("transB", 1), FloatAttribute("alpha", m.Scale)),
        };
        // Insert the packed chain where the score MatMul was (all of q/k/v's inputs precede it), drop the old chains.
        model.InsertBefore(m.ScoreMatMul, nodes);
        foreach (var n in new[] { m.ScoreMatMul, m.QTranspose, m.KTranspose, m.VTranspose, m.QReshape, m.KReshape, m.VReshape })
            model.Graph.Node.Remove(n);
        if (m.ScaleMul is not null) model.Graph.Node.Remove(m.ScaleMul);
        foreach (var p in proj)
            if (model.Consumers(p!.Value.Add.Output[0]).Count == 0 && !IsGraphOutput(model, p.Value.Add.Output[0]))
            {
                model.Graph.Node.Remove(p.Value.Add);
                if (model.Consumers(p.Value.MatMul.Output[0]).Count == 0) model.Graph.Node.Remove(p.Value.MatMul);
            }
        var fused = OnnxModel.Node("FusedMatMul", model.UniqueName(m.OutMatMul.Name + "_VtPt"), [v, m.Softmax.Output[0]], [m.OutMatMul.Output[0]], MicrosoftDomain,
            OnnxModel.IntAttribute("transA", 1), OnnxModel.IntAttribute("transB", 1), FloatAttribute("alpha", 1f));
        model.Replace(m.OutMatMul, fused);
        SetPerm(m.OutTranspose, 0, 1, 4, 2, 3);   // [1, B, H, dh, T] → [1, B, T, H, dh]; the Reshape [-1, T, D] drops the 1
        return true;
    }

    /// <summary>
    /// Row-wise region: starts at the value x [B, T, D] that feeds the q projection (its Reshape's producer chain:
    /// Reshape ← Add ← MatMul(x, W)). A Reshape to [-1, D] is inserted after x's producer; then, in graph order, every
    /// row-wise node whose non-constant inputs are all region values (x itself or earlier converted outputs) runs on
    /// rows; the attention's output Reshape [-1, T, D] becomes [-1, D] and joins the region. Any other consumer of a
    /// region value gets a Reshape back to [-1, T, D'] in front of it. Reshapes to [-1, …] with constant targets
    /// (the q/k/v head splits) accept either layout and are left alone.
    /// </summary>
    private static bool TryRows(OnnxModel model, AttentionMatch m)
    {
        if (model.Producer(m.QReshape.Input[0]) is not { OpType: "Add" } qAdd) return false;
        var q = Projection(model, qAdd.Output[0]);
        if (q is null) return false;
        string x = q.Value.Input;
        if (model.Graph.Input.Any(i => i.Name == x) || model.Producer(x) is not { } xProducer) return false;
        long steps = m.Steps;
        long d = model.Initializer(q.Value.MatMul.Input[1])!.Dims[0];
        if (IsGraphOutput(model, x)) return false;

        string xRows = model.UniqueName(x + "_rows");
        string rowsShape = model.UniqueName("rows_shape_" + d);
        model.SetInitializer(Tensors.FromInt64s(rowsShape, [-1, d], 2));
        model.Graph.Node.Insert(model.IndexOf(xProducer) + 1, OnnxModel.Node("Reshape", model.UniqueName("to_rows"), [x, rowsShape], [xRows]));
        // region value → its width (last dim); x is represented by xRows inside the region
        var width = new Dictionary<string, long>(StringComparer.Ordinal) { [xRows] = d };
        string Rows(string v) => v == x ? xRows : v;
        bool InRegion(string v) => width.ContainsKey(Rows(v));

        for (int i = model.IndexOf(xProducer) + 2; i < model.Graph.Node.Count; i++)
        {
            var n = model.Graph.Node[i];
            long? w = RowWiseWidth(model, n, InRegion, v => width[Rows(v)]);
            if (w is not null)
            {
                for (int k = 0; k < n.Input.Count; k++) if (InRegion(n.Input[k])) n.Input[k] = Rows(n.Input[k]);
                if (n.OpType == "LayerNormalization") SetIntAttribute(n, "axis", -1);
                width[n.Output[0]] = w.Value;
                continue;
            }
            if (ReferenceEquals(n, m.OutReshape))
            {
                long dOut = Tensors.ToInt64s(model.ConstantValue(n.Input[1])!)[^1];
                string s = model.UniqueName("rows_shape_" + dOut);
                model.SetInitializer(Tensors.FromInt64s(s, [-1, dOut], 2));
                n.Input[1] = s;
                width[n.Output[0]] = dOut;
                continue;
            }
            bool headSplit = n.OpType == "Reshape" && model.ConstantValue(n.Input[1]) is { } target && target.DataType == Tensors.Int64
                             && Tensors.ToInt64s(target) is [-1, .. var rest] && rest.All(r => r > 0);
            for (int k = 0; k < n.Input.Count; k++)
            {
                var v = n.Input[k];
                if (v == x || !width.ContainsKey(v) || (headSplit && k == 0)) continue;
                // back to [B, T, D'] for an op that needs the time axis
                string back = model.UniqueName(v + "_btd"), shape = model.UniqueName($"btd_shape_{steps}_{width[v]}");
                model.SetInitializer(Tensors.FromInt64s(shape, [-1, steps, width[v]], 3));
                model.Graph.Node.Insert(i, OnnxModel.Node("Reshape", model.UniqueName("to_btd"), [v, shape], [back]));
                i++;
                n.Input[k] = back;
            }
        }
        foreach (var o in model.Graph.Output)
            if (width.ContainsKey(o.Name)) throw new InvalidOperationException($"rows rewrite reached graph output '{o.Name}'");
        return true;
    }

    /// <summary>Width of the output if <paramref name="n"/> is row-wise on region inputs, else null.</summary>
    private static long? RowWiseWidth(OnnxModel model, NodeProto n, Func<string, bool> inRegion, Func<string, long> width)
    {
        switch (n.OpType)
        {
            case "MatMul" when n.Input.Count == 2 && inRegion(n.Input[0]) && model.ConstantValue(n.Input[1]) is { Dims.Count: 2 } w && w.Dims[0] == width(n.Input[0]):
                return w.Dims[1];
            case "Add" or "Mul" or "Sub" or "Div" when n.Input.Count == 2:
            {
                bool a = inRegion(n.Input[0]), b = inRegion(n.Input[1]);
                if (a && b) return width(n.Input[0]) == width(n.Input[1]) ? width(n.Input[0]) : null;
                if (!a && !b) return null;
                var c = model.ConstantValue(a ? n.Input[1] : n.Input[0]);
                long wa = width(a ? n.Input[0] : n.Input[1]);
                // a constant of rank ≤ 1 broadcasts over rows exactly as it did over [B, T]
                return c is not null && (c.Dims.Count == 0 || (c.Dims.Count == 1 && (c.Dims[0] == wa || c.Dims[0] == 1))) ? wa : null;
            }
            case "Relu" or "Gelu" or "Tanh" or "Sigmoid" or "Erf" when inRegion(n.Input[0]):
                return width(n.Input[0]);
            case "LayerNormalization" when inRegion(n.Input[0]) && OnnxModel.IntAttributeOr(n, "axis", -1) is -1 or 2
                                           && n.Input.Skip(1).All(v => v == "" || model.ConstantValue(v) is { Dims.Count: 1 }):
                return n.Output.Count == 1 ? width(n.Input[0]) : null;
            default:
                return null;
        }
    }

    private static void SetIntAttribute(NodeProto n, string name, long value)
    {
        var a = OnnxModel.Attribute(n, name);
        if (a is null) n.Attribute.Add(OnnxModel.IntAttribute(name, value));
        else a.I = value;
    }

    /// <summary>Add(MatMul(x, W const float 2-D), b const float) in either Add operand order.</summary>
    private static (string Input, NodeProto MatMul, NodeProto Add, string Bias)? Projection(OnnxModel model, string value)
    {
        if (model.Producer(value) is not { OpType: "Add" } add) return null;
        for (int i = 0; i < 2; i++)
        {
            if (model.Producer(add.Input[i]) is not { OpType: "MatMul" } mm) continue;
            var b = model.Initializer(add.Input[1 - i]);
            var w = model.Initializer(mm.Input[1]);
            if (b is null || w is null || b.DataType != Tensors.Float || w.DataType != Tensors.Float) return null;
            return (mm.Input[0], mm, add, b.Name);
        }
        return null;
    }

    /// <summary>Transpose(x) → Conv(kernel 1) → Transpose → Add(pe) ⇒ MatMul(x, Wᵀ) + Add(bias + pe).</summary>
    private static bool TryFoldEmbedding(OnnxModel model, NodeProto conv)
    {
        if (conv.Input.Count < 2) return false;
        var w = model.Initializer(conv.Input[1]);
        if (w is null || w.DataType != Tensors.Float || w.Dims.Count != 3 || w.Dims[2] != 1) return false;
        if (OnnxModel.IntAttributeOr(conv, "group", 1) != 1) return false;
        foreach (var a in conv.Attribute)
        {
            if (a.Name is "strides" or "dilations" && a.Ints.Any(x => x != 1)) return false;
            if (a.Name == "pads" && a.Ints.Any(x => x != 0)) return false;
            if (a.Name == "auto_pad" && a.S.ToStringUtf8() is not ("NOTSET" or "VALID" or "")) return false;
        }
        var pre = model.Producer(conv.Input[0]);
        if (pre is not { OpType: "Transpose" } || !Perm(pre).SequenceEqual([0L, 2, 1]) || !SingleUse(model, pre.Output[0]) || !SingleUse(model, conv.Output[0])) return false;
        var post = model.Consumers(conv.Output[0])[0];
        if (post.OpType != "Transpose" || !Perm(post).SequenceEqual([0L, 2, 1]) || !SingleUse(model, post.Output[0])) return false;
        var add = model.Consumers(post.Output[0])[0];
        if (add.OpType != "Add") return false;
        var pe = model.Initializer(add.Input[0] == post.Output[0] ? add.Input[1] : add.Input[0]);
        long d = w.Dims[0], c = w.Dims[1];
        if (pe is null || pe.DataType != Tensors.Float || pe.Dims.Count != 2 || pe.Dims[1] != d) return false;
        var bias = conv.Input.Count > 2 && conv.Input[2] != "" ? model.Initializer(conv.Input[2]) : null;
        if (conv.Input.Count > 2 && conv.Input[2] != "" && (bias is null || bias.DataType != Tensors.Float)) return false;

        var wf = Tensors.ToFloats(w);
        var wt = new float[c * d];
        for (long o = 0; o < d; o++) for (long i = 0; i < c; i++) wt[i * d + o] = wf[o * c + i];
        var pf = Tensors.ToFloats(pe);
        var bf = bias is null ? new float[d] : Tensors.ToFloats(bias);
        long steps = pe.Dims[0];
        var sum = new float[steps * d];
        // bias + pe in the order the original graph added them: (x W + b) + pe.
        for (long t = 0; t < steps; t++) for (long o = 0; o < d; o++) sum[t * d + o] = bf[o] + pf[t * d + o];
        string wName = model.UniqueName(w.Name + "_t"), sName = model.UniqueName(pe.Name + "_plus_bias"), mm = model.UniqueName(conv.Name + "_matmul_out");
        model.SetInitializer(Tensors.FromFloats(wName, wt, c, d));
        model.SetInitializer(Tensors.FromFloats(sName, sum, steps, d));
        model.Replace(add,
            OnnxModel.Node("MatMul", model.UniqueName(conv.Name + "_MatMul"), [pre.Input[0], wName], [mm]),
            OnnxModel.Node("Add", model.UniqueName(conv.Name + "_AddBiasPe"), [mm, sName], [add.Output[0]]));
        model.Graph.Node.Remove(pre);
        model.Graph.Node.Remove(conv);
        model.Graph.Node.Remove(post);
        return true;
    }

    /// <summary>Constant nodes (Reshape targets, the 1/√dh scale) whose value the rewrites no longer read.</summary>
    private static void RemoveUnusedConstants(OnnxModel model)
    {
        var used = new HashSet<string>(model.Graph.Node.SelectMany(n => n.Input).Concat(model.Graph.Output.Select(o => o.Name)), StringComparer.Ordinal);
        foreach (var c in model.NodesOfType("Constant").ToList())
            if (!c.Output.Any(used.Contains)) model.Graph.Node.Remove(c);
    }

    private static NodeProto? Transpose(OnnxModel model, string value, long[] perm) =>
        model.Producer(value) is { OpType: "Transpose" } t && Perm(t).SequenceEqual(perm) && SingleUse(model, value) ? t : null;

    /// <summary>Reshape(x, const [-1, T, H, dh]) whose output is used once.</summary>
    private static NodeProto? Reshape4(OnnxModel model, string value)
    {
        if (model.Producer(value) is not { OpType: "Reshape" } r || !SingleUse(model, value)) return null;
        var s = model.ConstantValue(r.Input[1]);
        if (s is null || s.DataType != Tensors.Int64 || Tensors.ElementCount(s) != 4) return null;
        var v = Tensors.ToInt64s(s);
        return v[0] == -1 && v.Skip(1).All(x => x > 0) ? r : null;
    }

    private static long[] Perm(NodeProto t) => OnnxModel.Attribute(t, "perm")?.Ints.ToArray() ?? [];

    private static void SetPerm(NodeProto t, params long[] perm)
    {
        var a = OnnxModel.Attribute(t, "perm")!;
        a.Ints.Clear();
        a.Ints.AddRange(perm);
    }

    private static bool SingleUse(OnnxModel model, string value) => model.Consumers(value).Count == 1 && !IsGraphOutput(model, value);

    private static bool IsGraphOutput(OnnxModel model, string value) => model.Graph.Output.Any(o => o.Name == value);

    private static AttributeProto FloatAttribute(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
}
