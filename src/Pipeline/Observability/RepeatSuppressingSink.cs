using System.Text;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace Alerts.Pipeline.Observability;

/// <summary>
/// A wrapping Serilog sink that lets one event through per distinct (level, message template, property values) in a
/// window and counts the rest: a broker that stays down, which librdkafka reports every few hundred milliseconds,
/// becomes one line per window. The first event after the window that saw suppressed repeats is written with the count
/// appended to its message ("(repeated 41 times in the last 30 s)") and as the properties <c>Repeated</c> and
/// <c>RepeatWindowSeconds</c>. Events of another template or with other property values are never held back.
/// Thread-safe.
/// </summary>
public sealed class RepeatSuppressingSink : ILogEventSink, IDisposable
{
    private static readonly MessageTemplateParser Parser = new();
    private const int PruneAbove = 4096;

    private readonly ILogEventSink _inner;
    private readonly TimeSpan _window;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, Entry> _seen = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public RepeatSuppressingSink(ILogEventSink inner, TimeSpan window, TimeProvider? clock = null)
    {
        if (window < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(window), "the window must not be negative");
        _inner = inner;
        _window = window;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Events held back so far (for tests and summaries).</summary>
    public long Suppressed { get; private set; }

    public void Emit(LogEvent logEvent)
    {
        if (_window == TimeSpan.Zero) { _inner.Emit(logEvent); return; }
        var key = KeyOf(logEvent);
        var now = _clock.GetUtcNow();
        int repeated;
        lock (_lock)
        {
            if (_seen.TryGetValue(key, out var e) && now - e.WindowStart < _window)
            {
                e.Repeats++;
                Suppressed++;
                return;
            }
            repeated = e?.Repeats ?? 0;
            if (_seen.Count >= PruneAbove) Prune(now);
            _seen[key] = new Entry { WindowStart = now };
        }
        _inner.Emit(repeated == 0 ? logEvent : WithCount(logEvent, repeated));
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (k, e) in _seen.ToArray())
            if (now - e.WindowStart >= _window) _seen.Remove(k);
    }

    private LogEvent WithCount(LogEvent e, int repeated)
    {
        var template = Parser.Parse(e.MessageTemplate.Text + " (repeated {Repeated} times in the last {RepeatWindowSeconds} s)");
        var properties = e.Properties.Select(p => new LogEventProperty(p.Key, p.Value))
            .Append(new LogEventProperty("Repeated", new ScalarValue(repeated)))
            .Append(new LogEventProperty("RepeatWindowSeconds", new ScalarValue(_window.TotalSeconds)));
        return new LogEvent(e.Timestamp, e.Level, e.Exception, template, properties, e.TraceId ?? default, e.SpanId ?? default);
    }

    private static string KeyOf(LogEvent e)
    {
        var sb = new StringBuilder(128).Append((int)e.Level).Append('\u001f').Append(e.MessageTemplate.Text);
        foreach (var (name, value) in e.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            sb.Append('\u001f').Append(name).Append('=').Append(value);
        return sb.ToString();
    }

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    private sealed class Entry
    {
        public DateTimeOffset WindowStart;
        public int Repeats;
    }
}

public static class RepeatSuppressingSinkExtensions
{
    /// <summary>
    /// Writes to the sinks configured in <paramref name="configure"/> through a <see cref="RepeatSuppressingSink"/>:
    /// <c>.WriteTo.RepeatSuppressed(TimeSpan.FromSeconds(30), wt => wt.Console())</c>.
    /// </summary>
    public static LoggerConfiguration RepeatSuppressed(this LoggerSinkConfiguration writeTo, TimeSpan window, Action<LoggerSinkConfiguration> configure, TimeProvider? clock = null) =>
        writeTo.Sink(LoggerSinkConfiguration.Wrap(inner => new RepeatSuppressingSink(inner, window, clock), configure));
}
