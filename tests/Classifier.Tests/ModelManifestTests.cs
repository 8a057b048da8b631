using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Alerts.Tests.Shared;

namespace Alerts.Classifier.Tests;

/// <summary>models/MANIFEST.sha256: a listed model is verified before ONNX Runtime loads it; the shipped manifest covers every shipped model.</summary>
public sealed class ModelManifestTests : IDisposable
{
    private const string Model = "t2-ztf.deployed.ort";
    private readonly string _tmp = Directory.CreateTempSubdirectory("manifest-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static string Hash(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    /// <summary>A copy of the shipped model with the shipped manifest beside it.</summary>
    private string CopyWithManifest(Func<byte[], byte[]>? change = null)
    {
        var bytes = File.ReadAllBytes(RepoPaths.Of("models", Model));
        var path = Path.Combine(_tmp, Model);
        File.WriteAllBytes(path, change is null ? bytes : change(bytes));
        File.Copy(RepoPaths.Of("models", ModelManifest.FileName), Path.Combine(_tmp, ModelManifest.FileName));
        return path;
    }

    [Fact]
    public void An_untouched_listed_model_loads_and_its_id_is_the_listed_hash()
    {
        var path = CopyWithManifest();
        var listed = ModelManifest.Read(Path.Combine(_tmp, ModelManifest.FileName))[Model];
        Assert.Equal(listed, ModelManifest.Verify(path, File.ReadAllBytes(path)));
        using var c = new OnnxT2Classifier(path);
        Assert.Equal(listed[..12], c.ModelId);
    }

    [Fact]
    public void A_listed_model_with_one_flipped_byte_is_refused_naming_file_hashes_and_fix()
    {
        var original = File.ReadAllBytes(RepoPaths.Of("models", Model));
        var path = CopyWithManifest(b => { var c = (byte[])b.Clone(); c[c.Length / 2] ^= 0x01; return c; });
        var ex = Assert.Throws<InvalidDataException>(() => new OnnxT2Classifier(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"expected sha256 {Hash(original)}", ex.Message);
        Assert.Contains($"actual {Hash(File.ReadAllBytes(path))}", ex.Message);
        Assert.Contains($"re-run `alerts models manifest --dir {_tmp}` after retraining, or restore the file", ex.Message);
    }

    [Fact]
    public void A_truncated_listed_model_is_refused_with_its_size()
    {
        var path = CopyWithManifest(b => b[..(b.Length / 3)]);
        var ex = Assert.Throws<InvalidDataException>(() => new OnnxT2Classifier(path));
        Assert.Contains($"({new FileInfo(path).Length} bytes)", ex.Message);
        Assert.Contains("does not match", ex.Message);
    }

    [Fact]
    public void A_model_without_a_manifest_or_not_listed_in_it_loads_unchecked()
    {
        var bytes = File.ReadAllBytes(RepoPaths.Of("models", Model));
        var alone = Path.Combine(_tmp, "mine.ort");
        File.WriteAllBytes(alone, bytes);
        Assert.Null(ModelManifest.Verify(alone, bytes));
        using (var c = new OnnxT2Classifier(alone)) Assert.Equal(Hash(bytes)[..12], c.ModelId);
        File.Copy(RepoPaths.Of("models", ModelManifest.FileName), Path.Combine(_tmp, ModelManifest.FileName));
        Assert.Null(ModelManifest.Verify(alone, bytes)); // a manifest that does not list mine.ort
        using (new OnnxT2Classifier(alone)) { }
    }

    [Fact]
    public void Write_lists_every_onnx_and_ort_in_sha256sum_format_and_nothing_else()
    {
        File.WriteAllBytes(Path.Combine(_tmp, "b.onnx"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(_tmp, "a.ort"), [4]);
        File.WriteAllText(Path.Combine(_tmp, "a.md"), "card");
        Assert.Equal(2, ModelManifest.Write(_tmp));
        var lines = File.ReadAllLines(Path.Combine(_tmp, ModelManifest.FileName));
        Assert.Equal([$"{Hash([4])}  a.ort", $"{Hash([1, 2, 3])}  b.onnx"], lines);
        Assert.Equal(new Dictionary<string, string> { ["a.ort"] = Hash([4]), ["b.onnx"] = Hash([1, 2, 3]) }, ModelManifest.Read(Path.Combine(_tmp, ModelManifest.FileName)));
    }

    [Fact]
    public void The_shipped_manifest_lists_every_shipped_model_and_matches_it()
    {
        var dir = RepoPaths.Of("models");
        const string fix = "the models changed: regenerate the manifest from the repository root with " +
            "`dotnet run --project src/Pipeline -c Release -- models manifest --dir models` (or `alerts models manifest --dir models`) and commit models/MANIFEST.sha256";
        var manifest = Path.Combine(dir, ModelManifest.FileName);
        Assert.True(File.Exists(manifest), $"models/{ModelManifest.FileName} is missing; {fix}");
        Assert.All(File.ReadAllLines(manifest), l => Assert.Matches(new Regex("^[0-9a-f]{64}  [^/]+$"), l));
        var listed = ModelManifest.Read(manifest);
        var shipped = ModelManifest.ModelFiles(dir);
        Assert.NotEmpty(shipped);
        Assert.True(shipped.Order().SequenceEqual(listed.Keys.Order()),
            $"models/ holds [{string.Join(", ", shipped)}] but the manifest lists [{string.Join(", ", listed.Keys.Order())}]; {fix}");
        foreach (var name in shipped)
        {
            var actual = Hash(File.ReadAllBytes(Path.Combine(dir, name)));
            Assert.True(actual == listed[name], $"models/{name}: sha256 {actual}, the manifest says {listed[name]}; {fix}");
        }
    }
}
