using Prometheus;

namespace Alerts.Pipeline.Observability;

/// <summary>
/// Serves, for <c>alerts replay --metrics-port</c>, the default prometheus-net registry (our <see cref="PipelineMetrics"/> plus prometheus-net's process and
/// .NET runtime metrics) on http://&lt;host&gt;:&lt;port&gt;/metrics. Uses prometheus-net's HttpListener-based
/// <see cref="MetricServer"/>, so a command needs no web host for it.
/// </summary>
public static class ReplayMetricsEndpoint
{
    /// <summary>Starts serving; dispose the result to stop. Host "+" listens on every interface (containers).</summary>
    public static IMetricServer Start(int port, string host = "+")
    {
        if (port is < 1 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(port), port, $"--metrics-port {port} is not a TCP port (1-65535); 9464 is the port deploy/prometheus/prometheus.yml scrapes");
        try
        {
            return new MetricServer(host, port, "metrics/").Start();
        }
        catch (System.Net.HttpListenerException ex)
        {
            throw new InvalidOperationException($"cannot serve metrics on {host}:{port}: {ex.Message}; choose a free --metrics-port", ex);
        }
    }

    /// <summary>Publishes which model serves each survey as <c>alerts_model_info{model_id, model} 1</c>.</summary>
    public static void PublishModels(PipelineMetrics metrics, IEnumerable<(string ModelId, string Model)> models)
    {
        foreach (var (id, model) in models) metrics.ModelInfo.WithLabels(id, model).Set(1);
    }
}
