using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Alerts.Ingest.Kafka;

/// <summary>
/// Reusable arrays for Kafka message values, in power-of-two sizes from 4 KiB to 4 MiB (larger values get an array of
/// their own, never pooled).
///
/// Why: every consumed alert needs its bytes copied out of librdkafka's buffer (57 KB for ZTF with stamps). Copied into
/// a new array each time, the copy ran into fresh pages the GC had just committed: `perf` on `bench e2e` showed the
/// consume thread spending ~75 % of its CPU in the kernel (page faults, clear_page) for ~100 µs per alert. Arrays that
/// come back here stay resident (they live on the pinned object heap, which the GC never moves or decommits while
/// they are referenced), so the copy is a plain memcpy.
///
/// Ownership: an array handed out by <see cref="Rent"/> must be given back at most once, and only when nothing reads
/// it any more; an array never given back is simply collected. <see cref="KafkaAlertSource.Release"/> is the way back
/// for a consumed alert.
/// </summary>
public sealed class PayloadPool
{
    public const int SmallestClass = 4096;
    public const int LargestClass = 4 << 20;

    private static readonly int Classes = BitOperations.Log2(LargestClass) - BitOperations.Log2(SmallestClass) + 1;
    private readonly ConcurrentQueue<byte[]>[] _free = Enumerable.Range(0, Classes).Select(_ => new ConcurrentQueue<byte[]>()).ToArray();
    private readonly long _maxRetainedBytes;
    private long _retainedBytes, _rented, _reused;

    /// <param name="maxRetainedBytes">Returned arrays kept for reuse, in bytes, at most; beyond it they are left to the GC.</param>
    public PayloadPool(long maxRetainedBytes = 128L << 20) => _maxRetainedBytes = maxRetainedBytes;

    /// <summary>Arrays handed out so far, and how many of them were reused ones.</summary>
    public long Rented => Interlocked.Read(ref _rented);
    public long Reused => Interlocked.Read(ref _reused);

    /// <summary>Bytes held for reuse now.</summary>
    public long RetainedBytes => Interlocked.Read(ref _retainedBytes);

    /// <summary>An array of at least <paramref name="length"/> bytes (contents undefined), as a segment of exactly that length.</summary>
    public ArraySegment<byte> Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Interlocked.Increment(ref _rented);
        if (length > LargestClass) return new ArraySegment<byte>(GC.AllocateUninitializedArray<byte>(length), 0, length);
        int size = Math.Max(SmallestClass, (int)BitOperations.RoundUpToPowerOf2((uint)length));
        if (_free[ClassOf(size)].TryDequeue(out var reused))
        {
            Interlocked.Add(ref _retainedBytes, -reused.Length);
            Interlocked.Increment(ref _reused);
            return new ArraySegment<byte>(reused, 0, length);
        }
        return new ArraySegment<byte>(GC.AllocateUninitializedArray<byte>(size, pinned: true), 0, length);
    }

    /// <summary>Gives back the array behind <paramref name="payload"/> (a segment from <see cref="Rent"/>); other memory is ignored.</summary>
    public void Return(ReadOnlyMemory<byte> payload)
    {
        if (!MemoryMarshal.TryGetArray(payload, out var segment) || segment.Array is not { } array) return;
        int size = array.Length;
        if (size < SmallestClass || size > LargestClass || !BitOperations.IsPow2(size)) return;
        if (Interlocked.Add(ref _retainedBytes, size) > _maxRetainedBytes)
        {
            Interlocked.Add(ref _retainedBytes, -size);
            return;
        }
        _free[ClassOf(size)].Enqueue(array);
    }

    private static int ClassOf(int size) => BitOperations.Log2((uint)size) - BitOperations.Log2(SmallestClass);
}
