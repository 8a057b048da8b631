using Alerts.Compression.Evaluation;
using Alerts.Onnx;
using Alerts.Onnx.Proto;

namespace Alerts.Compression.Passes;

/// <summary>Shared weight quantisation: per-channel scales, then nearest or GPTQ rounding with calibration inputs.</summary>
internal static class WeightQuantization
{
    public static Dictionary<string, (sbyte[] Q, float[] Scales)> Quantize(OnnxModel model, List<LinearLayer> layers, bool perChannel, WeightRounding rounding, LabelledSet? calibration)
    {
        Dictionary<string, (float[] Data, long[] Shape)>? inputs = null;
        if (rounding == WeightRounding.Gptq)
        {
            if (calibration is null) throw new ArgumentException("GPTQ rounding needs calibration data (--data provides it).");
            inputs = OrtModelRunner.CaptureActivations(model, calibration, layers.Select(l => l.InputName).Distinct().ToList());
        }
        var result = new Dictionary<string, (sbyte[], float[])>();
        foreach (var l in layers)
        {
            var w = Tensors.ToFloats(model.Initializer(l.WeightName)!);
            var scales = Quantizers.SymmetricScales(w, l.K, l.N, perChannel);
            sbyte[] q;
            if (inputs is null) q = Quantizers.RoundNearest(w, l.K, l.N, scales);
            else
            {
                var x = inputs[l.InputName].Data;
                q = Quantizers.Gptq(w, l.K, l.N, scales, x, x.Length / l.K);
            }
            result[l.Node.Name] = (q, scales);
        }
        return result;
    }
}

/// <summary>
/// int8 dynamic quantisation of MatMul (and Gemm, rewritten to MatMul + Add): weights int8 symmetric (per output
/// channel by default), activations quantised at run time by DynamicQuantizeLinear. The node pattern
/// DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(Mul(x_scale, w_scale)) is the one onnxruntime's own
/// quantize_dynamic writes; ORT fuses it into DynamicQuantizeMatMul / MatMulIntegerToFloat at load.
/// </summary>
public sealed class Int8DynamicPass(bool perChannel = true, WeightRounding rounding = WeightRounding.Nearest) : ICompressionPass
{
    public string Name => "int8-dynamic" + (rounding == WeightRounding.Gptq ? "-gptq" : "") + (perChannel ? "" : "-pertensor");

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        var model = source.Clone();
        LinearLayers.GemmToMatMul(model);
        var layers = LinearLayers.Find(model);
        var quantized = WeightQuantization.Quantize(model, layers, perChannel, rounding, calibration);
        var dynamicInputs = new Dictionary<string, (string Q, string Scale, string Zp)>();
        foreach (var l in layers)
        {
            var (q, scales) = quantized[l.Node.Name];
            var newNodes = new List<NodeProto>();
            if (!dynamicInputs.TryGetValue(l.InputName, out var dq))
            {
                string stem = model.UniqueName(l.Node.Name + "_x");
                dq = (stem + "_quantized", stem + "_scale", stem + "_zero_point");
                newNodes.Add(OnnxModel.Node("DynamicQuantizeLinear", stem + "_DynamicQuantizeLinear", [l.InputName], [dq.Q, dq.Scale, dq.Zp]));
                dynamicInputs[l.InputName] = dq;
            }
            string w = l.WeightName + "_quantized", ws = l.WeightName + "_scale", wzp = l.WeightName + "_zero_point";
            model.SetInitializer(Tensors.FromInt8s(w, q, l.K, l.N));
            model.SetInitializer(Tensors.FromFloats(ws, scales, l.N));
            // Symmetric weights: zero point 0 as a scalar. (A per-column zero-point vector is legal ONNX, but ORT 1.31's
            // MatMulInteger gave wrong results with it once heads were pruned; the scale stays per column in the Mul.)
            model.SetInitializer(Tensors.ScalarInt8(wzp, 0));
            string p = l.Node.Name;
            newNodes.Add(OnnxModel.Node("MatMulInteger", p + "_MatMulInteger", [dq.Q, w, dq.Zp, wzp], [p + "_int32"]));
            newNodes.Add(OnnxModel.Node("Cast", p + "_Cast", [p + "_int32"], [p + "_float"], null, OnnxModel.IntAttribute("to", Tensors.Float)));
            newNodes.Add(OnnxModel.Node("Mul", p + "_ScaleProduct", [dq.Scale, ws], [p + "_scale"]));
            newNodes.Add(OnnxModel.Node("Mul", p + "_Rescale", [p + "_float", p + "_scale"], [l.Node.Output[0]]));
            model.Replace(l.Node, newNodes.ToArray());
        }
        model.RemoveUnusedInitializers();
        return model;
    }
}

