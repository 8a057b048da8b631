using Alerts.Core;

namespace Alerts.Sink.Bench;

/// <summary>Realistic classification records: ZTF-like ids, 14 probabilities, Kafka positions, every 7th not classified.</summary>
public static class BenchData
{
    public static List<Classification> Make(int n, long firstId = 2_500_000_000_000)
    {
        var t0 = new DateTimeOffset(2024, 1, 15, 3, 0, 0, TimeSpan.Zero);
        var rnd = new Random(42);
        var list = new List<Classification>(n);
        for (int i = 0; i < n; i++)
        {
            long id = firstId + i;
            var identity = new AlertIdentity(Survey.Ztf, id, $"ZTF24a{(i % 1_000_000):D7}", rnd.NextDouble() * 360, rnd.NextDouble() * 120 - 30, 60324.1 + rnd.NextDouble() * 0.4, "4.02");
            var pos = SourcePosition.Kafka("ztf_20240115_programid1", i % 6, i / 6);
            if (i % 7 == 3)
            {
                list.Add(new Classification(identity, pos, null, 0, [], "t2-bench", 2, "ztfg", "too-few-points", default, t0, t0.AddMilliseconds(4), t0.AddMilliseconds(-200)));
                continue;
            }
            var p = new float[T2Classes.Count];
            float sum = 0;
            for (int k = 0; k < p.Length; k++) sum += p[k] = (float)rnd.NextDouble();
            int best = 0;
            for (int k = 0; k < p.Length; k++) { p[k] /= sum; if (p[k] > p[best]) best = k; }
            list.Add(new Classification(identity, pos, T2Classes.Names[best], p[best], p, "t2-bench", 20 + i % 30, "ztfg,ztfr", null,
                new StageTimings(20, 300, 80), t0, t0.AddMilliseconds(4), t0.AddMilliseconds(-200)));
        }
        return list;
    }
}
