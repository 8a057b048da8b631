namespace Alerts.Simulator.Physics;

/// <summary>
/// Flat ΛCDM (H0 = 70 km/s/Mpc, Ωm = 0.3, ΩΛ = 0.7): luminosity distance, distance modulus and the comoving
/// volume element, tabulated once on a fine redshift grid (Simpson integration of 1/E(z)) and interpolated.
/// Used to place extragalactic sources: z is drawn from the volumetric rate dN/dz ∝ R(z) dVc/dz / (1+z).
/// </summary>
public static class Cosmology
{
    public const double H0 = 70.0, OmegaM = 0.3, OmegaL = 0.7;
    public const double SpeedOfLightKmS = 299792.458;
    public static readonly double HubbleDistanceMpc = SpeedOfLightKmS / H0;

    private const double ZMax = 3.0;
    private const int N = 3000;
    private static readonly double[] ComovingMpc = BuildTable();

    private static double E(double z) => Math.Sqrt(OmegaM * Math.Pow(1 + z, 3) + OmegaL);

    private static double[] BuildTable()
    {
        var t = new double[N + 1];
        double dz = ZMax / N;
        for (int i = 1; i <= N; i++)
        {
            double a = (i - 1) * dz, b = i * dz, m = 0.5 * (a + b);
            t[i] = t[i - 1] + HubbleDistanceMpc * dz / 6 * (1 / E(a) + 4 / E(m) + 1 / E(b));
        }
        return t;
    }

    /// <summary>Line-of-sight comoving distance in Mpc.</summary>
    public static double ComovingDistanceMpc(double z)
    {
        if (z <= 0) return 0;
        double x = Math.Min(z, ZMax) / ZMax * N;
        int i = Math.Min((int)x, N - 1);
        return ComovingMpc[i] + (ComovingMpc[i + 1] - ComovingMpc[i]) * (x - i);
    }

    public static double LuminosityDistanceMpc(double z) => (1 + z) * ComovingDistanceMpc(z);

    /// <summary>μ = 5 log10(dL / 10 pc).</summary>
    public static double DistanceModulus(double z) => 5 * Math.Log10(LuminosityDistanceMpc(z) * 1e5);

    /// <summary>dVc/dz per steradian (Mpc³), flat universe.</summary>
    public static double ComovingVolumeElement(double z)
    {
        var dc = ComovingDistanceMpc(z);
        return HubbleDistanceMpc * dc * dc / E(z);
    }

    /// <summary>
    /// Draws z in (zMin, zMax] with density ∝ dVc/dz / (1+z) × (1+z)^rateIndex (rejection sampling against the
    /// envelope at zMax; the density rises monotonically for the ranges used).
    /// </summary>
    public static double SampleVolumetricRedshift(Rng rng, double zMin, double zMax, double rateIndex = 0)
    {
        double Density(double z) => ComovingVolumeElement(z) / (1 + z) * Math.Pow(1 + z, rateIndex);
        double max = 0;
        for (int i = 1; i <= 16; i++) max = Math.Max(max, Density(zMin + (zMax - zMin) * i / 16.0));
        max *= 1.05;
        for (int k = 0; k < 10000; k++)
        {
            var z = rng.Uniform(zMin, zMax);
            if (rng.NextDouble() * max <= Density(z)) return z;
        }
        return zMax;
    }
}
