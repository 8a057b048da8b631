using System.Text.Json;

namespace Alerts.Pipeline.Service;

/// <summary>Reads consumer lag out of librdkafka's statistics JSON (statistics.interval.ms).</summary>
public static class ConsumerStatistics
{
    /// <summary>(topic, partition, consumer_lag) for every real partition with a known lag. librdkafka computes
    /// consumer_lag as the high watermark minus the committed offset (−1 while either is unknown).</summary>
    public static IEnumerable<(string Topic, int Partition, long Lag)> Lags(string json)
    {
        var result = new List<(string, int, long)>();
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("topics", out var topics)) return result;
        foreach (var topic in topics.EnumerateObject())
        {
            if (!topic.Value.TryGetProperty("partitions", out var partitions)) continue;
            foreach (var p in partitions.EnumerateObject())
            {
                if (!int.TryParse(p.Name, out var id) || id < 0) continue; // -1 is librdkafka's internal UA partition
                if (p.Value.TryGetProperty("consumer_lag", out var lag) && lag.TryGetInt64(out var l) && l >= 0)
                    result.Add((topic.Name, id, l));
            }
        }
        return result;
    }
}
