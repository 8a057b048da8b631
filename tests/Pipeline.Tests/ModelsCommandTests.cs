using Alerts.Classifier;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>`alerts models manifest` (re)writes the manifest a listed model is checked against before it loads.</summary>
public sealed class ModelsCommandTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("models-cmd-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    [Fact]
    public void Models_manifest_writes_the_manifest_and_a_replaced_model_then_loads_after_rewriting_it()
    {
        var model = Path.Combine(_tmp, "t2-ztf.deployed.ort");
        File.Copy(RepoPaths.Of("models", "t2-ztf.deployed.ort"), model);
        Assert.Equal(0, Program.BuildRoot().Parse(["models", "manifest", "--dir", _tmp]).Invoke());
        var manifest = Path.Combine(_tmp, ModelManifest.FileName);
        Assert.Equal(ModelManifest.Read(RepoPaths.Of("models", ModelManifest.FileName))["t2-ztf.deployed.ort"], ModelManifest.Read(manifest)["t2-ztf.deployed.ort"]);

        // "Retraining": another model under the same name is refused until the manifest is rewritten.
        File.Copy(RepoPaths.Of("models", "t2-lsst.deployed.ort"), model, overwrite: true);
        var ex = Assert.Throws<InvalidDataException>(() => new OnnxT2Classifier(model));
        Assert.Contains("alerts models manifest", ex.Message);
        Assert.Equal(0, Program.BuildRoot().Parse(["models", "manifest", "--dir", _tmp]).Invoke());
        using var c = new OnnxT2Classifier(model);
        Assert.Equal(ModelManifest.Read(manifest)["t2-ztf.deployed.ort"][..12], c.ModelId);
    }

    [Fact]
    public void Models_manifest_on_a_missing_folder_fails_with_exit_1()
    {
        Assert.Equal(1, Program.BuildRoot().Parse(["models", "manifest", "--dir", Path.Combine(_tmp, "nope")]).Invoke());
        Assert.False(File.Exists(Path.Combine(_tmp, "nope", ModelManifest.FileName)));
    }
}
