using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Alerts.Classifier;
using Alerts.Onnx;
using Alerts.Core;
using Alerts.Pipeline.Commands;
using Alerts.Tests.Shared;
using Spectre.Console;

namespace Alerts.Pipeline.Tests;

/// <summary>The real-sky part of <c>alerts evaluate</c> and its training-objects guard: the functions, then the real command as a process.</summary>
public sealed class EvaluateCommandTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("evaluate-cli-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static bool InLowerHalf(string id) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(id)))[0] is >= '0' and <= '7';

    private static LightCurve Curve(int points)
    {
        var lc = new LightCurve(points);
        for (int i = 0; i < points; i++) lc.Add(60000 + i, i % 2 == 0 ? Band.ZtfG : Band.ZtfR, 1000, 10, PointKind.Detection);
        return lc;
    }

    private static (IAnsiConsole Console, StringWriter Text) Recorder()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 400;
        return (console, text);
    }

    // Made-up ZTF-style ids, and two ids no ZTF rule can match.
    private static readonly string[] ZtfIds = Enumerable.Range(0, 40).Select(i => $"ZTF2{i % 10}{(char)('a' + i % 26)}bcdef{(char)('a' + i / 26)}").ToArray();

    private static List<ObjectLightCurve> Objects()
    {
        int ia = T2Classes.IndexOf("SNIa");
        var list = ZtfIds.Select(id => new ObjectLightCurve(id, Curve(8), ia)).ToList();
        list.Add(new ObjectLightCurve("sim-000001", Curve(8), ia));
        list.Add(new ObjectLightCurve("ZTF20ABCDEFG", Curve(8), ia));
        // Day views of every object: they share its object id and must go with it.
        list.AddRange(ClassifierInputs.DayViews(list.ToList(), [3], includeFull: false, keepRedundant: true));
        return list;
    }

    [Fact]
    public void Guard_LeavesOutEveryViewOfATrainingObject_AndWarnsHowManyNamingTheOption()
    {
        var objects = Objects();
        var rule = TrainingObjects.Parse("md5-first-hex:01234567");
        int expected = ZtfIds.Count(InLowerHalf);
        Assert.InRange(expected, 1, ZtfIds.Length - 1);
        var (console, text) = Recorder();
        var (kept, leftOut, scored) = EvaluateCommand.GuardTrainingObjects(objects, [("m.onnx", rule)], include: false, console);
        Assert.Equal(expected, leftOut);
        Assert.Equal(0, scored);
        Assert.Equal(objects.Count - 2 * expected, kept.Count);
        Assert.DoesNotContain(kept, o => rule.Contains(o.Object));
        Assert.Contains(kept, o => o.Id == "sim-000001");
        Assert.Contains(kept, o => o.Id == "ZTF20ABCDEFG");
        var warning = text.ToString();
        Assert.Contains($"left out {expected} objects", warning);
        Assert.Contains("--include-training-objects", warning);
        Assert.Contains("alerts.training_objects", warning);
    }

    [Fact]
    public void Guard_WithIncludeTrainingObjects_KeepsThem_AndWarnsTheFiguresAreNotHeldOut()
    {
        var objects = Objects();
        var (console, text) = Recorder();
        var (kept, leftOut, scored) = EvaluateCommand.GuardTrainingObjects(objects, [("m.onnx", TrainingObjects.Parse("md5-first-hex:01234567"))], include: true, console);
        Assert.Same(objects, kept);
        Assert.Equal(0, leftOut);
        Assert.Equal(ZtfIds.Count(InLowerHalf), scored);
        Assert.Contains("NOT held-out", text.ToString());
    }

    [Fact]
    public void Guard_NeverLeavesOutObjectsOfASimulatedTable_ThoughTheirIdsAreZtfStyle()
    {
        var simulated = Objects().Select(o => o with { IsSimulated = true }).ToList();
        var (console, text) = Recorder();
        var (kept, leftOut, _) = EvaluateCommand.GuardTrainingObjects(simulated, [("m.onnx", TrainingObjects.Parse("md5-first-hex:01234567"))], include: false, console);
        Assert.Equal(simulated.Count, kept.Count);
        Assert.Equal(0, leftOut);
        Assert.Equal("", text.ToString());
    }

    [Fact]
    public void SimulatorLabelTable_MarksItsObjectsSimulated_ARealTableWithASetColumnDoesNot()
    {
        var dir = Directory.CreateTempSubdirectory("alerts-labels-").FullName;
        try
        {
            var sim = Path.Combine(dir, "sim.csv");
            File.WriteAllText(sim, "object_id,class,survey,redshift,peak_mjd\nZTF26aaaaaab,SNIa,ztf,0.1,61000\n");
            var real = Path.Combine(dir, "real.csv");
            File.WriteAllText(real, "object_id,class,redshift,set,fold\nZTF20abcdefg,SNIa,0.05,bts,1\n");
            var a = ClassifierInputs.ReadLabels(sim, new(), null, out bool simReal, out bool simSimulated);
            var b = ClassifierInputs.ReadLabels(real, new(), null, out bool realReal, out bool realSimulated);
            Assert.Equal(T2Classes.IndexOf("SNIa"), a["ZTF26aaaaaab"]);
            Assert.Equal(T2Classes.IndexOf("SNIa"), b["ZTF20abcdefg"]);
            Assert.Equal((false, true), (simReal, simSimulated));
            Assert.Equal((true, false), (realReal, realSimulated));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Guard_WithoutARule_ChangesNothing_AndSaysNothing()
    {
        var objects = Objects();
        var (console, text) = Recorder();
        var (kept, leftOut, _) = EvaluateCommand.GuardTrainingObjects(objects, [], include: false, console);
        Assert.Same(objects, kept);
        Assert.Equal(0, leftOut);
        Assert.Equal("", text.ToString());
    }

    [Fact]
    public void RealSkyViews_AreWholeCurveThenDaysAscending_AndTheJsonIsCamelCaseWithNullForNaN()
    {
        int ia = T2Classes.IndexOf("SNIa"), agn = T2Classes.IndexOf("AGN");
        var whole = new ObjectLightCurve("a", Curve(4), ia);
        var objects = new List<ObjectLightCurve> { whole with { View = 10 }, whole, whole with { View = 3 }, new("b", Curve(4), agn) };
        var p = new float[T2Classes.Count];
        p[ia] = 1;
        var ok = new Classification(new AlertIdentity(Survey.Ztf, 0, "a", 0, 0, 0, "t"), SourcePosition.File("t", 0), "SNIa", 1, p, "m", 4, "ztfg", null, default, default, default);
        var no = ok with { Probabilities = [], Reason = "too-few-points" };
        var views = EvaluateRealSky.Compute(objects, [ok, ok, no, ok]);
        Assert.Equal(["whole curve", "3 d", "10 d"], views.Select(v => v.View));
        Assert.Equal(1.0, views[0].Coverage);
        Assert.Equal(1, views[0].Ignored);   // the AGN
        Assert.Equal(0.0, views[1].Coverage);
        Assert.True(double.IsNaN(views[1].Ece));
        var json = EvaluateRealSky.ToJson(views)!.ToJsonString();
        using var doc = JsonDocument.Parse(json);
        var three = doc.RootElement[1];
        Assert.Equal(JsonValueKind.Null, three.GetProperty("ece").ValueKind);
        Assert.Equal(JsonValueKind.Null, three.GetProperty("snIaBalancedAccuracy").ValueKind);
        Assert.Equal(3, three.GetProperty("days").GetDouble());
        Assert.Equal(1.0, doc.RootElement[0].GetProperty("snIaBalancedAccuracy").GetDouble());
        Assert.Equal(15, doc.RootElement[0].GetProperty("reliability").GetArrayLength());
        Assert.Equal(1, doc.RootElement[0].GetProperty("confusion").GetProperty("SNIa").GetProperty("SNIa").GetInt32());
    }

    private static (int Code, string Out, string Err) Run(params string[] args) =>
        AlertsProcess.Run(args, environment: new Dictionary<string, string> { ["COLUMNS"] = "200" });

    [Fact]
    public void Evaluate_LeavesOutTheObjectsATaggedModelWasTrainedOn_UnlessAskedToScoreThem()
    {
        var sim = Path.Combine(_tmp, "sim");
        var (code, _, err) = Run("simulate", "--survey", "ztf", "--objects", "40", "--classes", "SNIa,SNII,SNIbc,AGN", "--format", "none", "--seed", "5", "--out", sim);
        Assert.True(code == 0, err);
        var ids = File.ReadAllLines(Path.Combine(sim, "labels.csv")).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[0]).ToList();
        Assert.All(ids, id => Assert.True(TrainingObjects.IsZtfStyle(id), id));
        int training = ids.Count(InLowerHalf);

        var tagged = Path.Combine(_tmp, "tagged.onnx");
        var model = OnnxModel.Load(RepoPaths.Of("models", "t2-ztf.onnx"));
        model.Proto.MetadataProps.Add(new Alerts.Onnx.Proto.StringStringEntryProto { Key = TrainingObjects.MetadataKey, Value = "md5-first-hex:01234567" });
        model.Save(tagged);
        // The same objects as a real labelled set would list them (a set column, no simulator parameters): the rule applies.
        var realLabels = Path.Combine(_tmp, "labels-real.csv");
        File.WriteAllLines(realLabels, new[] { "object_id,class,set" }.Concat(File.ReadAllLines(Path.Combine(sim, "labels.csv")).Skip(1)
            .Where(l => l.Length > 0).Select(l => string.Join(',', l.Split(',').Take(2)) + ",test")));

        string[] common = ["evaluate", "--model", tagged, "--lightcurves", Path.Combine(sim, "lightcurves.csv"), "--labels", realLabels, "--days", "5", "--workers", "1", "--json"];
        var (c1, out1, err1) = Run(common);
        Assert.True(c1 == 0, err1);
        Assert.Contains($"left out {training} objects", err1);
        Assert.Contains("--include-training-objects", err1);
        using (var doc = JsonDocument.Parse(out1))
        {
            var r = doc.RootElement;
            Assert.Equal(training, r.GetProperty("trainingObjectsLeftOut").GetInt32());
            Assert.Equal(2 * (ids.Count - training), r.GetProperty("Objects").GetInt32());   // whole curve + the 5 d view
            var views = r.GetProperty("realSky").EnumerateArray().Select(v => v.GetProperty("view").GetString()).ToList();
            Assert.Equal(["whole curve", "5 d"], views);
        }
        Assert.Contains("real sky", err1);   // with --json the tables go to stderr

        var (c2, out2, err2) = Run([.. common, "--include-training-objects"]);
        Assert.True(c2 == 0, err2);
        Assert.Contains("NOT held-out", err2);
        using (var doc = JsonDocument.Parse(out2))
        {
            Assert.Equal(2 * ids.Count, doc.RootElement.GetProperty("Objects").GetInt32());
            Assert.Equal(training, doc.RootElement.GetProperty("trainingObjectsScored").GetInt32());
        }

        // The simulator's own table: its made-up ZTF-style ids are never training objects, so every object is scored
        // and nothing is said about training objects.
        var (c3, out3, err3) = Run("evaluate", "--model", tagged, "--lightcurves", Path.Combine(sim, "lightcurves.csv"), "--labels", Path.Combine(sim, "labels.csv"), "--workers", "1", "--json");
        Assert.True(c3 == 0, err3);
        Assert.DoesNotContain("training", err3);
        using (var doc = JsonDocument.Parse(out3)) Assert.Equal(ids.Count, doc.RootElement.GetProperty("Objects").GetInt32());
    }
}
