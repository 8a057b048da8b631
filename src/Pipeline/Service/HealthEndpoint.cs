using System.Net;
using System.Text;
using Prometheus;

namespace Alerts.Pipeline.Service;

/// <summary>
/// /metrics (Prometheus text), /healthz (the process and its pipeline are alive) and /readyz (consuming with sinks
/// open) on one port. An HttpListener rather than Kestrel: three fixed GET routes do not justify the ASP.NET Core
/// shared framework (the runtime image stays dotnet/runtime), and prometheus-net's own MetricServer is built the same
/// way — it only lacks the two probe routes.
/// </summary>
public sealed class HealthEndpoint : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CollectorRegistry _registry;
    private readonly Func<(bool Ok, string Detail)> _health, _ready;
    private readonly CancellationTokenSource _cts = new();
    private Task? _loop;

    public HealthEndpoint(int port, CollectorRegistry registry, Func<(bool, string)> health, Func<(bool, string)> ready)
    {
        _registry = registry;
        _health = health;
        _ready = ready;
        Port = port;
        _listener.Prefixes.Add($"http://+:{port}/");
    }

    public int Port { get; }

    public void Start()
    {
        try { _listener.Start(); }
        catch (HttpListenerException ex)
        {
            throw new ServiceConfigurationException($"Alerts:Metrics:Port={Port}: cannot listen ({ex.Message}); choose a free port, or 0 to disable the metrics endpoint.");
        }
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception) when (_cts.IsCancellationRequested || !_listener.IsListening) { return; }
            catch (HttpListenerException) { continue; }
            _ = Task.Run(() => ServeAsync(ctx));
        }
    }

    private async Task ServeAsync(HttpListenerContext ctx)
    {
        var res = ctx.Response;
        try
        {
            switch (ctx.Request.Url?.AbsolutePath)
            {
                case "/metrics":
                    res.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    res.StatusCode = 200;
                    await _registry.CollectAndExportAsTextAsync(res.OutputStream).ConfigureAwait(false);
                    break;
                case "/healthz":
                    await Probe(res, _health()).ConfigureAwait(false);
                    break;
                case "/readyz":
                    await Probe(res, _ready()).ConfigureAwait(false);
                    break;
                default:
                    res.StatusCode = 404;
                    await Text(res, "not found: try /metrics, /healthz or /readyz\n").ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception) { /* client went away */ }
        finally
        {
            try { res.Close(); } catch (Exception) { }
        }
    }

    private static Task Probe(HttpListenerResponse res, (bool Ok, string Detail) state)
    {
        res.StatusCode = state.Ok ? 200 : 503;
        return Text(res, (state.Ok ? "ok" : "not ok") + ": " + state.Detail + "\n");
    }

    private static async Task Text(HttpListenerResponse res, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        res.ContentType = "text/plain; charset=utf-8";
        res.ContentLength64 = bytes.Length;
        await res.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { }
        if (_loop is not null) await _loop.ConfigureAwait(false);
    }
}
