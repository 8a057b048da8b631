using System.CommandLine;
using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Service;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// `alerts run`: the long-running Kafka service on the .NET Generic Host. Configuration: appsettings.json,
/// appsettings.{DOTNET_ENVIRONMENT}.json, --config FILE, environment (Alerts__Kafka__Consumer__group.id), then
/// command-line keys (--Alerts:Kafka:Topics:0=ztf_20261129_programid1). Exit codes: 0 after a clean SIGTERM/Ctrl-C, 1 a fatal
/// runtime error, 2 a configuration error (incl. a missing output topic), 3 a shutdown that ran out of Alerts:Shutdown:TimeoutSeconds.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo[]>("--config") { Description = "Extra JSON configuration file(s), applied after appsettings*.json and before the environment", AllowMultipleArgumentsPerToken = false };
        var cmd = new Command("run", "Run the Kafka broker service: consume alerts (topics or ^regex), classify, archive to Parquet, publish labels; /metrics, /healthz, /readyz on Alerts:Metrics:Port. " +
            "Any configuration key can follow as --Alerts:Section:Key=value.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        cmd.Options.Add(config);
        cmd.SetAction(async (parse, ct) =>
        {
            var extra = parse.GetValue(config) ?? [];
            return await RunAsync(extra.Select(f => f.FullName).ToArray(), parse.UnmatchedTokens.ToArray());
        });
        return cmd;
    }

    public static async Task<int> RunAsync(string[] configFiles, string[] keyArgs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        foreach (var f in configFiles)
        {
            if (!File.Exists(f)) { Console.Error.WriteLine($"error: --config {f} does not exist"); return 2; }
            builder.Configuration.AddJsonFile(f, optional: false, reloadOnChange: false);
        }
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(keyArgs);

        ServiceSettings settings;
        try { settings = ServiceSettings.FromConfiguration(builder.Configuration); }
        catch (ServiceConfigurationException ex)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            return 2;
        }

        var logger = CreateLogger(settings);
        builder.Services.AddSerilog(logger, dispose: true);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<AlertsWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertsWorker>());
        // The host waits for the worker's drain/flush/commit a little longer than the service's own budget.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout + TimeSpan.FromSeconds(5));

        logger.Information("alerts run: effective configuration {Configuration}",
            ServiceSettings.MaskedView(builder.Configuration).ToDictionary(kv => kv.Key, kv => kv.Value));
        using var host = builder.Build();
        var worker = host.Services.GetRequiredService<AlertsWorker>(); // RunAsync disposes the container
        await host.RunAsync();
        if (worker.ExecuteTask is { IsCompleted: false })
        {
            // The host gave up waiting (HostOptions.ShutdownTimeout) before the service returned: never report that as 0.
            logger.Error("The service did not stop within {Timeout}s (Alerts:Shutdown:TimeoutSeconds + 5 s); exiting with code {Code}; uncommitted alerts will be re-consumed after a restart",
                (settings.ShutdownTimeout + TimeSpan.FromSeconds(5)).TotalSeconds, (int)ServiceExit.ShutdownTimedOut);
            return (int)ServiceExit.ShutdownTimedOut;
        }
        return worker.ExitCode;
    }

    /// <summary>Serilog to stdout: compact JSON (one event per line, for log shippers) or text for people; repeats of an
    /// event within Alerts:Logging:RepeatWindowSeconds are counted by <see cref="RepeatSuppressingSink"/>, not written.</summary>
    public static Serilog.ILogger CreateLogger(ServiceSettings settings)
    {
        var level = Enum.TryParse<LogEventLevel>(settings.LogLevel, ignoreCase: true, out var l) ? l : LogEventLevel.Information;
        var lc = new LoggerConfiguration().MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        lc = lc.WriteTo.RepeatSuppressed(settings.LogRepeatWindow, wt =>
        {
            if (settings.LogFormat == "text") wt.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}");
            else wt.Console(new CompactJsonFormatter());
        });
        return lc.CreateLogger();
    }
}
