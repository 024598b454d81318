using System.Globalization;
using System.Text.RegularExpressions;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>One sample: metric name, labels (sorted by name) and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Key => Name + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
}

/// <summary>A metric family: its TYPE, HELP and samples.</summary>
internal sealed record PrometheusFamily(string Name, string Type, string? Help, List<PrometheusSample> Samples);

/// <summary>
/// A strict parser of the Prometheus text exposition format (version 0.0.4): it fails on anything a
/// Prometheus server would reject or that the format forbids (bad names, bad escapes, a sample
/// before its TYPE, a TYPE given twice, duplicate series, histograms whose buckets are not
/// cumulative or whose +Inf bucket is not the count).
/// </summary>
internal static partial class PrometheusText
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public static Dictionary<string, PrometheusFamily> Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the exposition must end with a newline");
        }

        var families = new Dictionary<string, PrometheusFamily>(StringComparer.Ordinal);
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var comment = CommentLine().Match(line);
                if (!comment.Success)
                {
                    continue; // A plain comment.
                }

                var (kind, name, rest) = (comment.Groups[1].Value, comment.Groups[2].Value, comment.Groups[3].Value);
                if (kind == "HELP")
                {
                    Require(help.TryAdd(name, rest), lineNumber, $"second HELP for {name}");
                }
                else
                {
                    Require(Types.Contains(rest), lineNumber, $"unknown type '{rest}'");
                    Require(!families.ContainsKey(name), lineNumber, $"second TYPE for {name} (or TYPE after its samples)");
                    families[name] = new PrometheusFamily(name, rest, null, []);
                }

                continue;
            }

            var sample = ParseSample(line, lineNumber);
            Require(series.Add(sample.Key), lineNumber, $"duplicate series {sample.Key}");
            var family = FamilyOf(families, sample.Name);
            Require(family is not null, lineNumber, $"sample {sample.Name} has no TYPE line before it");
            family!.Samples.Add(sample);
        }

        foreach (var (name, family) in families)
        {
            if (family.Type == "histogram")
            {
                CheckHistogram(family);
            }

            families[name] = family with { Help = help.GetValueOrDefault(name) };
        }

        return families;
    }

    private static PrometheusFamily? FamilyOf(Dictionary<string, PrometheusFamily> families, string sampleName)
    {
        if (families.TryGetValue(sampleName, out var exact))
        {
            return exact;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && families.TryGetValue(sampleName[..^suffix.Length], out var family) && family.Type is "histogram" or "summary")
            {
                return family;
            }
        }

        return null;
    }

    private static PrometheusSample ParseSample(string line, int lineNumber)
    {
        var nameMatch = MetricName().Match(line);
        Require(nameMatch.Success, lineNumber, $"bad metric name in '{line}'");
        var name = nameMatch.Value;
        var position = name.Length;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (position < line.Length && line[position] == '{')
        {
            position++;
            while (line[position] != '}')
            {
                var labelMatch = LabelName().Match(line, position);
                Require(labelMatch.Success && labelMatch.Index == position, lineNumber, $"bad label name in '{line}'");
                position += labelMatch.Length;
                Require(line[position] == '=' && line[position + 1] == '"', lineNumber, $"expected =\" in '{line}'");
                position += 2;
                var value = new System.Text.StringBuilder();
                while (line[position] != '"')
                {
                    if (line[position] == '\\')
                    {
                        position++;
                        value.Append(line[position] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"line {lineNumber}: bad escape \\{line[position]}"),
                        });
                    }
                    else
                    {
                        value.Append(line[position]);
                    }

                    position++;
                }

                position++;
                Require(labels.TryAdd(labelMatch.Value, value.ToString()), lineNumber, $"label {labelMatch.Value} twice");
                if (line[position] == ',')
                {
                    position++;
                }
                else
                {
                    Require(line[position] == '}', lineNumber, $"expected , or }} in '{line}'");
                }
            }

            position++;
        }

        Require(position < line.Length && line[position] == ' ', lineNumber, $"expected a space before the value in '{line}'");
        var fields = line[(position + 1)..].Split(' ');
        Require(fields.Length is 1 or 2, lineNumber, $"expected a value and an optional timestamp in '{line}'");
        Require(fields.Length == 1 || long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            lineNumber, $"bad timestamp in '{line}'");
        return new PrometheusSample(name, labels, ParseValue(fields[0], lineNumber));
    }

    private static double ParseValue(string text, int lineNumber) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new FormatException($"line {lineNumber}: '{text}' is not a number"),
    };

    private static void CheckHistogram(PrometheusFamily family)
    {
        foreach (var group in family.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key).Select(l => l.Key + "=" + l.Value))))
        {
            var buckets = group.Where(s => s.Name == family.Name + "_bucket")
                .Select(s => (Le: ParseValue(s.Labels["le"], 0), s.Value)).OrderBy(b => b.Le).ToList();
            var count = group.Single(s => s.Name == family.Name + "_count").Value;
            _ = group.Single(s => s.Name == family.Name + "_sum");
            if (buckets.Count == 0 || !double.IsPositiveInfinity(buckets[^1].Le) || buckets[^1].Value != count)
            {
                throw new FormatException($"{family.Name}{{{group.Key}}}: the +Inf bucket must exist and equal _count");
            }

            for (var i = 1; i < buckets.Count; i++)
            {
                if (buckets[i].Value < buckets[i - 1].Value)
                {
                    throw new FormatException($"{family.Name}{{{group.Key}}}: buckets are not cumulative at le={buckets[i].Le}");
                }
            }
        }
    }

    private static void Require(bool condition, int lineNumber, string message)
    {
        if (!condition)
        {
            throw new FormatException($"line {lineNumber}: {message}");
        }
    }

    [GeneratedRegex(@"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"[a-zA-Z_][a-zA-Z0-9_]*")]
    private static partial Regex LabelName();
}
