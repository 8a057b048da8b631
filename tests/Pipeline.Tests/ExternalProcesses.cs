using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Alerts.Tests.Shared;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// The <c>alerts</c> executable (built next to the tests as alerts.dll) run as a real child process, the way an
/// operator runs it: its own runtime, its own metrics endpoint, killable with SIGKILL.
/// </summary>
public sealed class AlertsProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();

    private AlertsProcess(Process process) => _process = process;

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "alerts.dll");

    /// <summary>
    /// Runs <c>dotnet alerts.dll args...</c> to the end (in <paramref name="workingDirectory"/>, else this process's
    /// folder) and returns its exit code, stdout and stderr; fails the test when it outlives <paramref name="timeout"/>
    /// (default 2 minutes).
    /// </summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        if (!p.WaitForExit(limit)) { p.Kill(entireProcessTree: true); Assert.Fail($"alerts {string.Join(' ', args)} did not exit within {limit.TotalSeconds:0} s"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts <c>dotnet alerts.dll args...</c> in the repository root (where models/ and schemas/ are found).</summary>
    public static AlertsProcess Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var p = new Process { StartInfo = psi };
        var ap = new AlertsProcess(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (ap._stdout) ap._stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (ap._stderr) ap._stderr.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return ap;
    }

    /// <summary>Runs to completion (or fails the test after the timeout) and returns the exit code.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] args)
    {
        using var p = Start(args);
        var code = await p.WaitForExitAsync(timeout);
        return (code, p.Output);
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_stdout) lock (_stderr) return $"--- stdout ---\n{_stdout}\n--- stderr ---\n{_stderr}";
        }
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"alerts did not exit within {timeout.TotalSeconds} s\n{Output}"); }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as Kubernetes and docker stop send it: the host's graceful shutdown runs.</summary>
    public void Terminate()
    {
        if (_process.HasExited) return;
        if (kill(_process.Id, 15 /* SIGTERM */) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGKILL: no finally blocks, no flush, no dispose run in the child. Waits until it is gone.</summary>
    public void KillHard()
    {
        if (_process.HasExited) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            if (kill(_process.Id, 9 /* SIGKILL */) != 0) throw new InvalidOperationException($"kill -9 {_process.Id} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
        else _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) { try { _process.Kill(); _process.WaitForExit(); } catch (InvalidOperationException) { } }
        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

/// <summary>
/// Debian's real <c>prometheus</c> server on 127.0.0.1 (free port, temporary storage), scraping the given targets
/// as job "alerts" every second and evaluating the given rule file every second. Queried through its HTTP API.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly string _dir;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(20) };
    }

    public int Port { get; }

    public string Log { get { lock (_log) return _log.ToString(); } }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        try { return ((IPEndPoint)l.LocalEndpoint).Port; } finally { l.Stop(); }
    }

    public static async Task<PrometheusServer> StartAsync(string scrapeTarget, string? ruleFile)
    {
        var dir = Directory.CreateTempSubdirectory("alerts-prometheus").FullName;
        var config = $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            {(ruleFile is null ? "" : $"rule_files:\n  - {ruleFile}\n")}
            scrape_configs:
              - job_name: alerts
                metrics_path: /metrics
                static_configs:
                  - targets: ["{scrapeTarget}"]
            """;
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), config);
        int port = FreePort();
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[]
                 {
                     "--config.file=" + Path.Combine(dir, "prometheus.yml"),
                     "--storage.tsdb.path=" + Path.Combine(dir, "data"),
                     $"--web.listen-address=127.0.0.1:{port}",
                     "--log.level=warn",
                 })
            psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        var server = new PrometheusServer(p, dir, port);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (p.HasExited) throw new InvalidOperationException($"prometheus exited with {p.ExitCode}:\n{server.Log}");
            try
            {
                using var r = await server._http.GetAsync("-/ready");
                if (r.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"prometheus not ready on :{port} after 30 s:\n{server.Log}");
            await Task.Delay(200);
        }
    }

    /// <summary>An instant query; returns the result vector (throws with Prometheus's error text on a bad query).</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql, DateTimeOffset? at = null)
    {
        var url = "api/v1/query?query=" + Uri.EscapeDataString(promql) + (at is { } t ? "&time=" + (t.ToUnixTimeMilliseconds() / 1000.0).ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
        using var doc = await GetJsonAsync(url);
        var data = doc.RootElement.GetProperty("data");
        var list = new List<(Dictionary<string, string>, double)>();
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            list.Add((new Dictionary<string, string>(), ParseValue(data.GetProperty("result")[1])));
            return list;
        }
        foreach (var item in data.GetProperty("result").EnumerateArray())
        {
            var labels = item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            list.Add((labels, ParseValue(item.GetProperty("value")[1])));
        }
        return list;
    }

    /// <summary>The single value of a query that must return exactly one series.</summary>
    public async Task<double> ScalarAsync(string promql, DateTimeOffset? at = null)
    {
        var r = await QueryAsync(promql, at);
        if (r.Count != 1) throw new InvalidOperationException($"'{promql}' returned {r.Count} series, expected 1");
        return r[0].Value;
    }

    public async Task<JsonDocument> GetJsonAsync(string url)
    {
        using var r = await _http.GetAsync(url);
        var body = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"GET {url}: {(int)r.StatusCode} {body}");
        var doc = JsonDocument.Parse(body);
        if (doc.RootElement.GetProperty("status").GetString() != "success") throw new InvalidOperationException($"GET {url}: {body}");
        return doc;
    }

    private static double ParseValue(JsonElement e) => e.GetString() switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        var s => double.Parse(s!, System.Globalization.CultureInfo.InvariantCulture),
    };

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}

/// <summary>Skipped, with the reason, where Debian's prometheus package is not installed.</summary>
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        if (Referees.MissingReason(Referee.Prometheus) is { } reason) Skip = reason;
    }
}
