using Alerts.Interop.TfLite;
using static Alerts.Interop.Tests.Harness;

namespace Alerts.Interop.Tests;

/// <summary>Each operator converter on a tiny hand-built graph, run in ONNX Runtime and checked against values computed here.</summary>
public class OperatorConverterTests
{
    private static byte[] Unary(TfLiteOp op, int[] shape, byte optionsType = 0, params Opt[] options)
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", shape), y = g.Tensor("y", TfLiteType.Float32, shape);
        g.Op(op, [x], [y], optionsType, options);
        g.Io([x], [y]);
        return g.Build();
    }

    private static byte[] BinaryWithConst(TfLiteOp op, byte optionsType, float[] c, int[] cShape, int[] shape, byte fused = 0, bool constFirst = false)
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", shape), k = g.ConstFloat("c", c, cShape), y = g.Tensor("y", TfLiteType.Float32, shape);
        g.Op(op, constFirst ? [k, x] : [x, k], [y], optionsType, new Opt.U8(0, fused));
        g.Io([x], [y]);
        return g.Build();
    }

    [Theory]
    [InlineData(TfLiteOp.Add, OptionsType.Add)]
    [InlineData(TfLiteOp.Sub, OptionsType.Sub)]
    [InlineData(TfLiteOp.Mul, OptionsType.Mul)]
    [InlineData(TfLiteOp.Div, OptionsType.Div)]
    public void Binary_operators_broadcast_a_constant_over_the_last_axis(TfLiteOp op, byte type)
    {
        float[] c = [1f, -2f, 4f];
        var x = Seq(6, -2.5f);
        var y = Run(BinaryWithConst(op, type, c, [3], [2, 3]), x, [2, 3]);
        var expected = x.Select((v, i) => op switch
        {
            TfLiteOp.Add => v + c[i % 3], TfLiteOp.Sub => v - c[i % 3], TfLiteOp.Mul => v * c[i % 3], _ => v / c[i % 3],
        }).ToArray();
        Close(expected, y);
    }

    [Fact]
    public void Sub_with_the_constant_first_keeps_operand_order_and_fused_relu_clamps()
    {
        var x = Seq(4, -1f);   // -1, 0, 1, 2
        var y = Run(BinaryWithConst(TfLiteOp.Sub, OptionsType.Sub, [0.5f], [1], [4], fused: 1, constFirst: true), x, [4]);
        Close([1.5f, 0.5f, 0f, 0f], y);
    }

    [Fact]
    public void Add_with_fused_relu6_clips_to_0_and_6()
    {
        var y = Run(BinaryWithConst(TfLiteOp.Add, OptionsType.Add, [1f], [1], [4], fused: 3), [-3f, 2f, 5.5f, 9f], [4]);
        Close([0f, 3f, 6f, 6f], y);
    }

    [Fact]
    public void SquaredDifference_is_the_square_of_the_difference()
    {
        var y = Run(BinaryWithConst(TfLiteOp.SquaredDifference, OptionsType.SquaredDifference, [1f, 2f], [2], [2, 2]), [3f, 0f, -1f, 2f], [2, 2]);
        Close([4f, 4f, 4f, 0f], y);
    }

    [Fact]
    public void Rsqrt_is_one_over_the_square_root()
    {
        var y = Run(Unary(TfLiteOp.Rsqrt, [3]), [4f, 0.25f, 1e-3f], [3]);
        Close([0.5f, 2f, (float)(1 / Math.Sqrt(1e-3))], y, 1e-6);
    }

    [Fact]
    public void Softmax_applies_beta_before_normalising_the_last_axis()
    {
        var x = new[] { 0f, 1f, 2f, 1f, 1f, 1f };
        var y = Run(Unary(TfLiteOp.Softmax, [2, 3], OptionsType.Softmax, new Opt.F32(0, 2f)), x, [2, 3]);
        double z = 1 + Math.Exp(2) + Math.Exp(4);
        Close([(float)(1 / z), (float)(Math.Exp(2) / z), (float)(Math.Exp(4) / z), 1 / 3f, 1 / 3f, 1 / 3f], y);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Mean_over_the_last_axis_honours_keep_dims(bool keep)
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2, 3]), axis = g.ConstInt("axis", [-1], 1), y = g.Tensor("y", TfLiteType.Float32, keep ? [2, 1] : [2]);
        g.Op(TfLiteOp.Mean, [x, axis], [y], OptionsType.Reducer, new Opt.B(0, keep));
        g.Io([x], [y]);
        var model = g.Build();
        var onnx = TfLiteToOnnx.Convert(TfLiteModel.Parse(model));
        var y1 = ReferenceCheck.Run(onnx.ToBytes(), [1f, 2f, 6f, -1f, 0f, 4f], [2, 3]);
        Close([3f, 1f], y1);
        Assert.Contains(onnx.Graph.Node, n => n.OpType == "ReduceMean" && n.Attribute.Any(a => a.Name == "keepdims" && a.I == (keep ? 1 : 0)));
    }

    [Fact]
    public void Mean_over_a_scalar_axis_pools_time_like_the_t2_head()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [1, 3, 2], [-1, 3, 2]), axis = g.ConstInt("axis", [1]), y = g.Tensor("y", TfLiteType.Float32, [1, 2], [-1, 2]);
        g.Op(TfLiteOp.Mean, [x, axis], [y], OptionsType.Reducer, new Opt.B(0, false));
        g.Io([x], [y]);
        Close([2f, 20f, 5f, 50f], Run(g.Build(), [1f, 10f, 2f, 20f, 3f, 30f, 4f, 40f, 5f, 50f, 6f, 60f], [2, 3, 2]));
    }

    [Fact]
    public void Tensordot_shape_glue_reshapes_by_runtime_batch_and_keeps_batch_dynamic()
    {
        // The t2 graph's pattern: SHAPE -> GATHER [1,2] -> REDUCE_PROD, GATHER [0] -> REDUCE_PROD, PACK -> RESHAPE,
        // then CONCATENATION of the gathered dims with a constant -> RESHAPE back; STRIDED_SLICE takes the batch size.
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [1, 2, 3], [-1, 2, 3]);
        int shape = g.Tensor("shape", TfLiteType.Int32, [3]);
        int idx12 = g.ConstInt("idx12", [1, 2], 2), idx0 = g.ConstInt("idx0", [0], 1), axis0 = g.ConstInt("axis0", [0], 1);
        int g12 = g.Tensor("g12", TfLiteType.Int32, [2]), g0 = g.Tensor("g0", TfLiteType.Int32, [1]);
        int p12 = g.Tensor("p12", TfLiteType.Int32, []), p0 = g.Tensor("p0", TfLiteType.Int32, []);
        int packed = g.Tensor("packed", TfLiteType.Int32, [2]);
        int flat = g.Tensor("flat", TfLiteType.Float32, [6, 1], [-1, -1]);
        g.Op(TfLiteOp.Shape, [x], [shape], OptionsType.Shape, new Opt.U8(0, (byte)TfLiteType.Int32));
        g.Op(TfLiteOp.Gather, [shape, idx0], [g0], OptionsType.Gather, new Opt.I(0, 0));
        g.Op(TfLiteOp.Gather, [shape, idx12], [g12], OptionsType.Gather, new Opt.I(0, 0));
        g.Op(TfLiteOp.ReduceProd, [g12, axis0], [p12], OptionsType.Reducer, new Opt.B(0, false));
        g.Op(TfLiteOp.ReduceProd, [g0, axis0], [p0], OptionsType.Reducer, new Opt.B(0, false));
        g.Op(TfLiteOp.Pack, [p0, p12], [packed], OptionsType.Pack, new Opt.I(0, 2), new Opt.I(1, 0));
        g.Op(TfLiteOp.Reshape, [x, packed], [flat], OptionsType.Reshape);
        // back: [batch] ++ [6] via STRIDED_SLICE(shape, [0], [1], [1], shrink) and CONCATENATION with a constant.
        int b0 = g.ConstInt("b0", [0], 1), e1 = g.ConstInt("e1", [1], 1), s1 = g.ConstInt("s1", [1], 1);
        int batch = g.Tensor("batch", TfLiteType.Int32, []), batchVec = g.Tensor("batch_vec", TfLiteType.Int32, [1]);
        int six = g.ConstInt("six", [6], 1), newShape = g.Tensor("new_shape", TfLiteType.Int32, [2]);
        int y = g.Tensor("y", TfLiteType.Float32, [1, 6], [-1, 6]);
        g.Op(TfLiteOp.StridedSlice, [shape, b0, e1, s1], [batch], OptionsType.StridedSlice, new Opt.I(4, 1));
        g.Op(TfLiteOp.Pack, [batch], [batchVec], OptionsType.Pack, new Opt.I(0, 1), new Opt.I(1, 0));
        g.Op(TfLiteOp.Concatenation, [batchVec, six], [newShape], OptionsType.Concatenation, new Opt.I(0, 0));
        g.Op(TfLiteOp.Reshape, [flat, newShape], [y], OptionsType.Reshape);
        g.Io([x], [y]);
        var model = g.Build();
        foreach (int n in new[] { 1, 5 })
        {
            var input = Seq(n * 6, 0.5f);
            Close(input, Run(model, input, [n, 2, 3]));
        }
        var onnx = TfLiteToOnnx.Convert(TfLiteModel.Parse(model));
        Assert.Equal("batch", onnx.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
    }

    [Fact]
    public void Gather_of_floats_takes_rows_by_index_including_negative()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [3, 2]), idx = g.ConstInt("idx", [2, 0, -1], 3), y = g.Tensor("y", TfLiteType.Float32, [3, 2]);
        g.Op(TfLiteOp.Gather, [x, idx], [y], OptionsType.Gather, new Opt.I(0, 0));
        g.Io([x], [y]);
        Close([4f, 5f, 0f, 1f, 4f, 5f], Run(g.Build(), Seq(6), [3, 2]));
    }

    [Fact]
    public void Pack_on_axis_1_interleaves_its_inputs()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2]), c = g.ConstFloat("c", [10f, 20f], 2), y = g.Tensor("y", TfLiteType.Float32, [2, 2]);
        g.Op(TfLiteOp.Pack, [x, c], [y], OptionsType.Pack, new Opt.I(0, 2), new Opt.I(1, 1));
        g.Io([x], [y]);
        Close([1f, 10f, 2f, 20f], Run(g.Build(), [1f, 2f], [2]));
    }

    [Fact]
    public void Concatenation_on_the_last_axis_with_fused_relu()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2, 1]), c = g.ConstFloat("c", [-1f, 3f], 2, 1), y = g.Tensor("y", TfLiteType.Float32, [2, 2]);
        g.Op(TfLiteOp.Concatenation, [x, c], [y], OptionsType.Concatenation, new Opt.I(0, -1), new Opt.U8(1, 1));
        g.Io([x], [y]);
        Close([0f, 0f, 2f, 3f], Run(g.Build(), [-5f, 2f], [2, 1]));
    }

    [Theory]
    [InlineData(0, 0, 1, 4, 2, new[] { 1f, 3f, 6f, 8f })]          // x[:, 1:4:2]
    [InlineData(2, 2, 0, 0, -1, new[] { 4f, 3f, 2f, 1f, 0f, 9f, 8f, 7f, 6f, 5f })]   // x[:, ::-1]
    public void StridedSlice_honours_begin_end_masks_and_strides(int beginMask, int endMask, int begin, int end, int stride, float[] expected)
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2, 5]);
        int b = g.ConstInt("b", [0, begin], 2), e = g.ConstInt("e", [0, end], 2), s = g.ConstInt("s", [1, stride], 2);
        int y = g.Tensor("y", TfLiteType.Float32, [2, expected.Length / 2]);
        g.Op(TfLiteOp.StridedSlice, [x, b, e, s], [y], OptionsType.StridedSlice, new Opt.I(0, beginMask | 1), new Opt.I(1, endMask | 1));
        g.Io([x], [y]);
        Close(expected, Run(g.Build(), Seq(10), [2, 5]));
    }

    [Fact]
    public void StridedSlice_shrink_axis_drops_the_dimension_and_negative_begin_takes_the_last()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [3, 2]);
        int b = g.ConstInt("b", [-1, 0], 2), e = g.ConstInt("e", [0, 2], 2), s = g.ConstInt("s", [1, 1], 2);
        int y = g.Tensor("y", TfLiteType.Float32, [2]);
        g.Op(TfLiteOp.StridedSlice, [x, b, e, s], [y], OptionsType.StridedSlice, new Opt.I(4, 1));
        g.Io([x], [y]);
        Close([4f, 5f], Run(g.Build(), Seq(6), [3, 2]));
    }

    [Fact]
    public void Reshape_from_the_new_shape_option_when_there_is_no_shape_input()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2, 3]), y = g.Tensor("y", TfLiteType.Float32, [3, 2]);
        g.Op(TfLiteOp.Reshape, [x], [y], OptionsType.Reshape, new Opt.Ints(0, [3, -1]));
        g.Io([x], [y]);
        var onnx = TfLiteToOnnx.Convert(TfLiteModel.Parse(g.Build()));
        Close(Seq(6), ReferenceCheck.Run(onnx.ToBytes(), Seq(6), [2, 3]));
        var shapeInit = onnx.Graph.Initializer.Single(t => t.DataType == Alerts.Onnx.Tensors.Int64);
        Assert.Equal([3L, -1L], Alerts.Onnx.Tensors.ToInt64s(shapeInit));
    }

    [Fact]
    public void Transpose_follows_the_constant_permutation()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2, 3]), perm = g.ConstInt("perm", [1, 0], 2), y = g.Tensor("y", TfLiteType.Float32, [3, 2]);
        g.Op(TfLiteOp.Transpose, [x, perm], [y], OptionsType.Transpose);
        g.Io([x], [y]);
        Close([0f, 3f, 1f, 4f, 2f, 5f], Run(g.Build(), Seq(6), [2, 3]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExpandDims_then_a_1x1_Conv2D_embeds_channels_like_the_t2_input_layer(bool sequentialSums)
    {
        // [-1, 4, 2] -> EXPAND_DIMS(axis 1) -> [-1, 1, 4, 2] -> CONV_2D 1x1, 3 filters, bias, RELU.
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [1, 4, 2], [-1, 4, 2]), axis = g.ConstInt("axis", [1]);
        int ex = g.Tensor("ex", TfLiteType.Float32, [1, 1, 4, 2], [-1, 1, 4, 2]);
        float[] w = [1f, 0f, 0f, 1f, 1f, -1f];   // OHWI [3,1,1,2]
        int f = g.ConstFloat("w", w, 3, 1, 1, 2), bias = g.ConstFloat("b", [0f, 0.5f, -1f], 3);
        int y = g.Tensor("y", TfLiteType.Float32, [1, 1, 4, 3], [-1, 1, 4, 3]);
        g.Op(TfLiteOp.ExpandDims, [x, axis], [ex], OptionsType.ExpandDims);
        g.Op(TfLiteOp.Conv2D, [ex, f, bias], [y], OptionsType.Conv2D, new Opt.U8(0, 1), new Opt.I(1, 1), new Opt.I(2, 1), new Opt.U8(3, 1));
        g.Io([x], [y]);
        var input = Random(2 * 8, 3, 2f);
        var expected = new float[2 * 4 * 3];
        for (int n = 0; n < 2; n++) for (int t = 0; t < 4; t++)
        {
            float a = input[(n * 4 + t) * 2], b = input[(n * 4 + t) * 2 + 1];
            expected[(n * 4 + t) * 3 + 0] = Math.Max(0, a);
            expected[(n * 4 + t) * 3 + 1] = Math.Max(0, b + 0.5f);
            expected[(n * 4 + t) * 3 + 2] = Math.Max(0, a - b - 1f);
        }
        Close(expected, Run(g.Build(), input, [2, 4, 2], sequentialSums: sequentialSums), 1e-6);
    }

    [Theory]
    [InlineData(0, 1)]   // SAME, stride 1
    [InlineData(1, 1)]   // VALID
    [InlineData(0, 2)]   // SAME, stride 2
    public void Conv2D_3x3_matches_a_direct_NHWC_convolution(byte padding, int stride)
    {
        int h = 5, wd = 4, ci = 2, co = 3, k = 3;
        var w = Random(co * k * k * ci, 11);
        var bias = Random(co, 12);
        int oh = padding == 0 ? (h + stride - 1) / stride : (h - k) / stride + 1, ow = padding == 0 ? (wd + stride - 1) / stride : (wd - k) / stride + 1;
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [1, h, wd, ci]), f = g.ConstFloat("w", w, co, k, k, ci), b = g.ConstFloat("b", bias, co);
        int y = g.Tensor("y", TfLiteType.Float32, [1, oh, ow, co]);
        g.Op(TfLiteOp.Conv2D, [x, f, b], [y], OptionsType.Conv2D, new Opt.U8(0, padding), new Opt.I(1, stride), new Opt.I(2, stride), new Opt.U8(3, 0));
        g.Io([x], [y]);
        var input = Random(h * wd * ci, 13);
        // TF SAME: total pad = max((out-1)*stride + k - in, 0), the smaller half before.
        int padTop = padding == 0 ? Math.Max((oh - 1) * stride + k - h, 0) / 2 : 0, padLeft = padding == 0 ? Math.Max((ow - 1) * stride + k - wd, 0) / 2 : 0;
        var expected = new float[oh * ow * co];
        for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) for (int o = 0; o < co; o++)
        {
            double s = bias[o];
            for (int ky = 0; ky < k; ky++) for (int kx = 0; kx < k; kx++)
            {
                int iy = oy * stride + ky - padTop, ix = ox * stride + kx - padLeft;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                for (int c = 0; c < ci; c++) s += w[((o * k + ky) * k + kx) * ci + c] * input[(iy * wd + ix) * ci + c];
            }
            expected[(oy * ow + ox) * co + o] = (float)s;
        }
        Close(expected, Run(g.Build(), input, [1, h, wd, ci]), 1e-5);
    }

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, false, true)]
    [InlineData(false, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    public void BatchMatMul_with_adjoints_matches_a_direct_product(bool adjX, bool adjY, bool sequentialSums)
    {
        // x [2, 2, 3] (or its adjoint [2, 3, 2]) times c [3, 4] (or [4, 3]) -> [2, 2, 4]
        var cData = Random(12, 5);
        var g = new TfLiteGraphBuilder();
        int[] xShape = adjX ? [2, 3, 2] : [2, 2, 3];
        int x = g.Input("x", xShape), c = g.ConstFloat("c", cData, adjY ? [4, 3] : [3, 4]), y = g.Tensor("y", TfLiteType.Float32, [2, 2, 4]);
        g.Op(TfLiteOp.BatchMatMul, [x, c], [y], OptionsType.BatchMatMul, new Opt.B(0, adjX), new Opt.B(1, adjY));
        g.Io([x], [y]);
        var input = Random(12, 6);
        var expected = new float[16];
        for (int b = 0; b < 2; b++) for (int i = 0; i < 2; i++) for (int j = 0; j < 4; j++)
        {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += (adjX ? input[b * 6 + k * 2 + i] : input[b * 6 + i * 3 + k]) * (adjY ? cData[j * 3 + k] : cData[k * 4 + j]);
            expected[(b * 2 + i) * 4 + j] = (float)s;
        }
        Close(expected, Run(g.Build(), input, xShape, sequentialSums: sequentialSums), 1e-5);
    }

    [Fact]
    public void FullyConnected_float_flattens_leading_axes_and_adds_bias()
    {
        var w = Random(4 * 3, 21); var bias = Random(4, 22);
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2, 2, 3]), f = g.ConstFloat("w", w, 4, 3), b = g.ConstFloat("b", bias, 4), y = g.Tensor("y", TfLiteType.Float32, [4, 4]);
        g.Op(TfLiteOp.FullyConnected, [x, f, b], [y], OptionsType.FullyConnected, new Opt.U8(0, 0));
        g.Io([x], [y]);
        var input = Random(12, 23);
        var expected = new float[16];
        for (int r = 0; r < 4; r++) for (int u = 0; u < 4; u++)
        {
            double s = bias[u];
            for (int k = 0; k < 3; k++) s += input[r * 3 + k] * w[u * 3 + k];
            expected[r * 4 + u] = (float)s;
        }
        Close(expected, Run(g.Build(), input, [2, 2, 3]), 1e-6);
    }

    public static TheoryData<bool, bool> HybridCases => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(HybridCases))]
    public void FullyConnected_hybrid_int8_reproduces_TFLites_dynamic_input_quantization(bool asymmetric, bool perChannel)
    {
        int rows = 7, k = 32, units = 5;
        var rnd = new Random(31);
        var w = Enumerable.Range(0, units * k).Select(_ => (sbyte)rnd.Next(-127, 128)).ToArray();
        float[] scale = perChannel ? Enumerable.Range(0, units).Select(i => 0.01f + 0.003f * i).ToArray() : [0.0123f];
        var bias = Random(units, 32);
        var input = Random(rows * k, 33, 3f);
        for (int i = 0; i < k; i++) input[2 * k + i] = 0f;                  // an all-zero row
        for (int i = 0; i < k; i++) input[3 * k + i] = Math.Abs(input[3 * k + i]); // an all-positive row (rmin = 0)
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [rows, k]), f = g.ConstInt8("w", w, scale, 0, units, k), b = g.ConstFloat("b", bias, units);
        int y = g.Tensor("y", TfLiteType.Float32, [rows, units]);
        g.Op(TfLiteOp.FullyConnected, [x, f, b], [y], OptionsType.FullyConnected, new Opt.U8(0, 0), new Opt.B(3, asymmetric));
        g.Io([x], [y]);
        var expected = HybridFullyConnected(input, rows, k, w, units, scale, bias, asymmetric);
        Close(expected, Run(g.Build(), input, [rows, k]), 1e-6);
        // ... and it is not the same as running the dequantized weights in float: the input rounding is visible.
        var dequantized = Run(g.Build(), input, [rows, k], HybridArithmetic.DequantizedWeights);
        var exact = new float[rows * units];
        for (int r = 0; r < rows; r++) for (int u = 0; u < units; u++)
        {
            double s = bias[u];
            for (int i = 0; i < k; i++) s += input[r * k + i] * w[u * k + i] * (perChannel ? scale[u] : scale[0]);
            exact[r * units + u] = (float)s;
        }
        Close(exact, dequantized, 1e-5);
        Assert.True(expected.Zip(exact).Max(p => Math.Abs(p.First - p.Second)) > 1e-4);
    }

    [Fact]
    public void Dequantize_of_a_constant_int8_tensor_uses_its_per_channel_scales()
    {
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2, 2]);
        int q = g.ConstInt8("q", [10, -20, 30, 127], [0.5f, 0.25f], 1, 2, 2);
        int dq = g.Tensor("dq", TfLiteType.Float32, [2, 2]), y = g.Tensor("y", TfLiteType.Float32, [2, 2]);
        g.Op(TfLiteOp.Dequantize, [q], [dq], OptionsType.Dequantize);
        g.Op(TfLiteOp.Add, [x, dq], [y], OptionsType.Add, new Opt.U8(0, 0));
        g.Io([x], [y]);
        Close([5f, -5f, 15f, 31.75f], Run(g.Build(), [0f, 0f, 0f, 0f], [2, 2]));
    }

    [Fact]
    public void ReadVariable_of_a_variable_assigned_in_the_CALL_ONCE_init_subgraph_folds_to_that_constant()
    {
        var g = new TfLiteGraphBuilder();
        int init = g.BeginSubgraph("init");
        int value = g.ConstFloat("init_value", [1f, 2f, 3f], 3), handle = g.Tensor("h", TfLiteType.Resource, []);
        g.Op(TfLiteOp.VarHandle, [], [handle], OptionsType.VarHandle, new Opt.S(1, "v"));
        g.Op(TfLiteOp.AssignVariable, [handle, value], [], OptionsType.AssignVariable);
        g.SelectSubgraph(0);
        int x = g.Input("x", [3]), h = g.Tensor("h", TfLiteType.Resource, []), read = g.Tensor("read", TfLiteType.Float32, [3]), y = g.Tensor("y", TfLiteType.Float32, [3]);
        g.Op(TfLiteOp.CallOnce, [], [], OptionsType.CallOnce, new Opt.I(0, init));
        g.Op(TfLiteOp.VarHandle, [], [h], OptionsType.VarHandle, new Opt.S(1, "v"));
        g.Op(TfLiteOp.ReadVariable, [h], [read], OptionsType.ReadVariable);
        g.Op(TfLiteOp.Mul, [x, read], [y], OptionsType.Mul, new Opt.U8(0, 0));
        g.Io([x], [y]);
        Close([2f, 4f, 6f], Run(g.Build(), [2f, 2f, 2f], [3]));
    }

    [Fact]
    public void A_variable_that_is_assigned_but_never_read_is_dropped_and_the_card_says_so()
    {
        // FINK's t2: the main graph assigns the clustered layer's pulling indices and never reads them.
        var g = new TfLiteGraphBuilder();
        int x = g.Input("x", [2]), h = g.Tensor("pulling_indices", TfLiteType.Resource, []), idx = g.ConstInt64("indices", [0, 1], 2);
        int y = g.Tensor("y", TfLiteType.Float32, [2]);
        g.Op(TfLiteOp.VarHandle, [], [h], OptionsType.VarHandle, new Opt.S(1, "pulling_indices"));
        g.Op(TfLiteOp.AssignVariable, [h, idx], [], OptionsType.AssignVariable);
        g.Op(TfLiteOp.Rsqrt, [x], [y]);
        g.Io([x], [y]);
        var onnx = TfLiteToOnnx.Convert(TfLiteModel.Parse(g.Build()), null, out var notes);
        Assert.Contains(notes, n => n.Contains("never") || n.Contains("no READ_VARIABLE"));
        Assert.DoesNotContain(onnx.Graph.Initializer, t => t.Name.Contains("indices"));
        Close([1f, 0.5f], ReferenceCheck.Run(onnx.ToBytes(), [1f, 4f], [2]));
    }
}
