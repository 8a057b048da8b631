using System.Globalization;
using Alerts.Core;

namespace Alerts.Sink.Kafka;

/// <summary>
/// A filter on a classification, parsed from text such as <c>all</c>, <c>SNIa &gt;= 0.8</c>,
/// <c>SNIa_family &gt;= 0.8</c>, <c>label == SLSN-I</c>, <c>SNIa + SNIbc + SNII &gt;= 0.9 and survey == ztf</c>,
/// <c>unclassified</c>.
/// Grammar: rule := term ('or' term)*; term := cond ('and' cond)*; cond := 'all' | 'classified' | 'unclassified'
/// | sum op number | ('label'|'survey'|'reason') ('=='|'!=') word; sum := part ('+' part)* | 'label_probability';
/// part := class | family.
/// Class names are t2's (case-insensitive; '-' or '_' both accepted: SNIa_91bg, mu-Lens-Single). A family stands for
/// the sum of its classes (<see cref="ClassFamilies"/>): <c>SNIa_family</c> (or <c>SNIa-family</c>) is
/// SNIa + SNIax + SNIa-91bg. A class may appear in a sum once, directly or through a family.
/// A probability filter never matches an alert that was not classified.
/// </summary>
public sealed class LabelFilter
{
    private readonly Func<Classification, bool> _match;
    public string Text { get; }

    private LabelFilter(string text, Func<Classification, bool> match) { Text = text; _match = match; }

    public bool Matches(Classification c) => _match(c);

    public override string ToString() => Text;

    public static LabelFilter Parse(string text)
    {
        var tokens = Tokenize(text);
        int i = 0;
        var f = ParseOr(tokens, ref i, text);
        if (i != tokens.Count) throw Error(text, $"unexpected '{tokens[i]}'");
        return new LabelFilter(text.Trim(), f);
    }

    private static Func<Classification, bool> ParseOr(List<string> t, ref int i, string text)
    {
        var left = ParseAnd(t, ref i, text);
        while (i < t.Count && t[i].Equals("or", StringComparison.OrdinalIgnoreCase))
        {
            i++;
            var l = left; var r = ParseAnd(t, ref i, text);
            left = c => l(c) || r(c);
        }
        return left;
    }

    private static Func<Classification, bool> ParseAnd(List<string> t, ref int i, string text)
    {
        var left = ParseCond(t, ref i, text);
        while (i < t.Count && t[i].Equals("and", StringComparison.OrdinalIgnoreCase))
        {
            i++;
            var l = left; var r = ParseCond(t, ref i, text);
            left = c => l(c) && r(c);
        }
        return left;
    }

