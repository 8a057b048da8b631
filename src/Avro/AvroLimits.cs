namespace Alerts.Avro;

/// <summary>
/// Bounds on what one Avro datum and one writer schema may claim, so hostile bytes are refused before they cost
/// memory: a length or item count is checked against these (and against the bytes actually present) before any
/// buffer is sized from it. Exceeding one is an <see cref="AvroFormatException"/> with <see cref="AvroFormatException.Limit"/> set.
/// </summary>
public sealed record AvroLimits
{
    public static AvroLimits Default { get; } = new();

    /// <summary>Longest string, bytes or fixed value (a cutout stamp is ~60 KB).</summary>
    public int MaxValueBytes { get; init; } = 16 << 20;

    /// <summary>Array and map items per datum, over all blocks and all arrays (light-curve history, forced photometry, maps).</summary>
    public long MaxItems { get; init; } = 100_000;

    /// <summary>Largest writer-schema JSON (a container header's avro.schema; Rubin schemas are ~40 KB).</summary>
    public int MaxSchemaJsonBytes { get; init; } = 1 << 20;

    /// <summary>Deepest JSON nesting of a writer schema (System.Text.Json's MaxDepth).</summary>
    public int MaxSchemaDepth { get; init; } = 64;

    /// <summary>Largest inflated deflate block of a container file.</summary>
    public int MaxInflatedBytes { get; init; } = 64 << 20;
}
