using Alerts.Core;

namespace Alerts.Sink.Tests;

/// <summary>Classification records built straight from Core types (no classifier involved).</summary>
public static class TestClassifications
{
    public static readonly DateTimeOffset T0 = new(2024, 1, 15, 3, 0, 0, TimeSpan.Zero);

    /// <summary>Alert i: ZTF, night 20240115 (MJD 60324.x) unless mjd is given; every 7th is not classified.</summary>
    public static Classification Make(long alertId, double mjd = 60324.25, Survey survey = Survey.Ztf, string topic = "ztf_20240115_programid1", int partition = 0, long? offset = null)
    {
        var id = new AlertIdentity(survey, alertId, $"ZTF24{alertId:D7}", 150.0 + alertId * 1e-4, -30.0 + alertId * 1e-5, mjd, "4.02");
        var pos = SourcePosition.Kafka(topic, partition, offset ?? alertId);
        if (alertId % 7 == 3)
            return new Classification(id, pos, null, 0f, [], "t2-test", 2, "ztfg", "too-few-points", default, T0, T0.AddMilliseconds(5), T0.AddMilliseconds(-100));
        var p = new float[T2Classes.Count];
        int best = (int)(alertId % T2Classes.Count);
        for (int k = 0; k < p.Length; k++) p[k] = k == best ? 0.87f : 0.13f / (T2Classes.Count - 1);
        return new Classification(id, pos, T2Classes.Names[best], 0.87f, p, "t2-test", 12 + (int)(alertId % 5), "ztfg,ztfr",
            null, new StageTimings(10, 200, 50), T0, T0.AddMilliseconds(3), T0.AddMilliseconds(-250));
    }

    public static List<Classification> Range(long from, int count, double mjd = 60324.25) =>
        Enumerable.Range(0, count).Select(i => Make(from + i, mjd)).ToList();
}
