using System.Collections.Concurrent;
using Alerts.Core;
using Alerts.Avro;

namespace Alerts.Ingest.Decoding;

/// <summary>
/// Decodes any supported framing into Core's <see cref="DecodedAlert"/>. It sniffs the first bytes:
/// <c>Obj\x01</c> = Avro container file (one record; codec null or deflate), <c>C3 01</c> = Avro single-object
/// encoding (fingerprint resolved in the shared <see cref="AvroSchemaRegistry"/>), <c>00</c> = Confluent wire
/// format (schema id resolved from the registry's schema folder). The survey mapper is chosen from the writer
/// schema's name and fields; a projection is compiled once per writer schema and cached.
///
/// Ownership: an instance owns one reusable <see cref="LightCurve"/> buffer and is used by one worker at a time.
/// <see cref="Decode"/> returns an alert with its own (cloned) light curve, safe to keep. <see cref="DecodeInto"/>
/// is the hot path: the alert refers to the caller's buffer, which the next call overwrites.
/// Never throws for bad input: every failure is a <see cref="DeadLetter"/> with a reason code.
/// </summary>
public sealed class AlertDecoder : IAlertDecoder
{
    public const string Stage = "decode";

    private static readonly SurveyMapper[] Mappers = [ZtfAlertDecoder.Instance, ElasticcAlertDecoder.Instance, RubinAlertDecoder.Instance];
    private static readonly ConcurrentDictionary<(ulong, SurveyMapper), CompiledProjection> Compiled = new();

    private readonly Dictionary<SurveyMapper, ProjectedRecord> _records = [];
    private readonly LightCurve _buffer = new(128);
    private byte[] _inflated = [];
    private ulong _lastFingerprint;
    private SurveyMapper? _lastMapper;
    private CompiledProjection? _lastProjection;

    public AlertDecoder(AvroSchemaRegistry? registry = null, IngestLimits? limits = null)
    {
        Registry = registry ?? new AvroSchemaRegistry();
        Limits = limits ?? IngestLimits.Default;
    }

    public AvroSchemaRegistry Registry { get; }

    /// <summary>Bounds on the input (alert size, history rows, Avro lengths and items); the registry's own bound container-header schemas.</summary>
    public IngestLimits Limits { get; }
    public DecodeCounters Counters { get; } = new();

    public DecodeResult Decode(RawAlert raw)
    {
        var r = DecodeInto(raw, _buffer);
        return r.Alert is { } a ? DecodeResult.Ok(a with { LightCurve = a.LightCurve.Clone() }) : r;
    }

