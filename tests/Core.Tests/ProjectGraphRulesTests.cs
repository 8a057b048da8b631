using System.Xml.Linq;
using Alerts.Tests.Shared;

namespace Alerts.Core.Tests;

/// <summary>
/// The ProjectReference graph of src/: a stage never references another stage (what two stages share lives in a
/// library below them), a library references only libraries, and the app (src/Pipeline) may reference everything.
/// Checked over every src/*/*.csproj, so a new project must be placed in one of the three lists.
/// </summary>
public sealed class ProjectGraphRulesTests
{
    private static readonly string[] Stages = ["Ingest", "Classifier", "Compression", "Sink", "Simulator", "Interop"];
    private static readonly string[] Libraries = ["Core", "Avro", "OrtKernels", "Onnx", "Tables"];
    private static readonly string[] Apps = ["Pipeline"];

    /// <summary>Project name (the folder under src/) to the names of the src projects it references.</summary>
    private static Dictionary<string, List<string>> Graph()
    {
        var graph = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(RepoPaths.Of("src")).Order(StringComparer.Ordinal))
        {
            foreach (var csproj in Directory.EnumerateFiles(dir, "*.csproj"))
            {
                var name = Path.GetFileName(dir);
                var refs = XDocument.Load(csproj).Descendants()
                    .Where(e => e.Name.LocalName == "ProjectReference")
                    .Select(e => (string?)e.Attribute("Include"))
                    .Where(i => !string.IsNullOrEmpty(i))
                    .Select(i => Path.GetFullPath(Path.Combine(dir, i!.Replace('\\', Path.DirectorySeparatorChar))))
                    .Select(p => Path.GetFileName(Path.GetDirectoryName(p))!)
                    .ToList();
                graph[name] = refs;
            }
        }
        return graph;
    }

    [Fact]
    public void The_graph_covers_every_project()
    {
        var graph = Graph();
        Assert.Contains("Core", graph.Keys);
        var unplaced = graph.Keys.Where(p => !Stages.Contains(p) && !Libraries.Contains(p) && !Apps.Contains(p)).ToList();
        Assert.True(unplaced.Count == 0,
            "src projects that are neither a stage, a library nor the app (add each to one list in ProjectGraphRulesTests): " + string.Join(", ", unplaced));
        var missing = Stages.Concat(Libraries).Concat(Apps).Where(p => !graph.ContainsKey(p)).ToList();
        Assert.True(missing.Count == 0, "listed in ProjectGraphRulesTests but no src/NAME/*.csproj: " + string.Join(", ", missing));
    }

    [Fact]
    public void No_stage_references_another_stage()
    {
        var edges = Graph()
            .Where(kv => Stages.Contains(kv.Key))
            .SelectMany(kv => kv.Value.Where(Stages.Contains).Select(to => $"{kv.Key} -> {to}"))
            .ToList();
        Assert.True(edges.Count == 0,
            "stage -> stage ProjectReferences (move what they share into a library below the stages, or the use into src/Pipeline): "
            + string.Join(", ", edges));
    }

    [Fact]
    public void A_library_references_only_libraries()
    {
        var edges = Graph()
            .Where(kv => Libraries.Contains(kv.Key))
            .SelectMany(kv => kv.Value.Where(to => !Libraries.Contains(to)).Select(to => $"{kv.Key} -> {to}"))
            .ToList();
        Assert.True(edges.Count == 0, "library ProjectReferences to a stage or the app: " + string.Join(", ", edges));
    }
}
