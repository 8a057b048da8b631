using Alerts.Pipeline.Observability;
using Alerts.Pipeline.Service;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Alerts.Pipeline.Tests;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>Keeps every event it receives.</summary>
public sealed class CollectingSink : ILogEventSink
{
    private readonly List<LogEvent> _events = [];
    public IReadOnlyList<LogEvent> Events { get { lock (_events) return _events.ToList(); } }
    public void Emit(LogEvent logEvent) { lock (_events) _events.Add(logEvent); }
}

/// <summary>Repeats of one event (template and property values) within the window are written once and counted.</summary>
public sealed class RepeatSuppressingSinkTests
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 29, 3, 0, 0, TimeSpan.Zero));
    private readonly CollectingSink _out = new();

    private Logger Logger(double windowSeconds) => new LoggerConfiguration().MinimumLevel.Verbose()
        .WriteTo.RepeatSuppressed(TimeSpan.FromSeconds(windowSeconds), wt => wt.Sink(_out), _clock).CreateLogger();

    [Fact]
    public void The_same_event_within_the_window_is_written_once_and_the_first_after_it_says_how_many_were_held_back()
    {
        using var log = Logger(30);
        for (int i = 0; i < 100; i++)
        {
            log.Warning("librdkafka {Client} {Facility}: {Message}", "consumer", "FAIL", "Connect to ipv4#127.0.0.1:1 failed: Connection refused");
            _clock.Advance(TimeSpan.FromMilliseconds(290)); // 100 events over 29 s
        }
        Assert.Single(_out.Events);
        Assert.Equal("librdkafka \"consumer\" \"FAIL\": \"Connect to ipv4#127.0.0.1:1 failed: Connection refused\"", _out.Events[0].RenderMessage());

        _clock.Advance(TimeSpan.FromSeconds(1.5)); // 30.5 s after the first
        log.Warning("librdkafka {Client} {Facility}: {Message}", "consumer", "FAIL", "Connect to ipv4#127.0.0.1:1 failed: Connection refused");
        Assert.Equal(2, _out.Events.Count);
        var second = _out.Events[1];
        Assert.Equal(99, ((ScalarValue)second.Properties["Repeated"]).Value);
        Assert.Equal(30.0, ((ScalarValue)second.Properties["RepeatWindowSeconds"]).Value);
        Assert.EndsWith("(repeated 99 times in the last 30 s)", second.RenderMessage());
        Assert.Equal("consumer", ((ScalarValue)second.Properties["Client"]).Value);
        Assert.Equal(LogEventLevel.Warning, second.Level);
    }

    [Fact]
    public void Events_with_other_property_values_another_template_or_another_level_are_all_written()
    {
        using var log = Logger(30);
        log.Warning("Offset commit ({Why}) failed: {Code}", "periodic", "RequestTimedOut");
        log.Warning("Offset commit ({Why}) failed: {Code}", "revoke", "RequestTimedOut");
        log.Warning("Offset commit ({Why}) failed: {Code}", "periodic", "NotCoordinator");
        log.Error("Offset commit ({Why}) failed: {Code}", "periodic", "RequestTimedOut");
        log.Warning("Offset commit ({Why}) skipped: {Code}", "periodic", "RequestTimedOut");
        log.Warning("Offset commit ({Why}) failed: {Code}", "periodic", "RequestTimedOut"); // a repeat of the first
        Assert.Equal(5, _out.Events.Count);
        Assert.DoesNotContain(_out.Events, e => e.Properties.ContainsKey("Repeated"));
    }

    [Fact]
    public void An_event_seen_again_only_after_a_quiet_window_carries_no_count()
    {
        using var log = Logger(30);
        log.Information("Progress: alerts in {Read}", 10);
        _clock.Advance(TimeSpan.FromSeconds(31));
        log.Information("Progress: alerts in {Read}", 10);
        Assert.Equal(2, _out.Events.Count);
        Assert.Equal("Progress: alerts in 10", _out.Events[1].RenderMessage());
    }

    [Fact]
    public void A_zero_window_writes_every_event()
    {
        using var log = Logger(0);
        for (int i = 0; i < 5; i++) log.Warning("Kafka consumer error {Code}", "Local_AllBrokersDown");
        Assert.Equal(5, _out.Events.Count);
    }

    [Theory]
    [InlineData("Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)")]
    [InlineData("Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 3ms in state CONNECT, 4 identical error(s) suppressed)")]
    public void Librdkafka_text_loses_its_retry_timing_so_repeats_are_the_same_event(string raw)
    {
        Assert.Equal("Connect to ipv4#127.0.0.1:1 failed: Connection refused (in state CONNECT)", KafkaAlertService.StableKafkaText(raw));
    }

    [Fact]
    public void Librdkafka_text_loses_a_bare_suppression_counter()
    {
        Assert.Equal("1/1 brokers are down", KafkaAlertService.StableKafkaText("1/1 brokers are down (2 identical error(s) suppressed)"));
    }
}
