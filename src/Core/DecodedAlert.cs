namespace Alerts.Core;

/// <summary>The normalised result of decoding any supported alert format: identity plus light curve.</summary>
public sealed record DecodedAlert(AlertIdentity Identity, LightCurve LightCurve, RawAlert Source);

/// <summary>
/// An input that could not be processed. It keeps the original bytes so that nothing is lost silently:
/// dead letters go to a folder or a dead-letter topic and can be replayed once the cause is fixed.
/// <see cref="Reason"/> is a short machine-readable code (e.g. "truncated", "bad-magic", "unknown-schema-id",
/// "null-required-field", "empty-history", "bad-flux"); <see cref="Detail"/> is the human message naming the field and the fix.
/// </summary>
public sealed record DeadLetter(
    RawAlert Source,
    string Stage,
    string Reason,
    string Detail,
    DateTimeOffset At)
{
    public override string ToString() => $"{Source.Position}: {Stage}/{Reason}: {Detail}";
}

/// <summary>Outcome of decoding: exactly one of <see cref="Alert"/> or <see cref="DeadLetter"/> is set.</summary>
public readonly record struct DecodeResult(DecodedAlert? Alert, DeadLetter? DeadLetter)
{
    public bool IsSuccess => Alert is not null;
    public static DecodeResult Ok(DecodedAlert alert) => new(alert, null);
    public static DecodeResult Failed(DeadLetter deadLetter) => new(null, deadLetter);
}
