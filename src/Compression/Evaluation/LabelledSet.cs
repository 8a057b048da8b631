using Alerts.Onnx;

namespace Alerts.Compression.Evaluation;

/// <summary>
/// Model inputs with labels: <see cref="Features"/> is [Count, Steps, Bands] row-major float32 (the t2 input),
/// <see cref="Labels"/> are T2Classes indices (0..13).
/// </summary>
public sealed class LabelledSet
{
    public LabelledSet(float[] features, long[] labels, int steps, int bands)
    {
        if (features.Length != labels.Length * steps * bands)
            throw new ArgumentException($"features hold {features.Length} values, expected {labels.Length} x {steps} x {bands}");
        Features = features; Labels = labels; Steps = steps; Bands = bands;
    }

    public float[] Features { get; }
    public long[] Labels { get; }
    public int Steps { get; }
    public int Bands { get; }
    public int Count => Labels.Length;
    public int RowLength => Steps * Bands;

    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * RowLength, RowLength);

    /// <summary>The first <paramref name="n"/> rows (or all), as a new set.</summary>
    public LabelledSet Take(int n)
    {
        n = Math.Min(n, Count);
        return new LabelledSet(Features.AsSpan(0, n * RowLength).ToArray(), Labels.AsSpan(0, n).ToArray(), Steps, Bands);
    }

    /// <summary>
    /// Loads labelled features from an .npz holding arrays x (or X/features) and y (or labels) — the .npz that
    /// `alerts features` writes (X, y, plus ids/channels/classes string members, which are ignored) — or from a folder
    /// holding x.npy and y.npy.
    /// </summary>
    public static LabelledSet Load(string path)
    {
        NpyArray x, y;
        if (Directory.Exists(path))
        {
            string xp = FirstExisting(path, "x.npy", "X.npy", "features.npy");
            string yp = FirstExisting(path, "y.npy", "labels.npy");
            x = Npy.Read(xp); y = Npy.Read(yp);
        }
        else if (path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: labelled data file not found. Pass --data with an .npz (arrays x, y) or a folder holding x.npy and y.npy.");
            string[] wanted = ["x", "X", "features", "y", "labels"];
            var arrays = Npy.ReadNpz(path, wanted.Contains);
            x = Pick(arrays, path, "x", "X", "features");
            y = Pick(arrays, path, "y", "labels");
        }
        else throw new InvalidDataException($"{path}: labelled data must be an .npz (arrays x, y) or a folder holding x.npy and y.npy.");

        if (x.Floats is null) throw new InvalidDataException($"{path}: x must be float32 (or float64); got an integer array.");
        if (y.Longs is null) throw new InvalidDataException($"{path}: y must hold integer class indices (int64); got floats.");
        if (x.Shape.Length != 3) throw new InvalidDataException($"{path}: x must have shape [N, steps, bands]; got [{string.Join(", ", x.Shape)}].");
        if (y.Shape.Length != 1 || y.Shape[0] != x.Shape[0]) throw new InvalidDataException($"{path}: y must have shape [{x.Shape[0]}] to match x; got [{string.Join(", ", y.Shape)}].");
        foreach (var l in y.Longs)
            if (l < 0 || l >= Core.T2Classes.Count) throw new InvalidDataException($"{path}: label {l} in y is outside 0..{Core.T2Classes.Count - 1} (T2Classes order).");
        return new LabelledSet(x.Floats, y.Longs, x.Shape[1], x.Shape[2]);
    }

    private static string FirstExisting(string dir, params string[] names)
    {
        foreach (var n in names) { var p = System.IO.Path.Combine(dir, n); if (File.Exists(p)) return p; }
        throw new FileNotFoundException($"{dir}: none of {string.Join(", ", names)} found; a labelled folder needs x.npy (float32 [N, steps, bands]) and y.npy (int64 [N]).");
    }

    private static NpyArray Pick(Dictionary<string, NpyArray> arrays, string path, params string[] keys)
    {
        foreach (var k in keys) if (arrays.TryGetValue(k, out var a)) return a;
        throw new InvalidDataException($"{path}: the .npz has no array named {string.Join(" or ", keys)} (it has: {string.Join(", ", arrays.Keys)}).");
    }
}
