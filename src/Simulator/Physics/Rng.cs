using System.Runtime.CompilerServices;

namespace Alerts.Simulator.Physics;

/// <summary>
/// xoshiro256** seeded by SplitMix64. Our own generator (not System.Random) so that the same seed gives the
/// same bytes on every .NET version; one stream per object (<see cref="ForObject"/>) makes the output
/// independent of thread scheduling and of how many objects came before.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare = double.NaN;

    public Rng(ulong seed) => Reseed(seed);

    public static Rng ForObject(ulong seed, long objectIndex, ulong stream = 0) =>
        new(Mix(seed ^ Mix((ulong)objectIndex + 0x9E3779B97F4A7C15UL * (stream + 1))));

    public void Reseed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
        _spare = double.NaN;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        return Mix(z);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextULong()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    public int NextInt(int maxExclusive) => (int)((NextULong() >> 33) * (ulong)maxExclusive >> 31);

    public bool Chance(double p) => NextDouble() < p;

    public double Normal()
    {
        if (!double.IsNaN(_spare)) { var s = _spare; _spare = double.NaN; return s; }
        double u, v, r;
        do { u = 2 * NextDouble() - 1; v = 2 * NextDouble() - 1; r = u * u + v * v; } while (r >= 1 || r == 0);
        var f = Math.Sqrt(-2 * Math.Log(r) / r);
        _spare = v * f;
        return u * f;
    }

    public double Normal(double mean, double sigma) => mean + sigma * Normal();

    /// <summary>Normal truncated to [lo, hi] by resampling (falls back to clamping after 32 tries).</summary>
    public double TruncNormal(double mean, double sigma, double lo, double hi)
    {
        for (int i = 0; i < 32; i++) { var x = Normal(mean, sigma); if (x >= lo && x <= hi) return x; }
        return Math.Clamp(mean, lo, hi);
    }

    /// <summary>Log-normal given the median and the dex scatter (sigma of log10 x).</summary>
    public double LogNormal(double median, double sigmaDex) => median * Math.Pow(10, sigmaDex * Normal());

    /// <summary>Log-uniform in [lo, hi].</summary>
    public double LogUniform(double lo, double hi) => Math.Exp(Uniform(Math.Log(lo), Math.Log(hi)));
}

file static class BitOperations
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
