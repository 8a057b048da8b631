using System.Runtime.InteropServices;
using Alerts.Ingest.Kafka;

namespace Alerts.Ingest.Tests;

public sealed class PayloadPoolTests
{
    [Theory]
    [InlineData(1, 4096)]
    [InlineData(57_145, 65_536)] // a ZTF alert with its stamps
    [InlineData(65_536, 65_536)]
    [InlineData(65_537, 131_072)]
    public void A_rented_segment_has_the_asked_length_on_a_power_of_two_array(int length, int arrayLength)
    {
        var segment = new PayloadPool().Rent(length);
        Assert.Equal(length, segment.Count);
        Assert.Equal(0, segment.Offset);
        Assert.Equal(arrayLength, segment.Array!.Length);
    }

    [Fact]
    public void A_returned_array_is_handed_out_again_for_the_same_size_class_and_only_once()
    {
        var pool = new PayloadPool();
        var first = pool.Rent(57_000);
        pool.Return(first.AsMemory());
        var again = pool.Rent(60_000);
        var fresh = pool.Rent(60_000);
        Assert.Same(first.Array, again.Array);
        Assert.NotSame(again.Array, fresh.Array);
        Assert.Equal(60_000, again.Count);
        Assert.Equal((3, 1), (pool.Rented, pool.Reused));
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void Arrays_the_pool_cannot_have_made_are_not_kept()
    {
        var pool = new PayloadPool();
        pool.Return(new byte[57_000]);                 // not a size class
        pool.Return(new byte[100]);                    // below the smallest class
        pool.Return(ReadOnlyMemory<byte>.Empty);
        var huge = pool.Rent(PayloadPool.LargestClass + 1); // exact length, never pooled
        Assert.Equal(PayloadPool.LargestClass + 1, huge.Array!.Length);
        pool.Return(huge.AsMemory());
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void Returns_beyond_the_retention_limit_are_left_to_the_gc()
    {
        var pool = new PayloadPool(maxRetainedBytes: 2 * 65_536);
        var rented = Enumerable.Range(0, 3).Select(_ => pool.Rent(60_000)).ToList();
        foreach (var r in rented) pool.Return(r.AsMemory());
        Assert.Equal(2 * 65_536, pool.RetainedBytes);
        var reused = Enumerable.Range(0, 3).Select(_ => pool.Rent(60_000).Array).ToList();
        Assert.Equal(2, reused.Count(a => rented.Any(r => ReferenceEquals(r.Array, a))));
    }

    [Fact]
    public void Pooled_arrays_are_pinned_so_the_gc_never_copies_them()
    {
        var segment = new PayloadPool().Rent(57_000);
        // Arrays on the pinned object heap report generation 2 from the start.
        Assert.Equal(2, GC.GetGeneration(segment.Array!));
        Assert.True(MemoryMarshal.TryGetArray<byte>(segment.AsMemory(), out var back) && back.Count == 57_000);
    }
}