    private static Func<Classification, bool> ParseCond(List<string> t, ref int i, string text)
    {
        if (i >= t.Count) throw Error(text, "a condition is missing at the end");
        var w = t[i++];
        switch (w.ToLowerInvariant())
        {
            case "all": return _ => true;
            case "classified": return c => c.IsClassified;
            case "unclassified": return c => !c.IsClassified;
            case "label" or "survey" or "reason":
            {
                var field = w.ToLowerInvariant();
                if (i + 1 >= t.Count || t[i] is not ("==" or "!=")) throw Error(text, $"'{w}' must be followed by == or != and a value");
                bool eq = t[i++] == "==";
                var value = t[i++];
                Func<Classification, string?> get = field switch
                {
                    "label" => c => c.Label,
                    "survey" => c => c.Identity.Survey.Name(),
                    _ => c => c.Reason,
                };
                return c => string.Equals(get(c), value, StringComparison.OrdinalIgnoreCase) == eq;
            }
        }
        // A sum of class probabilities (or label_probability) compared with a number.
        var indices = new List<int>();
        bool labelProb = false;
        i--;
        while (true)
        {
            var name = t[i++];
            if (name.Equals("label_probability", StringComparison.OrdinalIgnoreCase)) labelProb = true;
            else
            {
                int k = ClassIndex(name);
                int[] members = k >= 0 ? [k]
                    : ClassFamilies.Find(name)?.Members
                      ?? throw Error(text, $"'{name}' is not a t2 class (known: {string.Join(", ", T2Classes.Names)}), a class family ({ClassFamilies.SNIaFamily.Name}) nor a keyword (all, classified, unclassified, label, survey, reason, label_probability)");
                foreach (var m in members)
                {
                    if (indices.Contains(m)) throw Error(text, $"{T2Classes.Names[m]} is counted twice in the sum (a family counts its classes: {ClassFamilies.SNIaFamily})");
                    indices.Add(m);
                }
            }
            if (i < t.Count && t[i] == "+") { i++; if (i >= t.Count) throw Error(text, "'+' must be followed by a class"); continue; }
            break;
        }
        if (labelProb && indices.Count > 0) throw Error(text, "label_probability cannot be added to class probabilities");
        if (i >= t.Count) throw Error(text, "a comparison (>=, >, <=, <, ==, !=) and a number must follow the class");
        var op = t[i++];
        if (i >= t.Count || !double.TryParse(t[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold))
            throw Error(text, $"'{op}' must be followed by a number such as 0.8");
        i++;
        Func<double, bool> cmp = op switch
        {
            ">=" => v => v >= threshold,
            ">" => v => v > threshold,
            "<=" => v => v <= threshold,
            "<" => v => v < threshold,
            "==" => v => v == threshold,
            "!=" => v => v != threshold,
            _ => throw Error(text, $"'{op}' is not a comparison; use >=, >, <=, <, == or !="),
        };
        var idx = indices.ToArray();
        if (labelProb) return c => c.IsClassified && cmp(c.LabelProbability);
        return c =>
        {
            if (!c.IsClassified || c.Probabilities.Length == 0) return false;
            double s = 0;
            foreach (var k in idx) if (k < c.Probabilities.Length) s += c.Probabilities[k];
            return cmp(s);
        };
    }

    private static int ClassIndex(string name)
    {
        var norm = name.Replace('_', '-');
        return T2Classes.IndexOf(norm);
    }

    private static List<string> Tokenize(string text)
    {
        var list = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            char ch = text[i];
            if (char.IsWhiteSpace(ch)) { i++; continue; }
            if (ch is '>' or '<' or '=' or '!')
            {
                if (i + 1 < text.Length && text[i + 1] == '=') { list.Add(text.Substring(i, 2)); i += 2; }
                else if (ch is '>' or '<') { list.Add(ch.ToString()); i++; }
                else throw Error(text, $"'{ch}' at position {i} must be part of ==, != , >= or <=");
                continue;
            }
            if (ch == '+') { list.Add("+"); i++; continue; }
            int start = i;
            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '-' or '.')) i++;
            if (i == start) throw Error(text, $"unexpected character '{ch}' at position {i}");
            list.Add(text[start..i]);
        }
        if (list.Count == 0) throw Error(text, "the rule is empty; use 'all' to route every label");
        return list;
    }

    private static FormatException Error(string text, string what) => new($"Routing rule \"{text}\": {what}.");
}

/// <summary>A topic and the filter deciding which labels go there.</summary>
public sealed record LabelRoute(string Topic, LabelFilter Filter);

/// <summary>
/// The routing table: every label goes to each topic whose filter matches (typically one <c>all</c> topic plus
/// science topics). Configuration is a map topic -> rule, e.g.
/// <code>"Routes": { "alerts.labels": "all", "alerts.snia": "SNIa >= 0.8", "alerts.unclassified": "unclassified" }</code>
/// </summary>
public sealed class LabelRouter
{
    private readonly LabelRoute[] _routes;
    public IReadOnlyList<LabelRoute> Routes => _routes;

    public LabelRouter(IEnumerable<LabelRoute> routes)
    {
        _routes = routes.ToArray();
        if (_routes.Length == 0) throw new ArgumentException("At least one label route is needed (e.g. Kafka:Labels:Routes:alerts.labels = all).");
    }

    public static LabelRouter FromConfiguration(IEnumerable<KeyValuePair<string, string?>> topicToRule) =>
        new(topicToRule.Select(kv => new LabelRoute(kv.Key, LabelFilter.Parse(kv.Value ?? throw new FormatException($"Route for topic '{kv.Key}' has no rule; use 'all' to route every label.")))));

    /// <summary>Adds the topics this classification goes to; no allocation.</summary>
    public void Match(Classification c, List<string> topics)
    {
        topics.Clear();
        foreach (var r in _routes) if (r.Filter.Matches(c)) topics.Add(r.Topic);
    }
}
