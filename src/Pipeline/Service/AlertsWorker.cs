using Alerts.Core;
using Alerts.Pipeline.Commands;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Processing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Alerts.Pipeline.Service;

/// <summary>The Generic Host's view of the service: loads the models, serves /metrics, /healthz, /readyz, runs
/// <see cref="KafkaAlertService"/> until the host stops (SIGTERM, Ctrl-C) and stops the host if the service ends.</summary>
public sealed class AlertsWorker(ServiceSettings settings, IHostApplicationLifetime lifetime, ILogger<AlertsWorker> log) : BackgroundService
{
    public int ExitCode { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // let the host finish starting (signal handlers) before the model load
        HealthEndpoint? endpoint = null;
        IAlertClassifier? classifier = null;
        try
        {
            classifier = KafkaAlertService.LoadClassifier(settings);
            var metrics = new PipelineMetrics(Metrics.DefaultRegistry);
            var service = new KafkaAlertService(settings, classifier, metrics, log);
            if (settings.MetricsPort > 0)
            {
                endpoint = new HealthEndpoint(settings.MetricsPort, Metrics.DefaultRegistry,
                    () => (service.Healthy, service.Fault ?? $"read {service.Stats.ReadCount}"),
                    () => (service.Ready && service.Healthy, $"assigned partitions {service.AssignedPartitions}" + (service.Fault is { } f ? "; " + f : "") + (service.KafkaProblem is { } k && !service.Ready ? "; " + k : "")));
                endpoint.Start();
                log.LogInformation("Metrics on http://0.0.0.0:{Port}/metrics (probes /healthz, /readyz)", settings.MetricsPort);
            }
            var exit = await service.RunAsync(stoppingToken);
            ExitCode = (int)exit;
        }
        catch (Exception ex) when (ex is ServiceConfigurationException or FileNotFoundException or InvalidDataException or ArgumentException)
        {
            log.LogCritical("Cannot start: {Message}", ex.Message);
            ExitCode = 2;
        }
        catch (Exception ex)
        {
            log.LogCritical(ex, "The service failed: {Message}", ex.Message);
            ExitCode = 1;
        }
        finally
        {
            if (endpoint is not null) await endpoint.DisposeAsync();
            // After a timed-out shutdown an abandoned batch may still be inside the model: freeing the native session under
            // it could crash the process (and turn exit code 3 into a signal); the process is about to exit anyway.
            if (ExitCode != (int)ServiceExit.ShutdownTimedOut) (classifier as IDisposable)?.Dispose();
            lifetime.StopApplication();
        }
    }
}
