using Alerts.Onnx.Proto;
using Google.Protobuf;

namespace Alerts.Onnx;

/// <summary>
/// An ONNX model held as its protobuf (<see cref="ModelProto"/>) plus a small graph API over it: initializers by
/// name, producers and consumers of a value, node replacement, and a topological-order check. Passes mutate a
/// <see cref="Clone"/> so every variant is independent.
/// </summary>
public sealed class OnnxModel
{
    public ModelProto Proto { get; }

    public OnnxModel(ModelProto proto) => Proto = proto ?? throw new ArgumentNullException(nameof(proto));

    public GraphProto Graph => Proto.Graph;

    public static OnnxModel Load(string path)
    {
        try { return Parse(File.ReadAllBytes(path)); }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not an ONNX model (protobuf ModelProto did not parse: {e.Message}). Pass an .onnx file exported by torch.onnx or onnx.save.", e);
        }
    }

    public static OnnxModel Parse(ReadOnlySpan<byte> bytes)
    {
        var proto = ModelProto.Parser.ParseFrom(bytes);
        if (proto.Graph is null) throw new InvalidDataException("ONNX model has no graph (ModelProto.graph, field 7, is missing).");
        return new OnnxModel(proto);
    }

    /// <summary>Serialises deterministically: Google.Protobuf writes fields in number order and we use no maps.</summary>
    public byte[] ToBytes() => Proto.ToByteArray();

    public void Save(string path) => File.WriteAllBytes(path, ToBytes());

    public OnnxModel Clone() => new(Proto.Clone());

    public long OpsetVersion(string domain = "")
    {
        foreach (var o in Proto.OpsetImport)
            if ((o.HasDomain ? o.Domain : "") == domain || (domain == "" && o.Domain == "ai.onnx")) return o.Version;
        return 0;
    }

    public void EnsureOpset(string domain, long version)
    {
        foreach (var o in Proto.OpsetImport)
            if ((o.HasDomain ? o.Domain : "") == domain) { if (o.Version < version) o.Version = version; return; }
        Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
    }

    // ---- initializers ----

    public TensorProto? Initializer(string name)
    {
        foreach (var t in Graph.Initializer) if (t.Name == name) return t;
        return null;
    }

    public bool IsInitializer(string name) => Initializer(name) is not null;

    /// <summary>Value of a constant: an initializer, or the tensor attribute of a Constant node.</summary>
    public TensorProto? ConstantValue(string name)
    {
        var init = Initializer(name);
        if (init is not null) return init;
        var p = Producer(name);
        if (p is { OpType: "Constant" })
            foreach (var a in p.Attribute) if (a.Name == "value" && a.T is not null) return a.T;
        return null;
    }

    public void SetInitializer(TensorProto tensor)
    {
        for (int i = 0; i < Graph.Initializer.Count; i++)
            if (Graph.Initializer[i].Name == tensor.Name) { Graph.Initializer[i] = tensor; return; }
        Graph.Initializer.Add(tensor);
    }

    public bool RemoveInitializer(string name)
    {
        for (int i = 0; i < Graph.Initializer.Count; i++)
            if (Graph.Initializer[i].Name == name) { Graph.Initializer.RemoveAt(i); return true; }
        return false;
    }

    /// <summary>A name not yet used by any value, initializer or node in the graph.</summary>
    public string UniqueName(string stem)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in Graph.Initializer) used.Add(t.Name);
        foreach (var v in Graph.Input) used.Add(v.Name);
        foreach (var n in Graph.Node) { used.Add(n.Name); foreach (var o in n.Output) used.Add(o); }
        if (!used.Contains(stem)) return stem;
        for (int i = 1; ; i++) if (!used.Contains($"{stem}_{i}")) return $"{stem}_{i}";
    }

    // ---- nodes ----

    public NodeProto? Producer(string value)
    {
        foreach (var n in Graph.Node) foreach (var o in n.Output) if (o == value) return n;
        return null;
    }

    public List<NodeProto> Consumers(string value)
    {
        var list = new List<NodeProto>();
        foreach (var n in Graph.Node) foreach (var i in n.Input) if (i == value) { list.Add(n); break; }
        return list;
    }

    public IEnumerable<NodeProto> NodesOfType(string opType) => Graph.Node.Where(n => n.OpType == opType);

    public int IndexOf(NodeProto node)
    {
        for (int i = 0; i < Graph.Node.Count; i++) if (ReferenceEquals(Graph.Node[i], node)) return i;
        return -1;
    }

    /// <summary>Replaces <paramref name="node"/> by <paramref name="replacement"/> nodes at the same position (keeps topological order).</summary>
    public void Replace(NodeProto node, params NodeProto[] replacement)
    {
        int i = IndexOf(node);
        if (i < 0) throw new InvalidOperationException($"node {node.Name} is not in the graph");
        Graph.Node.RemoveAt(i);
        for (int k = 0; k < replacement.Length; k++) Graph.Node.Insert(i + k, replacement[k]);
    }

    public void InsertBefore(NodeProto anchor, params NodeProto[] nodes)
    {
        int i = IndexOf(anchor);
        if (i < 0) throw new InvalidOperationException($"node {anchor.Name} is not in the graph");
        for (int k = 0; k < nodes.Length; k++) Graph.Node.Insert(i + k, nodes[k]);
    }

    /// <summary>Renames every use of a value (node inputs and graph outputs).</summary>
    public void ReplaceUses(string oldName, string newName, NodeProto? except = null)
    {
        foreach (var n in Graph.Node)
        {
            if (ReferenceEquals(n, except)) continue;
            for (int i = 0; i < n.Input.Count; i++) if (n.Input[i] == oldName) n.Input[i] = newName;
        }
    }

    /// <summary>Drops initializers that no node reads any more (after a pass replaced them).</summary>
    public int RemoveUnusedInitializers()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in Graph.Node) foreach (var i in n.Input) used.Add(i);
        foreach (var o in Graph.Output) used.Add(o.Name);
        int removed = 0;
        for (int i = Graph.Initializer.Count - 1; i >= 0; i--)
            if (!used.Contains(Graph.Initializer[i].Name)) { Graph.Initializer.RemoveAt(i); removed++; }
        // Shapes recorded for intermediate values may be stale after a pass; ORT re-infers them.
        Graph.ValueInfo.Clear();
        return removed;
    }

    /// <summary>
    /// Checks that every node input is produced earlier (or is a graph input / initializer / empty optional) and
    /// that no value is produced twice. Returns the problems found; empty means the graph is well-formed.
    /// </summary>
    public List<string> CheckTopology()
    {
        var problems = new List<string>();
        var known = new HashSet<string>(StringComparer.Ordinal) { "" };
        foreach (var v in Graph.Input) known.Add(v.Name);
        foreach (var t in Graph.Initializer) known.Add(t.Name);
        foreach (var n in Graph.Node)
        {
            foreach (var i in n.Input)
                if (!known.Contains(i)) problems.Add($"node '{n.Name}' ({n.OpType}) reads '{i}' before it is produced");
            foreach (var o in n.Output)
                if (!known.Add(o)) problems.Add($"value '{o}' is produced twice (second time by '{n.Name}')");
        }
        foreach (var o in Graph.Output)
            if (!known.Contains(o.Name)) problems.Add($"graph output '{o.Name}' is never produced");
        return problems;
    }

    /// <summary>Number of weight parameters (elements of all initializers).</summary>
    public long ParameterCount() => Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));

    // ---- node helpers ----

    public static NodeProto Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, string? domain = null, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = opType, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        if (domain is not null) n.Domain = domain;
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static AttributeProto IntAttribute(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    public static AttributeProto IntsAttribute(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto? Attribute(NodeProto node, string name)
    {
        foreach (var a in node.Attribute) if (a.Name == name) return a;
        return null;
    }

    public static long IntAttributeOr(NodeProto node, string name, long fallback) => Attribute(node, name) is { HasI: true } a ? a.I : fallback;
}