/// <summary>
/// int8 static quantisation in QDQ form: every MatMul's activation input gets QuantizeLinear -> DequantizeLinear with
/// a uint8 range measured on calibration data (min-max or percentile), and its weight is stored int8 (per output
/// channel, axis 1) behind a DequantizeLinear. The MatMul output is re-quantised too, so ORT's QDQ transformer can
/// replace each DQ -> MatMul -> Q group with an int8 kernel (QLinearMatMul / MatMulIntegerToFloat).
/// </summary>
public sealed class Int8StaticQdqPass(CalibrationMethod method = CalibrationMethod.MinMax, double percentile = 99.99, bool perChannel = true,
    WeightRounding rounding = WeightRounding.Nearest, bool quantizeOutputs = true) : ICompressionPass
{
    public string Name => "int8-qdq-" + (method == CalibrationMethod.MinMax ? "minmax" : $"p{percentile.ToString(System.Globalization.CultureInfo.InvariantCulture)}")
        + (rounding == WeightRounding.Gptq ? "-gptq" : "") + (perChannel ? "" : "-pertensor");

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        if (calibration is null) throw new ArgumentException("static quantisation needs calibration data (--data provides it).");
        var model = source.Clone();
        LinearLayers.GemmToMatMul(model);
        model.EnsureOpset("", 13); // per-axis DequantizeLinear
        var layers = LinearLayers.Find(model);
        var quantized = WeightQuantization.Quantize(model, layers, perChannel, rounding, calibration);
        var names = layers.Select(l => l.InputName).Concat(quantizeOutputs ? layers.Select(l => l.Node.Output[0]) : []).Distinct().ToList();
        var acts = OrtModelRunner.CaptureActivations(model, calibration, names);
        var qdqDone = new Dictionary<string, string>();

        string QuantizeActivation(string value, NodeProto anchor, bool before)
        {
            if (qdqDone.TryGetValue(value, out var existing)) return existing;
            var (lo, hi) = Quantizers.Range(acts[value].Data, method, percentile);
            var (scale, zp) = Quantizers.ActivationParameters(lo, hi);
            string stem = model.UniqueName(value.TrimStart('/').Replace('/', '_') + "_q");
            model.SetInitializer(Tensors.ScalarFloat(stem + "_scale", scale));
            model.SetInitializer(Tensors.ScalarUint8(stem + "_zero_point", zp));
            var q = OnnxModel.Node("QuantizeLinear", stem + "_QuantizeLinear", [value, stem + "_scale", stem + "_zero_point"], [stem + "_uint8"]);
            var dq = OnnxModel.Node("DequantizeLinear", stem + "_DequantizeLinear", [stem + "_uint8", stem + "_scale", stem + "_zero_point"], [stem + "_dequantized"]);
            if (before) model.InsertBefore(anchor, q, dq);
            else { int i = model.IndexOf(anchor); model.Graph.Node.Insert(i + 1, q); model.Graph.Node.Insert(i + 2, dq); }
            qdqDone[value] = stem + "_dequantized";
            return stem + "_dequantized";
        }

        foreach (var l in layers)
        {
            var (q, scales) = quantized[l.Node.Name];
            string w = l.WeightName + "_quantized", ws = l.WeightName + "_scale", wzp = l.WeightName + "_zero_point";
            model.SetInitializer(Tensors.FromInt8s(w, q, l.K, l.N));
            if (perChannel)
            {
                model.SetInitializer(Tensors.FromFloats(ws, scales, l.N));
                model.SetInitializer(Tensors.FromInt8s(wzp, new sbyte[l.N], l.N));
            }
            else
            {
                model.SetInitializer(Tensors.ScalarFloat(ws, scales[0]));
                model.SetInitializer(Tensors.ScalarInt8(wzp, 0));
            }
            var wdq = OnnxModel.Node("DequantizeLinear", l.WeightName + "_DequantizeLinear", [w, ws, wzp], [l.WeightName + "_dequantized"], null,
                perChannel ? [OnnxModel.IntAttribute("axis", 1)] : []);
            string x = QuantizeActivation(l.InputName, l.Node, before: true);
            model.InsertBefore(l.Node, wdq);
            l.Node.Input[0] = x;
            l.Node.Input[1] = l.WeightName + "_dequantized";
            if (quantizeOutputs)
            {
                string original = l.Node.Output[0];
                var consumers = model.Consumers(original);
                string deq = QuantizeActivation(original, l.Node, before: false);
                foreach (var c in consumers)
                    for (int i = 0; i < c.Input.Count; i++) if (c.Input[i] == original) c.Input[i] = deq;
            }
        }
        model.RemoveUnusedInitializers();
        return model;
    }
}

/// <summary>
/// fp16 baseline: float weights with at least <paramref name="minElements"/> values are stored as float16 and cast
/// back to float32 by a Cast node, so the file halves while arithmetic stays fp32 (ORT's CPU provider has few fp16
/// kernels, so a full fp16 graph would be slower there).
/// </summary>
public sealed class Fp16WeightsPass(int minElements = 16) : ICompressionPass
{
    public string Name => "fp16";

    public OnnxModel Apply(OnnxModel source, LabelledSet? calibration)
    {
        var model = source.Clone();
        var casts = new List<NodeProto>();
        foreach (var t in model.Graph.Initializer.ToList())
        {
            if (t.DataType != Tensors.Float || Tensors.ElementCount(t) < minElements) continue;
            var f = Tensors.ToFloats(t);
            var h = new Half[f.Length];
            for (int i = 0; i < f.Length; i++) h[i] = (Half)f[i];
            string name = t.Name;
            model.RemoveInitializer(name);
            model.SetInitializer(Tensors.FromHalfs(name + "_fp16", h, Tensors.Shape(t)));
            casts.Add(OnnxModel.Node("Cast", name + "_Cast", [name + "_fp16"], [name], null, OnnxModel.IntAttribute("to", Tensors.Float)));
        }
        for (int i = 0; i < casts.Count; i++) model.Graph.Node.Insert(i, casts[i]);
        return model;
    }
}
