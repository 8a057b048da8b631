using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Alerts.Classifier;

/// <summary>
/// Which real objects a model was trained on, from its ONNX metadata key <see cref="MetadataKey"/>
/// (<c>alerts.training_objects</c>). The one rule so far is <c>md5-first-hex:CHARS</c>: a ZTF-style object id
/// (<c>^ZTF\d{2}[a-z]{7}$</c>) was in training when the first lowercase hex digit of the MD5 of its UTF-8 bytes is one of
/// CHARS (e.g. <c>md5-first-hex:01234567</c>, the developers' half of the real sets, tools/train/real_sets.py). Ids
/// that are not ZTF-style (simulated objects, other surveys) are never training objects under this rule.
/// </summary>
public sealed partial class TrainingObjects
{
    public const string MetadataKey = "alerts.training_objects";

    private const string Md5FirstHex = "md5-first-hex:";

    private readonly bool[] _firstHex = new bool[16];

    private TrainingObjects(string rule, IEnumerable<int> digits)
    {
        Rule = rule;
        foreach (int d in digits) _firstHex[d] = true;
    }

    /// <summary>The rule as written in the metadata.</summary>
    public string Rule { get; }

    /// <summary>The hex digits (lowercase, ascending) that mark a training object.</summary>
    public string FirstHexDigits => string.Concat(Enumerable.Range(0, 16).Where(d => _firstHex[d]).Select(d => "0123456789abcdef"[d]));

    [GeneratedRegex(@"^ZTF\d{2}[a-z]{7}$", RegexOptions.CultureInvariant)]
    private static partial Regex ZtfId();

    /// <summary>True for a ZTF-style object id (ZTF, two digits, seven lowercase letters).</summary>
    public static bool IsZtfStyle(string objectId) => ZtfId().IsMatch(objectId);

    /// <summary>True when the object was in the model's training set under this rule.</summary>
    public bool Contains(string objectId)
    {
        ArgumentNullException.ThrowIfNull(objectId);
        if (!IsZtfStyle(objectId)) return false;
        Span<byte> hash = stackalloc byte[MD5.HashSizeInBytes];
        MD5.HashData(Encoding.UTF8.GetBytes(objectId), hash);
        return _firstHex[hash[0] >> 4];
    }

    /// <summary>Parses a rule; throws <see cref="InvalidDataException"/> naming the key when it is not one this code knows.</summary>
    public static TrainingObjects Parse(string rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        string text = rule.Trim();
        if (!text.StartsWith(Md5FirstHex, StringComparison.Ordinal))
            throw new InvalidDataException($"metadata {MetadataKey} = '{rule}': unknown rule; expected {Md5FirstHex}CHARS, e.g. {Md5FirstHex}01234567");
        var chars = text[Md5FirstHex.Length..];
        var digits = new List<int>(chars.Length);
        foreach (char ch in chars)
        {
            int d = HexValue(ch);
            if (d < 0) throw new InvalidDataException($"metadata {MetadataKey} = '{rule}': '{ch}' is not a hex digit");
            digits.Add(d);
        }
        if (digits.Count == 0) throw new InvalidDataException($"metadata {MetadataKey} = '{rule}': no hex digit after {Md5FirstHex}");
        return new TrainingObjects(text, digits);
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    public override string ToString() => Rule;
}
