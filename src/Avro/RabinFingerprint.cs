namespace Alerts.Avro;

/// <summary>CRC-64-AVRO, the 64-bit Rabin fingerprint the Avro spec defines for schema fingerprints.</summary>
public static class RabinFingerprint
{
    public const ulong Empty = 0xc15d213aa4d7a795UL;
    private static readonly ulong[] Table = BuildTable();

    private static ulong[] BuildTable()
    {
        var t = new ulong[256];
        for (int i = 0; i < 256; i++)
        {
            ulong fp = (ulong)i;
            for (int j = 0; j < 8; j++) fp = (fp >> 1) ^ (Empty & (ulong)(-(long)(fp & 1)));
            t[i] = fp;
        }
        return t;
    }

    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        ulong fp = Empty;
        foreach (var b in data) fp = (fp >> 8) ^ Table[(int)(fp ^ b) & 0xff];
        return fp;
    }
}