    /// <summary>Decodes into <paramref name="lightCurve"/> (cleared first). The result refers to that buffer.</summary>
    public DecodeResult DecodeInto(RawAlert raw, LightCurve lightCurve)
    {
        lightCurve.Clear();
        var data = raw.Payload.Span;
        int datumBase = 0;
        try
        {
            if (raw.RejectedReason is { } rejected) return Fail(raw, rejected, raw.RejectedDetail ?? "refused by the source");
            if (data.Length > Limits.MaxAlertBytes)
                return Fail(raw, "too-large", $"the payload has {data.Length} bytes, more than MaxAlertBytes {Limits.MaxAlertBytes}: refused undecoded (raise the limit only if real alerts are this large)");
            if (data.Length == 0) return Fail(raw, "truncated", "the payload is empty (0 bytes): the file or message was cut; re-fetch it");
            if (ContainerHeader.HasMagic(data))
            {
                var header = ContainerHeader.Parse(data);
                var (schema, fp) = Registry.FromHeader(header.SchemaJson(data));
                if (header.Codec == AvroCodec.Unsupported)
                    return Fail(raw, "unsupported-codec", $"avro.codec '{header.CodecName}' in the container header: only null and deflate are supported; re-write the file with one of them");
                if (!AvroContainer.TryReadBlock(data, header, header.DataStart, out var block) || block.Count == 0)
                    return Fail(raw, "empty-container", $"the container has no records after the header (byte {header.DataStart}); the file holds no alert");
                if (block.Count > 1 || AvroContainer.TryReadBlock(data, header, block.NextBlock, out _))
                    return Fail(raw, "multi-record-container", $"the container holds more than one record ({block.Count} in the first block): read it with the container source (ContainerFileSource), which emits one record at a time");
                ReadOnlySpan<byte> datum;
                if (header.Codec == AvroCodec.Deflate)
                {
                    int n = AvroContainer.Inflate(data.Slice(block.DataStart, block.DataLength), ref _inflated, Limits.Avro.MaxInflatedBytes);
                    datum = _inflated.AsSpan(0, n);
                }
                else { datum = data.Slice(block.DataStart, block.DataLength); datumBase = block.DataStart; }
                return DecodeDatum(raw, schema, fp, datum, datumBase, lightCurve);
            }
            if (SingleObjectEncoding.HasMarker(data))
            {
                if (data.Length < SingleObjectEncoding.HeaderLength) return Fail(raw, "truncated", $"single-object header needs {SingleObjectEncoding.HeaderLength} bytes, the payload has {data.Length}");
                var fp = SingleObjectEncoding.Fingerprint(data);
                if (!Registry.TryGet(fp, out var schema))
                    return Fail(raw, "unknown-fingerprint", $"schema fingerprint 0x{fp:x16} is not registered: register the writer schema (the container source does this for its header) before decoding");
                datumBase = SingleObjectEncoding.HeaderLength;
                return DecodeDatum(raw, schema, fp, data[datumBase..], datumBase, lightCurve);
            }
            if (data[0] == 0x00)
            {
                if (data.Length < ConfluentWireFormat.HeaderLength) return Fail(raw, "truncated", $"Confluent wire header needs 5 bytes, the payload has {data.Length}");
                int id = ConfluentWireFormat.SchemaId(data);
                if (!Registry.TryGetById(id, out var schema, out var fp, out var error))
                    return Fail(raw, "unknown-schema-id", $"Confluent schema id {id}: {error}");
                datumBase = ConfluentWireFormat.HeaderLength;
                return DecodeDatum(raw, schema, fp, data[datumBase..], datumBase, lightCurve);
            }
            return Fail(raw, "bad-magic", $"first bytes {Convert.ToHexString(data[..Math.Min(4, data.Length)])} are none of: 4F626A01 (Avro container 'Obj\\x01'), C301 (Avro single-object), 00 (Confluent wire format); this is not an alert");
        }
        catch (AvroFormatException ex) when (ex.Limit is not null)
        {
            return Fail(raw, "too-large", $"at byte {datumBase + ex.Offset}: {ex.Message}");
        }
        catch (AvroFormatException ex)
        {
            return Fail(raw, ex.IsTruncation ? "truncated" : "malformed", $"at byte {datumBase + ex.Offset}: {ex.Message}; the bytes do not match the writer schema (cut or corrupted); re-fetch the alert");
        }
        catch (AvroSchemaException ex)
        {
            return Fail(raw, "bad-schema", $"writer schema: {ex.Message}");
        }
        catch (System.Text.Json.JsonException ex)
        {
            return Fail(raw, "bad-schema", $"the avro.schema header is not valid JSON: {ex.Message}");
        }
        catch (Exception ex) when (ex is InvalidDataException or OverflowException or IndexOutOfRangeException or ArgumentException or KeyNotFoundException or InvalidOperationException or InvalidCastException)
        {
            return Fail(raw, "malformed", $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private DecodeResult DecodeDatum(RawAlert raw, AvroSchema schema, ulong key, ReadOnlySpan<byte> datum, int datumBase, LightCurve lc)
    {
        if (schema is not RecordSchema record)
            return Fail(raw, "unsupported-schema", $"the writer schema is a {schema.Type}, not a record: not an alert");
        SurveyMapper mapper;
        CompiledProjection projection;
        // The cache key is the CRC-64-AVRO fingerprint: equal fingerprints mean the same canonical form, hence the
        // same binary layout, so a projection compiled for one schema object serves every equal one (any registry).
        if (key == _lastFingerprint && _lastProjection is not null)
        {
            mapper = _lastMapper!;
            projection = _lastProjection;
        }
        else
        {
            SurveyMapper? found = null;
            foreach (var m in Mappers) if (m.CanMap(record)) { found = m; break; }
            if (found is null)
                return Fail(raw, "unsupported-schema", $"writer schema {record.FullName} is not a ZTF (ztf.alert), Rubin (lsst.vX_Y.alert, topLevelRecord) or ELAsTiCC (elasticc.v0_9*.alert) alert");
            mapper = found;
            projection = Compiled.GetOrAdd((key, mapper), static (_, a) => new CompiledProjection(a.record, a.mapper.Spec), (record, mapper));
            _lastFingerprint = key; _lastMapper = mapper; _lastProjection = projection;
        }
        if (!_records.TryGetValue(mapper, out var rec)) _records[mapper] = rec = new ProjectedRecord(mapper.Spec);

        var reader = new AvroReader(datum, Limits.Avro);
        try
        {
            projection.Read(ref reader, rec);
        }
        catch (AvroFormatException ex) when (ex.Limit is not null)
        {
            return Fail(raw, "too-large", $"at byte {datumBase + ex.Offset} of the {record.FullName} record: {ex.Message}");
        }
        catch (AvroFormatException ex)
        {
            return Fail(raw, ex.IsTruncation ? "truncated" : "malformed",
                $"at byte {datumBase + ex.Offset} of the {record.FullName} record: {ex.Message}; the bytes do not match the writer schema (cut or corrupted); re-fetch the alert");
        }
        if (!reader.AtEnd)
            return Fail(raw, "trailing-bytes", $"the {record.FullName} record ends at byte {datumBase + reader.Position} but the datum has {datum.Length - reader.Position} more bytes: wrong writer schema for this data (check the schema id / header)");

        int historyRows = 0;
        foreach (var t in rec.Tables) historyRows += t.Rows;
        if (historyRows > Limits.MaxHistoryRows)
            return Fail(raw, "too-large", $"the {record.FullName} record has {historyRows} light-curve history rows, more than MaxHistoryRows {Limits.MaxHistoryRows}: refused");

        var failure = mapper.Map(rec, datum, projection, lc, Counters, out var identity);
        if (failure is { } f) return Fail(raw, f.Reason, f.Detail);
        if (lc.Count == 0) return Fail(raw, "empty-history", "the alert has no usable light-curve point");
        return DecodeResult.Ok(new DecodedAlert(identity!, lc, raw));
    }

    private static DecodeResult Fail(RawAlert raw, string reason, string detail) =>
        DecodeResult.Failed(new DeadLetter(raw, Stage, reason, $"{raw.Position}: {detail}", DateTimeOffset.UtcNow));
}
